"""DGC002: conditional-constraint-not-met."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import CONDITION, GET_OR_CREATE, TICKET_12579

RULE = Rule(
    code="DGC002",
    summary="covered only by a conditional unique constraint not shown to hold for the new row",
    name="conditional-constraint-not-met",
    fixable=True,
    what="""
        Checks calls covered only by a conditional `UniqueConstraint(condition=Q(...))` when
        the row the call would create is not shown to satisfy the condition. The created row
        is evaluated as Django builds it: the plain lookup values, then `defaults` /
        `create_defaults`, then each field's default. A condition that cannot be evaluated
        (an `F()` expression, a value only known at run time) is reported as not shown.
    """,
    why="""
        A partial unique index only compares rows that satisfy its condition. When the
        created row falls outside it, two concurrent calls both miss in the SELECT and both
        INSERT without any `IntegrityError`:

        ```text
        request A: SELECT ... WHERE owner_id=7            -> no row
        request B: SELECT ... WHERE owner_id=7            -> no row
        request A and B: INSERT (7, 'frozen')             -> two rows, the index ignores both
        ```

        The next `get_or_create(owner=user)` raises `MultipleObjectsReturned` (a 500).
    """,
    example="""
        class Basket(models.Model):
            owner = models.ForeignKey(User, on_delete=models.CASCADE)
            status = models.CharField(max_length=10, default="open")

            class Meta:
                constraints = [
                    models.UniqueConstraint(
                        fields=["owner"], condition=Q(status="open"), name="one_open_basket"
                    ),
                ]


        basket, _ = Basket.objects.get_or_create(owner=user, defaults={"status": "frozen"})
    """,
    use_instead="""
        # Look up the values that put the row under the condition ...
        basket, _ = Basket.objects.get_or_create(owner=user, status="open")

        # ... or, if every row must be unique, make the constraint unconditional.
        models.UniqueConstraint(fields=["owner"], name="shop_basket_owner_uniq")
    """,
    notes="""
        `fix-models` adds the constraint the message names first: when the lookup pins a field
        to a literal (`status="frozen"`), a partial constraint with that literal as its
        condition (as for DGC001), else the unconditional one. Either changes what the table
        accepts (the unconditional one here: one basket per owner, whatever its status); the
        message and fix-models say so ("this makes (owner) unique for every row: check that it
        is the business rule"), so review it, or fix the call instead. MySQL, MariaDB and
        Oracle do not create conditional constraints at all; there such a call is reported as
        DGC001.
    """,
    references=(GET_OR_CREATE, CONDITION, TICKET_12579),
    race=True,
)


def message(call: str, unique_set: str, condition: str, why: str, remedy: str) -> str:
    """``why``: whether the created row fails the condition or is not shown to meet it;
    ``remedy``: the constraints judge offers, each starting with ", or"."""
    return (
        f"{call} is covered only by the conditional {unique_set} with condition {condition}, and "
        f"{why}: concurrent calls can insert duplicate rows. Fix: put values that satisfy the "
        f"condition in the lookup{remedy}."
    )
