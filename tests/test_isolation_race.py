"""The isolation-level trap (DGC007) and the constraints MariaDB does not get, proven on real
PostgreSQL and MariaDB servers with the deterministic two-thread race (docs/architecture.md).

Each settings module under ``fixtures/project/isolation/settings/`` configures one database one
way. Django can be set up once per process (and this pytest process may already be set up with
``goc_project.settings`` by the PostgreSQL race tests), so every module runs in its own
subprocess: this file, run as a script, sets Django up with that module, creates the fixture
app's tables in a database of its own, asks the server which level a transaction really runs at,
computes the plugin's DGC007 findings for the module
(``flake8_django_goc.schema.django.isolation``) and runs the races (tests/race.py's harness,
with a MariaDB-aware ``_prepare_connection``):

- ``badge-atomic`` / ``ticket-atomic``: ``get_or_create()`` on a ``unique=True`` CharField /
  PositiveIntegerField in two threads inside ``transaction.atomic()``: under READ COMMITTED both
  get the same row; above it an error escapes (which one: see ``_outcomes``).
- ``badge-plain``: the same without an outer transaction: one row at every level (the retry
  ``get()`` runs in a fresh transaction), which is why DGC007 speaks of atomic blocks.
- ``seat-plain`` / ``label-plain`` / ``pass-plain``: calls covered only by a partial, a functional
  and a deferrable UniqueConstraint: one row on PostgreSQL, two on MariaDB (Django does not create
  them there), as the case files' ``# expect:`` verdicts (DGC001 under MariaDB settings) say.

Skipped visibly without a server; ``GOC_REQUIRE_PG=1`` / ``GOC_REQUIRE_MARIADB=1`` (.ci/run)
turn the skips into failures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = TESTS_DIR / "fixtures" / "project"
REPO_ROOT = TESTS_DIR.parent
SUBPROCESS_TIMEOUT = 120
ONE, DUP = "one", "dup"  # race.ONE / race.DUP
CASE_FILES = {
    "postgresql": PROJECT_ROOT / "isolation" / "case_isolation_pg.py",
    "mysql": PROJECT_ROOT / "isolation" / "case_isolation_mariadb.py",
}
CHECKS = {
    "badge-atomic": ("case_badge", True),
    "ticket-atomic": ("case_ticket", True),
    "badge-plain": ("case_badge", False),
    "seat-plain": ("case_seat_active", False),
    "label-plain": ("case_label", False),
    "pass-plain": ("case_pass", False),
}
# Constraints Django creates on PostgreSQL but not on MariaDB (partial, functional, deferrable).
SKIPPED_ON_MARIADB = (
    "isolation_seat_active_owner_uniq",
    "isolation_label_lower_name_uniq",
    "isolation_pass_code_deferred_uniq",
)


@dataclass(frozen=True)
class Expect:
    """What one settings module must do on the server."""

    module: str  # under isolation.settings
    level: str  # the level a transaction really runs at, as the server reports it
    dgc007: bool  # whether the plugin reports the module
    outcomes: dict[str, str]  # check -> outcome


IE, OE = "error:IntegrityError", "error:OperationalError"


def _outcomes(level: str, vendor: str) -> dict[str, str]:
    """What the server does at ``level`` (checked on PostgreSQL 15 and MariaDB 10.11)."""
    # Outside atomic(): one row at every level where a constraint exists; MariaDB has none for
    # Seat (partial), Label (functional) and Pass (deferrable), so two rows there.
    skipped = ONE if vendor == "postgresql" else DUP
    plain = {"badge-plain": ONE, **{f"{m}-plain": skipped for m in ("seat", "label", "pass")}}
    if level == "READ COMMITTED":
        return {"badge-atomic": ONE, "ticket-atomic": ONE, **plain}
    if level == "REPEATABLE READ":
        # The retry get() reads the old snapshot: the IntegrityError of the INSERT escapes.
        return {"badge-atomic": IE, "ticket-atomic": IE, **plain}
    if vendor == "postgresql":
        # SSI fails the INSERT with "could not serialize access" (OperationalError) when the
        # SELECT's predicate lock sits on the unique index (Ticket.number). For a unique CharField
        # the SELECT scans Django's extra varchar_pattern_ops index instead, SSI sees no conflict
        # on the unique index, and the unique violation (IntegrityError) escapes as under
        # REPEATABLE READ.
        return {"badge-atomic": IE, "ticket-atomic": OE, **plain}
    # InnoDB makes SERIALIZABLE SELECTs locking reads: both threads hold a shared gap lock, both
    # INSERTs wait for the other's, and InnoDB kills one (1213 "Deadlock found": OperationalError).
    return {"badge-atomic": OE, "ticket-atomic": OE, **plain}


def _expect(module: str, level: str, dgc007: bool) -> Expect:
    vendor = "postgresql" if module.startswith("pg_") else "mysql"
    return Expect(module, level, dgc007, _outcomes(level, vendor))


RC, RR, SER = "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"
PG = [
    _expect("pg_default", RC, False),
    _expect("pg_read_committed", RC, False),
    _expect("pg_repeatable_read", RR, True),
    _expect("pg_serializable", SER, True),
    _expect("pg_libpq_options", SER, True),
]
MARIADB = [
    _expect("mariadb_default", RC, False),
    _expect("mariadb_read_committed", RC, False),
    _expect("mariadb_repeatable_read", RR, True),
    _expect("mariadb_serializable", SER, True),
    _expect("mariadb_init_command", RR, True),
    # Django's SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED runs after init_command.
    _expect("mariadb_init_command_overridden", RC, False),
    # "isolation_level": None: the server's default, REPEATABLE READ on a stock MariaDB. The
    # settings do not show the server's configuration, so DGC007 stays silent (the rule);
    # the race records what a stock server does with it.
    _expect("mariadb_server_default", RR, False),
]


# ------------------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def mariadb() -> Iterator[Any]:
    """A throwaway MariaDB server (tests/mariadb.py); skip without one, fail under
    ``GOC_REQUIRE_MARIADB=1``."""
    from mariadb import MariaDBUnavailable, provide_mariadb

    try:
        server = provide_mariadb()
    except MariaDBUnavailable as exc:
        if os.environ.get("GOC_REQUIRE_MARIADB") == "1":
            pytest.fail(f"MariaDB is required (GOC_REQUIRE_MARIADB=1): {exc}", pytrace=False)
        pytest.skip(f"no MariaDB server for the isolation race tests: {exc}")
    try:
        yield server
    finally:
        server.stop()


def _pg_database(postgres: Any, name: str) -> dict[str, str]:
    """A fresh database per settings module, so the subprocesses can run side by side."""
    import psycopg

    with psycopg.connect(
        dbname=postgres.name,
        user=postgres.user,
        password=postgres.password,
        host=postgres.host,
        port=postgres.port,
        autocommit=True,
        connect_timeout=5,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return {**postgres.env, "GOC_PG_NAME": name}


def _run_module(module: str, vendor: str, env: dict[str, str]) -> dict[str, Any]:
    checks = ",".join(CHECKS)
    full_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full_env.update(env)
    done = subprocess.run(
        [sys.executable, __file__, f"isolation.settings.{module}", vendor, checks],
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        pytest.fail(
            f"the race subprocess for {module} failed (exit {done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}",
            pytrace=False,
        )
    return json.loads(lines[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def pg_results(postgres: Any) -> dict[str, dict[str, Any]]:
    def run(expect: Expect) -> dict[str, Any]:
        env = _pg_database(postgres, f"goc_iso_{expect.module}")
        return _run_module(expect.module, "postgresql", env)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip([e.module for e in PG], pool.map(run, PG), strict=True))


@pytest.fixture(scope="module")
def mariadb_results(mariadb: Any) -> dict[str, dict[str, Any]]:
    def run(expect: Expect) -> dict[str, Any]:
        name = f"goc_iso_{expect.module}"
        mariadb.create_database(name)
        return _run_module(expect.module, "mysql", {**mariadb.env, "GOC_MARIADB_NAME": name})

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip([e.module for e in MARIADB], pool.map(run, MARIADB), strict=True))


# --------------------------------------------------------------------------------------- tests


def _check(expect: Expect, result: dict[str, Any]) -> None:
    where = f"isolation/settings/{expect.module}.py"
    assert result["level"] == expect.level, (
        f"{where}: the server ran the transaction at {result['level']}, expected {expect.level}"
    )
    codes = [f["code"] for f in result["findings"]]
    assert codes == (["DGC007"] if expect.dgc007 else []), (
        f"{where} at {result['level']}: the plugin reported {result['findings']}"
    )
    for check, wanted in expect.outcomes.items():
        got = result["races"][check]
        assert got["outcome"] == wanted, (
            f"{where} at {result['level']}, {check}: expected {wanted!r}; {got['describe']}"
        )


@pytest.mark.parametrize("expect", PG, ids=[e.module for e in PG])
def test_postgresql(expect: Expect, pg_results: dict[str, dict[str, Any]]) -> None:
    _check(expect, pg_results[expect.module])


@pytest.mark.parametrize("expect", MARIADB, ids=[e.module for e in MARIADB])
def test_mariadb(expect: Expect, mariadb_results: dict[str, dict[str, Any]]) -> None:
    _check(expect, mariadb_results[expect.module])


def _verdicts_match_races(vendor: str, result: dict[str, Any]) -> None:
    """Each case file's ``# expect:`` verdicts (checked against flake8 by test_cases.py) predict
    the plain race on the server (race.expected_race_outcome: DGC001 -> two rows)."""
    from race import expected_race_outcome, parse_case_file

    cases = {c.name: c for c in parse_case_file(CASE_FILES[vendor])}
    for check, (name, atomic) in CHECKS.items():
        if atomic:
            continue
        got = result["races"][check]
        expected = expected_race_outcome(cases[name])
        assert got["outcome"] == expected, (
            f"{CASE_FILES[vendor].name} {name} (expect: {', '.join(sorted(cases[name].codes))}):"
            f" {got['describe']}"
        )


def test_mariadb_skipped_constraints_match_the_verdicts(
    mariadb_results: dict[str, dict[str, Any]],
) -> None:
    """Partial, functional and deferrable unique constraints: not created on MariaDB, so the
    plugin's DGC001 under MariaDB settings is the duplicate the server really lets through."""
    result = mariadb_results["mariadb_default"]
    assert {name: result["constraints"][name] for name in SKIPPED_ON_MARIADB} == dict.fromkeys(
        SKIPPED_ON_MARIADB, False
    )
    _verdicts_match_races("mysql", result)


