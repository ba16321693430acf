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


def message(
    aliases: list[str],
    level: str,
    vendor: str,
    shown: str,
    *,
    serializable: bool,
    postgresql: bool,
    mysql_init_command: bool,
    libpq_options: bool,
) -> str:
    """Which databases, their level and where it comes from, why it breaks get_or_create(), the
    fix. What escapes is what tests/test_isolation_race.py sees on PostgreSQL 15 / MariaDB 10.11:
    ``shown`` is the setting as the user wrote it, ``vendor`` the backend's display name."""
    where = " and ".join(f'DATABASES["{name}"]' for name in aliases)
    head = (
        f"{where} runs transactions at {level} on {vendor} ({shown}): inside "
        "transaction.atomic() or ATOMIC_REQUESTS, get_or_create() cannot recover from a "
        "concurrent INSERT of the same row: "
    )
    if serializable and postgresql:
        why = (
            "its INSERT fails with OperationalError 'could not serialize access' (or an "
            "IntegrityError its retry get() cannot answer, since that get() reads the old "
            "snapshot), and the error escapes even though the unique constraint is right."
        )
    elif serializable:
        why = (
            "its SELECT takes shared locks, the two INSERTs deadlock and InnoDB kills one with "
            "OperationalError 1213 'Deadlock found', which escapes even though the unique "
            "constraint is right."
        )
    else:
        why = (
            "after the IntegrityError its retry get() reads the transaction's old snapshot, "
            "misses the row the other request just committed, and the IntegrityError escapes "
            "even though the unique constraint is right."
        )
    retry = "; or retry the whole transaction when it fails."
    if mysql_init_command:
        fix = (
            'take the SET out of init_command and drop "isolation_level": None, so that Django '
            "sets READ COMMITTED, its default"
        )
    elif not postgresql:
        fix = (
            'use READ COMMITTED, Django\'s default: remove "isolation_level" or set it to '
            '"read committed"'
        )
    elif libpq_options:
        fix = (
            'take default_transaction_isolation out of "options", or set "isolation_level": '
            "IsolationLevel.READ_COMMITTED, which takes precedence"
        )
    else:
        fix = (
            'use READ COMMITTED, Django\'s default: remove "isolation_level" or set it to '
            "IsolationLevel.READ_COMMITTED"
        )
    return head + why + " Fix: " + fix + retry
