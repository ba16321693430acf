"""DGC202: database-unique-not-declared."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import CONSTRAINTS, GET_OR_CREATE

PARTIAL_INDEXES = (
    "PostgreSQL docs: partial indexes",
    "https://www.postgresql.org/docs/current/indexes-partial.html",
)

RULE = Rule(
    code="DGC202",
    summary="the database enforces a uniqueness the models do not declare",
    name="database-unique-not-declared",
    what="""
        Reported only by `flake8-django-goc db-check`, once per index, as information
        (severity "note"; it does not make the exit code 1). The table has a unique
        constraint or unique index that no primary key, `unique=True`, `OneToOneField`,
        `unique_together` or `UniqueConstraint` of the model declares: typically a `RunSQL`
        migration or an index created by hand. Partial indexes are shown with their
        condition.

        `db-check` judges the calls with it, as `--django-goc-extra-unique` would: a call its
        columns cover is not reported. A partial index is used with its condition when the
        condition is simple enough to read (`col = literal`, `col IS [NOT] NULL`, a boolean
        column, joined by AND); an expression index, an INVALID index or a condition it
        cannot read is not used, and the message says so. It is reported at the `class`
        line of the model in its `models.py`.
    """,
    why="""
        The plain check cannot see this index, so it reports calls the database actually
        protects. Worse, the next migration that "fixes" such a call by adding the same
        constraint under another name builds a second index, and code written against the
        models (a bulk insert, a test fixture) fails with an `IntegrityError` nobody
        expected. Declaring the uniqueness on the model (a `UniqueConstraint`, with
        `SeparateDatabaseAndState` to adopt the existing index) makes the models tell the
        truth, for the linter and for the next developer.
    """,
    example="""
        migrations.RunSQL(
            "CREATE UNIQUE INDEX ledger_entry_account_day ON ledger_entry (account_id, day)"
        )
    """,
    use_instead="""
        class Entry(models.Model):
            ...

            class Meta:
                constraints = [
                    models.UniqueConstraint(
                        fields=["account", "day"], name="ledger_entry_account_day"
                    )
                ]
    """,
    notes="""
        Until the model declares it, `--django-goc-extra-unique ledger.Entry:account,day`
        tells the plain check (which never connects) about it.
    """,
    references=(CONSTRAINTS, PARTIAL_INDEXES, GET_OR_CREATE),
    severity="note",
)