def test_postgresql_creates_them(pg_results: dict[str, dict[str, Any]]) -> None:
    result = pg_results["pg_default"]
    assert all(result["constraints"][name] for name in SKIPPED_ON_MARIADB), result["constraints"]
    _verdicts_match_races("postgresql", result)


# ----------------------------------------------------------------------- the subprocess driver


def _prepare_connection() -> None:
    """race._prepare_connection for both servers: no lock wait or statement may hang a run."""
    from django.db import connection
    from race import STATEMENT_TIMEOUT_MS

    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            seconds = STATEMENT_TIMEOUT_MS // 1000
            cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {seconds}")
            cursor.execute(f"SET SESSION max_statement_time = {seconds}")
        else:
            cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
            cursor.execute(f"SET lock_timeout = {STATEMENT_TIMEOUT_MS}")


def _observed_level() -> str:
    """The level the server reports inside ``transaction.atomic()``."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "mysql":
            try:
                cursor.execute("SELECT @@transaction_isolation")  # MariaDB 11.1+, MySQL 8
            except Exception:
                cursor.execute("SELECT @@tx_isolation")
        else:
            cursor.execute("SHOW transaction_isolation")
        (value,) = cursor.fetchone()
    connection.close()
    return " ".join(str(value).replace("-", " ").upper().split())


def _create_tables() -> dict[str, bool]:
    """Create the fixture app's tables; return which of SKIPPED_ON_MARIADB exist."""
    from django.apps import apps
    from django.db import connection

    models = list(apps.get_app_config("isolation").get_models())
    existing = set(connection.introspection.table_names())
    with connection.schema_editor() as editor:
        for model in models:
            if model._meta.db_table in existing:  # left by an earlier run on a reused server
                editor.delete_model(model)
            editor.create_model(model)
    found: set[str] = set()
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            found.update(connection.introspection.get_constraints(cursor, table))
    return {name: name in found for name in SKIPPED_ON_MARIADB}


