"""Run ``flake8-django-goc ARGS`` recording every statement Django sends, and whether the
session was read-only when it was sent (tests/test_db_check.py).

Usage: python dbcheck_trace.py TRACE.jsonl ARGS...; one JSON line per statement:
{"vendor": ..., "sql": ..., "read_only": true|false}. The state is asked on the driver's own
connection (not through Django), so asking it is not recorded and changes nothing."""

from __future__ import annotations

import json
import sys
from typing import Any


def _read_only(connection: Any) -> bool:
    raw = connection.connection
    if connection.vendor == "postgresql":
        return bool(raw.execute("SHOW transaction_read_only").fetchone()[0] == "on")
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT @@session.tx_read_only")
        return bool(int(cursor.fetchone()[0]))
    finally:
        cursor.close()


def install(path: str) -> None:
    from django.db.backends.base.base import BaseDatabaseWrapper

    out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    original = BaseDatabaseWrapper.__init__

    def record(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        connection = context["connection"]
        line = {"vendor": connection.vendor, "sql": sql, "read_only": _read_only(connection)}
        out.write(json.dumps(line) + "\n")
        out.flush()
        return execute(sql, params, many, context)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.execute_wrappers.append(record)

    BaseDatabaseWrapper.__init__ = init  # type: ignore[method-assign]


if __name__ == "__main__":
    install(sys.argv[1])
    from flake8_django_goc.commands.main import main

    sys.exit(main(sys.argv[2:]))
