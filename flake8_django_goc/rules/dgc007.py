"""DGC007: isolation-above-read-committed."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import (
    GET_OR_CREATE,
    MYSQL_ISOLATION,
    POSTGRES_ISOLATION,
    TICKET_27683,
    TICKET_30199,
)

RULE = Rule(
    code="DGC007",
    summary="database isolation level above READ COMMITTED",
    name="isolation-above-read-committed",
    what="""
        Reports a database configured to run transactions above READ COMMITTED:
        `"isolation_level": "repeatable read"` or `"serializable"` on MySQL/MariaDB (or such
        a level in `init_command` when `isolation_level` is `None`), and
        `IsolationLevel.REPEATABLE_READ` or `IsolationLevel.SERIALIZABLE` on PostgreSQL (or
        `-c default_transaction_isolation=...` in `options`). It is reported once, at that
        line of the settings module: every get_or_create-family call on that database is
        affected.
    """,
    why="""
        Inside a transaction (`transaction.atomic()`, `ATOMIC_REQUESTS`) every read sees the
        snapshot the transaction started with. The losing request gets its
        `IntegrityError`, retries the `get()`, and still cannot see the winner's row:

        ```text
        request A and B (in transactions): SELECT -> no row; both INSERT; A commits
        B: IntegrityError -> retry SELECT reads B's old snapshot -> still no row
        get_or_create() re-raises the IntegrityError: a 500 (SERIALIZABLE: OperationalError)
        ```

        The unique constraint is right; the isolation level defeats the recovery.
    """,
    example="""
        DATABASES = {
            "default": {
                "ENGINE": "django.db.backends.mysql",
                "NAME": "shop",
                "OPTIONS": {"isolation_level": "repeatable read"},
            }
        }
    """,
    use_instead="""
        DATABASES = {
            "default": {
                "ENGINE": "django.db.backends.mysql",
                "NAME": "shop",
                # Django's default for MySQL since 2.0.
                "OPTIONS": {"isolation_level": "read committed"},
            }
        }
    """,
    notes="""
        If the higher level is a deliberate choice, keep these calls out of long
        transactions or retry the whole transaction on `IntegrityError` /
        `OperationalError`. Django used MySQL's server default (REPEATABLE READ) before 2.0.
    """,
    references=(GET_OR_CREATE, MYSQL_ISOLATION, POSTGRES_ISOLATION, TICKET_27683, TICKET_30199),
)