def _reset() -> None:
    from django.apps import apps
    from django.db import connection

    with connection.cursor() as cursor:
        for model in apps.get_app_config("isolation").get_models():
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def _row_count(name: str) -> int:
    from django.apps import apps

    model = apps.get_model("isolation", name.split("_")[1].capitalize())
    return int(model.objects.count())


def main(argv: list[str]) -> int:
    settings_module, vendor, checks = argv
    sys.path[:0] = [str(PROJECT_ROOT), str(TESTS_DIR), str(REPO_ROOT)]
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django

    django.setup()
    import race
    from django.db import connections

    from flake8_django_goc.schema.django.isolation import isolation_findings

    findings = [
        {"code": f.code, "line": f.line, "path": f.path, "message": f.message}
        for f in isolation_findings(settings_module)
    ]
    constraints = _create_tables()
    level = _observed_level()
    race._prepare_connection = _prepare_connection  # type: ignore[assignment]
    cases = {case.name: case for case in race.parse_case_file(CASE_FILES[vendor])}
    races = {}
    for check in checks.split(","):
        name, atomic = CHECKS[check]
        _reset()
        result = race.race(cases[name], atomic=atomic)
        races[check] = {
            "outcome": result.outcome,
            "describe": result.describe(),
            "rows": _row_count(name),
        }
    connections.close_all()
    output = {
        "settings": settings_module,
        "level": level,
        "findings": findings,
        "constraints": constraints,
        "races": races,
    }
    print(json.dumps(output))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
