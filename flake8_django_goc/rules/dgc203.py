"""DGC203: duplicates-block-constraint."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import CONSTRAINTS

CONCURRENTLY = (
    "PostgreSQL docs: CREATE INDEX CONCURRENTLY",
    "https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY",
)
USING_INDEX = (
    "PostgreSQL docs: ALTER TABLE ... ADD table_constraint_using_index",
    "https://www.postgresql.org/docs/current/sql-altertable.html",
)
NON_ATOMIC = (
    "Django docs: non-atomic migrations",
    "https://docs.djangoproject.com/en/stable/howto/writing-migrations/#non-atomic-migrations",
)

RULE = Rule(
    code="DGC203",
    summary="duplicate rows the table already holds would make the proposed constraint fail",
    name="duplicates-block-constraint",
    what="""
        Reported only by `flake8-django-goc db-check`. For each `UniqueConstraint` a DGC001,
        DGC002 or DGC004 finding proposes, it counts the groups of rows that already share
        the constrained values (one `GROUP BY ... HAVING COUNT(*) > 1` query per proposed
        constraint, limited by `--statement-timeout`), and shows the first few keys and the
        ORM query that lists them. Rows with a NULL in a constrained column are not counted
        (NULLs never collide) unless the fix is `nulls_distinct=False`. It is reported at the
        `class` line of the model whose table gets the constraint.
    """,
    why="""
        The migration that adds the constraint fails with an `IntegrityError` on the first
        duplicate group, usually on the production database only, where the race has been
        inserting duplicates for months. Knowing the count before writing the migration
        turns a failed deployment into a data clean-up task.
    """,
    example="""
        # db-check: DGC203 ledger.Visit: 2 duplicate groups on (user, page) ...
        class Visit(models.Model):
            user = models.CharField(max_length=40)
            page = models.CharField(max_length=200)
    """,
    use_instead="""
        # 1. Merge the duplicates (keep the oldest row of each group):
        from django.db.models import Count, Min

        groups = (
            Visit._base_manager.values("user", "page")
            .annotate(n=Count("pk"), keep=Min("pk"))
            .filter(n__gt=1)
        )
        for group in groups:
            Visit._base_manager.filter(user=group["user"], page=group["page"]).exclude(
                pk=group["keep"]
            ).delete()  # or repoint the rows that reference them first


        # 2. Then add the constraint (on large PostgreSQL tables: see the notes).
        class Visit(models.Model):
            user = models.CharField(max_length=40)
            page = models.CharField(max_length=200)

            class Meta:
                constraints = [
                    models.UniqueConstraint(
                        fields=["user", "page"], name="ledger_visit_user_page_uniq"
                    )
                ]
    """,
    notes="""
        On a large PostgreSQL table, `AddConstraint` holds an ACCESS EXCLUSIVE lock while
        it builds the index. The lock-free path is a non-atomic migration that builds the
        index concurrently, then attaches it as the constraint, and tells Django's state
        about the `UniqueConstraint` with `SeparateDatabaseAndState`:

        ```python
        class Migration(migrations.Migration):
            atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

            dependencies = [("ledger", "0003_previous")]

            operations = [
                migrations.SeparateDatabaseAndState(
                    database_operations=[
                        migrations.RunSQL(
                            'CREATE UNIQUE INDEX CONCURRENTLY "ledger_visit_user_page_uniq" '
                            'ON "ledger_visit" ("user", "page")',
                            # The constraint owns the index once attached: dropping it drops both.
                            reverse_sql='DROP INDEX CONCURRENTLY IF EXISTS '
                            '"ledger_visit_user_page_uniq"',
                        ),
                        migrations.RunSQL(
                            'ALTER TABLE "ledger_visit" ADD CONSTRAINT '
                            '"ledger_visit_user_page_uniq" UNIQUE USING INDEX '
                            '"ledger_visit_user_page_uniq"',
                            reverse_sql='ALTER TABLE "ledger_visit" DROP CONSTRAINT '
                            '"ledger_visit_user_page_uniq"',
                        ),
                    ],
                    state_operations=[
                        migrations.AddConstraint(
                            model_name="visit",
                            constraint=models.UniqueConstraint(
                                fields=["user", "page"], name="ledger_visit_user_page_uniq"
                            ),
                        ),
                    ],
                ),
            ]
        ```

        If the concurrent build fails (a duplicate slipped in meanwhile), PostgreSQL leaves an
        INVALID index: drop it (`DROP INDEX CONCURRENTLY`), merge the duplicates and run the
        migration again. `ALTER TABLE ... USING INDEX` takes its strong lock only for a
        moment. `flake8-django-goc fix-models --database ALIAS` shows these counts before it
        edits the models. See `docs/db-check.md`.
    """,
    references=(CONSTRAINTS, CONCURRENTLY, USING_INDEX, NON_ATOMIC),
    severity="warning",
)
