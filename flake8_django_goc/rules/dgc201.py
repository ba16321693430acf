"""DGC201: declared-unique-missing-in-database."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import CONSTRAINTS, GET_OR_CREATE

MIGRATE = (
    "Django docs: the migrate command (--plan, showmigrations)",
    "https://docs.djangoproject.com/en/stable/ref/django-admin/#migrate",
)

RULE = Rule(
    code="DGC201",
    summary="a uniqueness the models declare is missing in the database",
    name="declared-unique-missing-in-database",
    what="""
        Reported only by `flake8-django-goc db-check`, which reads the database. A primary
        key, `unique=True` field, `OneToOneField`, `unique_together` or `UniqueConstraint`
        (conditional, functional and deferrable ones too) that a model declares has no
        matching unique constraint or index in the table of the database the model is written
        to (`router.db_for_write`). The message names the table, the columns, the constraint
        and the likely cause: the first unapplied migration of the app that mentions it, an
        applied migration after which it was dropped, or no migration at all.

        It is reported at the `class` line of the model in its `models.py`. Every call whose
        verdict relied on that uniqueness is judged again without it, so a call the plain
        check accepts can come out as DGC001 from `db-check`.
    """,
    why="""
        Every other verdict trusts the models, but only the database enforces uniqueness. A
        migration that was never applied on this server, a constraint dropped by hand during
        an incident, or a model change without a migration leaves the table unprotected:
        concurrent `get_or_create()` calls insert duplicates and later `get()` calls raise
        `MultipleObjectsReturned`.
    """,
    example="""
        # models.py declares it ...
        class Account(models.Model):
            number = models.CharField(max_length=20)

            class Meta:
                constraints = [
                    models.UniqueConstraint(fields=["number"], name="ledger_account_number_uniq")
                ]

        # ... but the database lost it:
        # ALTER TABLE ledger_account DROP CONSTRAINT ledger_account_number_uniq;
    """,
    use_instead="""
        # Apply the migration that creates it (python manage.py migrate ledger), or, when it
        # was dropped outside the migrations, create it again after removing duplicates:
        # ALTER TABLE ledger_account ADD CONSTRAINT ledger_account_number_uniq UNIQUE (number);
    """,
    notes="""
        `db-check` only reads (a read-only transaction, introspection and SELECTs). DGC203
        tells how many duplicate groups would make re-creating the constraint fail; see
        `docs/db-check.md` for the lock-free way on large PostgreSQL tables.
    """,
    references=(CONSTRAINTS, MIGRATE, GET_OR_CREATE),
)
