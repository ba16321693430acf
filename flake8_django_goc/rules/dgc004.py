"""DGC004: null-in-unique-set."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import GET_OR_CREATE, NULLS_DISTINCT, TICKET_34701

RULE = Rule(
    code="DGC004",
    summary="covering unique sets contain a nullable field looked up as None (NULLs never collide)",
    name="null-in-unique-set",
    fixable=True,
    what="""
        Checks calls whose every covering unique set contains a nullable field the lookup
        sets to `None` (on Oracle, also `""`, which Oracle stores as NULL).
    """,
    why="""
        A unique constraint never compares NULLs: two rows `("SPRING", NULL)` do not
        collide (PostgreSQL, MySQL, SQLite). So the race inserts both:

        ```text
        request A and B: SELECT ... WHERE code='SPRING' AND campaign IS NULL -> no row
        request A and B: INSERT ('SPRING', NULL)                           -> two rows
        ```

        and every later `get_or_create(code="SPRING", campaign=None)` raises
        `MultipleObjectsReturned` (a 500).
    """,
    example="""
        class Coupon(models.Model):
            code = models.CharField(max_length=20)
            campaign = models.CharField(max_length=50, null=True, blank=True)

            class Meta:
                unique_together = [("code", "campaign")]


        coupon, _ = Coupon.objects.get_or_create(code=code, campaign=None)
    """,
    use_instead="""
        class Coupon(models.Model):
            code = models.CharField(max_length=20)
            campaign = models.CharField(max_length=50, null=True, blank=True)

            class Meta:
                constraints = [
                    # PostgreSQL 15+, Django 5.0+: NULLs compare equal here.
                    models.UniqueConstraint(
                        fields=["code", "campaign"],
                        nulls_distinct=False,
                        name="shop_coupon_code_campaign_uniq",
                    ),
                ]


        coupon, _ = Coupon.objects.get_or_create(code=code, campaign=None)
    """,
    notes="""
        The fix names only what the model's database can do. `nulls_distinct=False` needs
        Django 5.0+ and PostgreSQL 15+; other databases skip such a constraint, so it is only
        offered on PostgreSQL. Where the database creates partial unique indexes but has no
        `nulls_distinct` (SQLite, PostgreSQL before 15), the fix is a partial constraint over
        the other fields for the rows whose nullable field is NULL:
        `models.UniqueConstraint(fields=["code"], condition=models.Q(campaign__isnull=True),
        name=...)`. On MySQL, MariaDB and Oracle neither exists: look up a non-null value
        instead (an empty string, a sentinel row), or make the column NOT NULL with a default.
    """,
    references=(GET_OR_CREATE, NULLS_DISTINCT, TICKET_34701),
    race=True,
)


def message(call: str, nullable: str, unique_set: str, remedy: str) -> str:
    """``remedy``: what the database can do with NULLs, starting with ", or"."""
    return (
        f"{call} sets nullable {nullable} to None, and NULLs never collide in {unique_set}: "
        f"concurrent calls can insert duplicate rows. Fix: look up a non-null value{remedy}."
    )
