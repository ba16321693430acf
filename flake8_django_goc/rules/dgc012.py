"""DGC012: bulk-conflict-without-constraint."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import BULK_CREATE, CONSTRAINTS

RULE = Rule(
    code="DGC012",
    summary="bulk_create() conflict handling no unique constraint of the model can honour",
    name="bulk-conflict-without-constraint",
    fixable=True,
    what="""
        Checks `bulk_create()` and `abulk_create()`:

        - with `update_conflicts=True` whose literal `unique_fields` (`pk` and attnames count)
          are not exactly the fields of an enforced, unconditional, non-deferred unique
          constraint of the model (primary key, `unique=True`, `unique_together`,
          `UniqueConstraint`) on PostgreSQL and SQLite; on MySQL/MariaDB whenever
          `unique_fields` is given, which Django rejects there;
        - with `ignore_conflicts=True` on a model whose only uniqueness is its auto primary
          key, when the objects come from the model's constructor without a primary key (a
          list, list comprehension or generator of `Model(...)` in the same function).
    """,
    why="""
        `update_conflicts` becomes `INSERT ... ON CONFLICT (unique_fields) DO UPDATE`.
        PostgreSQL and SQLite accept it only when the columns are exactly those of a unique
        index; anything else fails on every call, a 500 in a view (PostgreSQL: `there is no
        unique or exclusion constraint matching the ON CONFLICT specification`; SQLite:
        `ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint`). A
        conditional constraint cannot be used without its `WHERE` clause, which Django does not
        write.

        `ignore_conflicts` becomes `ON CONFLICT DO NOTHING` (`INSERT IGNORE` on MySQL). With
        nothing unique but a fresh auto primary key, no row ever conflicts: the duplicates the
        call was written to skip are all inserted, silently.
    """,
    example="""
        class Rate(models.Model):
            currency = models.CharField(max_length=3)
            day = models.DateField()
            value = models.DecimalField(max_digits=12, decimal_places=6)

            class Meta:
                unique_together = [("currency", "day")]


        class LogLine(models.Model):
            source = models.CharField(max_length=50)
            text = models.TextField()


        def store(rates, lines):
            Rate.objects.bulk_create(
                rates, update_conflicts=True, unique_fields=["currency"], update_fields=["value"]
            )
            LogLine.objects.bulk_create(
                [LogLine(source=s, text=t) for s, t in lines], ignore_conflicts=True
            )
    """,
    use_instead="""
        class LogLine(models.Model):
            source = models.CharField(max_length=50)
            text = models.TextField()

            class Meta:
                constraints = [
                    models.UniqueConstraint(fields=["source", "text"], name="logline_uniq"),
                ]


        def store(rates, lines):
            Rate.objects.bulk_create(
                rates,
                update_conflicts=True,
                unique_fields=["currency", "day"],
                update_fields=["value"],
            )
            LogLine.objects.bulk_create(
                [LogLine(source=s, text=t) for s, t in lines], ignore_conflicts=True
            )
    """,
    notes="""
        `fix-models` adds a `UniqueConstraint` on `unique_fields` when no unique set of the
        model has exactly those fields. Unmanaged models (`managed = False`) and multi-table
        inheritance children (which `bulk_create()` refuses) are not judged.
    """,
    references=(BULK_CREATE, CONSTRAINTS),
)
