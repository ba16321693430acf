"""``flake8-django-goc db-check`` against real servers, run as a user runs it (a subprocess).

The fixture project ``tests/fixtures/dbcheck_project/`` is migrated to 0002 on a database of its
own, then changed by hand: the constraint of ledger.Account dropped, unique indexes added (an
expression one, a partial one), duplicate rows inserted; 0003 (ledger.Tag's constraint) stays
unapplied. Its files carry the expected codes on the lines where they are reported
(``# db:`` both servers, ``# pg:`` / ``# mariadb:`` one of them, ``# check:`` the plain check).
db-check runs as a role that can only read (CONNECT + SELECT).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS / "fixtures" / "dbcheck_project"
ROOT = TESTS.parent
SETTINGS = "dbcheck_site.settings"
RO_USER = "goc_dbcheck_ro"
RO_PASSWORD = "s3cret-ro-Pa55"
WRONG_PASSWORD = "Wr0ng-Pa55-xyzzy"
TIMEOUT = 120
MARKER = re.compile(r"#\s*((?:check|db|pg|mariadb):\s*(?:ok|DGC\d{3}).*)$")
ALLOWED_PG = re.compile(
    r"^\s*(SELECT|SHOW|BEGIN READ ONLY|ROLLBACK|SET LOCAL statement_timeout = \d+)\b", re.I
)
ALLOWED_MARIADB = re.compile(
    r"^\s*(SELECT|SHOW|START TRANSACTION READ ONLY|ROLLBACK|SET STATEMENT max_statement_time="
    r"[\d.]+ FOR SELECT)\b",
    re.I,
)


# ------------------------------------------------------------------------------ expectations


def expected(vendor: str, which: str = "db") -> Counter[tuple[str, int, str]]:
    """(path, line, code) the fixture's comments expect, for ``vendor`` ("pg" or "mariadb")."""
    wanted: Counter[tuple[str, int, str]] = Counter()
    for path in sorted((PROJECT / "ledger").glob("*.py")):
        rel = path.relative_to(PROJECT).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = MARKER.search(line)
            if not match:
                continue
            parts = dict(
                (key.strip(), value.strip())
                for key, _, value in (p.partition(":") for p in match.group(1).split("|"))
            )
            codes = parts.get(vendor, parts.get(which)) if which == "db" else parts.get(which)
            for code in (codes or "").split(","):
                if code.strip() and code.strip() != "ok":
                    wanted[(rel, number, code.strip())] += 1
    return wanted


def run_command(env: dict[str, str], *args: str, trace: Path | None = None) -> Any:
    full = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full.update(env)
    full["FLAKE8_DJANGO_GOC_CACHE_DIR"] = str(PROJECT / ".cache-unused")
    prefix = [str(TESTS / "dbcheck_trace.py"), str(trace)] if trace else ["-m", "flake8_django_goc"]
    return subprocess.run(
        [sys.executable, *prefix, *args],
        cwd=PROJECT,
        env=full,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def db_check(env: dict[str, str], *args: str, trace: Path | None = None) -> Any:
    return run_command(
        env, "db-check", "--django-settings-module", SETTINGS, *args, "ledger", trace=trace
    )


def findings(done: Any) -> list[dict[str, Any]]:
    assert done.returncode in (0, 1), f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return list(json.loads(done.stdout)["findings"])


def located(found: list[dict[str, Any]]) -> Counter[tuple[str, int, str]]:
    return Counter((f["path"], f["line"], f["code"]) for f in found)


def message(found: list[dict[str, Any]], path: str, code: str, text: str) -> str:
    hits = [f["message"] for f in found if f["path"] == path and f["code"] == code]
    assert any(text in m for m in hits), f"no {code} in {path} says {text!r}: {hits}"
    return next(m for m in hits if text in m)


# ---------------------------------------------------------------------------------- PostgreSQL


def _pg(postgres: Any, dbname: str, user: str | None = None, password: str | None = None) -> Any:
    import psycopg

    return psycopg.connect(
        dbname=dbname,
        user=user or postgres.user,
        password=password if user else postgres.password,
        host=postgres.host,
        port=postgres.port,
        autocommit=True,
        connect_timeout=5,
    )


PG_HAND_CHANGES = (
    "ALTER TABLE ledger_account DROP CONSTRAINT ledger_account_number_uniq",
    "CREATE UNIQUE INDEX ledger_entry_memo_lower ON ledger_entry (lower(memo))",
    "CREATE UNIQUE INDEX ledger_seat_active_holder ON ledger_seat (holder) WHERE active",
    """ALTER TABLE ledger_tag ADD CONSTRAINT ledger_tag_slug_deferred UNIQUE (slug)
       DEFERRABLE INITIALLY DEFERRED""",
    "INSERT INTO ledger_account (number) VALUES ('A-1'), ('A-1'), ('A-2')",
    """INSERT INTO ledger_visit ("user", page) VALUES ('ann', '/'), ('ann', '/'), ('ann', '/'),
       ('bob', '/x'), ('bob', '/x'), ('cy', '/')""",
)


@pytest.fixture(scope="module")
def pg_env(postgres: Any) -> Iterator[dict[str, str]]:
    """The fixture database, and the environment that makes db-check use the read-only role."""
    name = "goc_dbcheck"
    with _pg(postgres, postgres.name) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"DROP ROLE IF EXISTS {RO_USER}")
        conn.execute(f"CREATE ROLE {RO_USER} LOGIN PASSWORD '{RO_PASSWORD}'")
        conn.execute(f"ALTER ROLE {RO_USER} SET log_statement = 'all'")
        hba = conn.execute("SHOW hba_file").fetchone()[0]
    # The throwaway cluster trusts every local login; make the read-only role use a password
    # (first matching line wins), so a wrong one is refused.
    # Only ever the throwaway cluster's file: an external server's auth is its owner's.
    rule = f"host all {RO_USER} 127.0.0.1/32 scram-sha-256\n"
    if _server_log(postgres) is not None:
        text = Path(hba).read_text()
        if rule not in text:
            Path(hba).write_text(rule + text)
    env = {**postgres.env, "GOC_PG_NAME": name, "DBCHECK_VENDOR": "postgresql"}
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "ledger", "0002"],
        cwd=PROJECT,
        env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": SETTINGS},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    with _pg(postgres, name) as conn:
        conn.execute("SELECT pg_reload_conf()")
        for statement in PG_HAND_CHANGES:
            conn.execute(statement)
        conn.execute(f'GRANT CONNECT ON DATABASE "{name}" TO {RO_USER}')
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {RO_USER}")
    yield {**env, "DBCHECK_USER": RO_USER, "DBCHECK_PASSWORD": RO_PASSWORD}


def test_pg_role_can_only_read(postgres: Any, pg_env: dict[str, str]) -> None:
    """The role db-check runs as really cannot write: any write db-check tried would fail."""
    import psycopg

    with _pg(postgres, "goc_dbcheck", RO_USER, RO_PASSWORD) as conn:
        for statement in (
            "INSERT INTO ledger_tag (slug) VALUES ('x')",
            "CREATE TABLE dbcheck_probe (id int)",
            "DELETE FROM django_migrations",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with pytest.raises(psycopg.OperationalError):
        _pg(postgres, "goc_dbcheck", RO_USER, WRONG_PASSWORD)


def test_pg_reports_exactly_the_expected_findings(pg_env: dict[str, str]) -> None:
    found = findings(db_check(pg_env, "--format", "json"))
    assert located(found) == expected("pg")
    models = "ledger/models.py"
    assert {f["column"] for f in found if f["path"] == models} == {1}
    message(found, models, "DGC201", "the applied migration ledger.0001_initial created it")
    message(found, models, "DGC201", "the migration ledger.0003_tag_slug_uniq that adds it")
    message(found, models, "DGC201", "table ledger_account in database 'default'")
    visits = message(found, models, "DGC203", "ledger_visit_user_page_uniq")
    assert "holds 2 duplicate group(s)" in visits
    assert "user='ann', page='/'; user='bob', page='/x'" in visits
    assert 'Visit.objects.values("user", "page").annotate(n=Count("pk")).filter(n__gt=1)' in visits
    assert "holds 1 duplicate group(s)" in message(found, models, "DGC203", "number='A-1'")
    message(found, models, "DGC202", "'ledger_entry_account_day' on (account_id, day)")
    message(found, models, "DGC202", "it indexes expressions")
    message(found, models, "DGC202", "WHERE active, which ledger.Seat does not declare")
    message(found, models, "DGC202", "'ledger_tag_slug_deferred' on (slug) (DEFERRABLE INITIALLY")
    message(found, "ledger/views.py", "DGC003", "deferrable unique index in the database on slug")
    levels = {f["code"]: f["level"] for f in found}
    assert levels == {"DGC001": "error", "DGC002": "error", "DGC003": "error"} | {
        "DGC201": "error",
        "DGC202": "note",
        "DGC203": "warning",
    }
    account = message(found, "ledger/views.py", "DGC001", "Account.objects")
    assert "'ledger_account_number_uniq' is missing in database 'default' (DGC201)" in account


def test_pg_call_findings_sit_where_the_check_puts_them(pg_env: dict[str, str]) -> None:
    """The plain check trusts the models (``# check:``); db-check's call findings have its
    positions (line and column) where both report."""
    plain = run_command(
        {**pg_env, "GOC_PG_PORT": "1"},  # the plain check never connects
        *("--django-settings-module", SETTINGS, "--no-cache", "--format", "json", "ledger"),
    )
    checked = findings(plain)
    assert located(checked) == expected("pg", "check")
    where = {(f["path"], f["line"]): f["column"] for f in checked}
    both = [f for f in findings(db_check(pg_env, "--format", "json")) if f["path"].endswith("s.py")]
    shared = [f for f in both if (f["path"], f["line"]) in where]
    assert len(shared) == 3  # the Entry (account, memo), Visit and holder-only Seat calls
    assert all(where[(f["path"], f["line"])] == f["column"] for f in shared)


def test_pg_every_format(pg_env: dict[str, str]) -> None:
    wanted = expected("pg")
    total = sum(wanted.values())
    default = db_check(pg_env)
    assert default.returncode == 1, default.stderr
    lines = default.stdout.splitlines()
    assert (
        Counter((line.split(":")[0], int(line.split(":")[1]), line.split(" ")[1]) for line in lines)
        == wanted
    )
    github = db_check(pg_env, "--format", "github").stdout.splitlines()
    assert len(github) == total
    assert sum(line.startswith("::notice ") for line in github) == wanted_count(wanted, "DGC202")
    sarif = json.loads(db_check(pg_env, "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert Counter(r["ruleId"] for r in results) == Counter(
        code for _, _, code in wanted.elements()
    )
    rules = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"DGC201", "DGC202", "DGC203"} <= rules
    assert {r["level"] for r in results if r["ruleId"] == "DGC202"} == {"note"}


def wanted_count(wanted: Counter[tuple[str, int, str]], code: str) -> int:
    return sum(n for (_, _, c), n in wanted.items() if c == code)


def test_pg_database_option_and_selection(pg_env: dict[str, str]) -> None:
    unknown = db_check(pg_env, "--database", "other")
    assert unknown.returncode == 2
    assert "--database 'other' is not in DATABASES" in unknown.stderr
    only = findings(
        db_check(pg_env, "--database", "default", "--select", "DGC2", "--format", "json")
    )
    assert {f["code"] for f in only} == {"DGC201", "DGC202", "DGC203"}


def test_pg_sends_only_reads_inside_read_only_transactions(
    postgres: Any, pg_env: dict[str, str], tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"
    log = _server_log(postgres)
    start = log.stat().st_size if log else 0
    done = db_check(pg_env, "--format", "json", trace=trace)
    assert located(findings(done)) == expected("pg")
    sent = [json.loads(line) for line in trace.read_text().splitlines()]
    assert sent, "nothing was recorded"
    assert all(s["read_only"] for s in sent), [s for s in sent if not s["read_only"]]
    depth = 0
    for s in sent:
        sql = s["sql"].strip()
        assert ALLOWED_PG.match(sql), sql
        if sql == "BEGIN READ ONLY":
            assert depth == 0
            depth = 1
        elif sql == "ROLLBACK":
            depth = 0
        else:
            assert depth == 1, f"sent outside the read-only transaction: {sql[:80]}"
    counts = [s for s in sent if "HAVING COUNT(*) > 1" in s["sql"]]
    # One per constraint a finding proposes: Account, Entry (account, memo), Visit, Seat.
    assert len(counts) == 4
    if log is None:
        pytest.skip("not a throwaway cluster: its log cannot be read (the trace above passed)")
    # The server's own record of the session (log_statement = 'all' for the role), statements
    # sent outside Django's cursors included.
    entries = re.split(r"^(?=\d{4}-\d\d-\d\d )", log.read_text()[start:], flags=re.M)
    logged = [
        e.split("LOG:  statement: ", 1)[1].strip() for e in entries if "LOG:  statement: " in e
    ]
    assert logged
    assert all(ALLOWED_PG.match(sql) for sql in logged), [
        s for s in logged if not ALLOWED_PG.match(s)
    ]


def _server_log(postgres: Any) -> Path | None:
    prefix = "temporary cluster in "
    if not postgres.origin.startswith(prefix):
        return None
    path = Path(postgres.origin[len(prefix) :]) / "server.log"
    return path if path.is_file() else None


def test_pg_wrong_password_is_one_paragraph_without_secrets(pg_env: dict[str, str]) -> None:
    done = db_check({**pg_env, "DBCHECK_PASSWORD": WRONG_PASSWORD})
    assert done.returncode == 2
    assert done.stdout == ""
    err = done.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "cannot connect to database 'default'" in err
    assert "password authentication failed" in err
    assert "Traceback" not in err
    for secret in (WRONG_PASSWORD, RO_PASSWORD):
        assert secret not in done.stderr + done.stdout


def test_pg_unreachable_server(pg_env: dict[str, str]) -> None:
    done = db_check({**pg_env, "GOC_PG_PORT": "1"})
    assert done.returncode == 2
    assert "cannot connect to database 'default'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert RO_PASSWORD not in done.stderr


def test_pg_statement_timeout_bounds_every_read(postgres: Any, pg_env: dict[str, str]) -> None:
    """A table another session holds locked: db-check gives up after --statement-timeout with
    one paragraph, instead of waiting for the lock."""
    import time

    import psycopg

    with psycopg.connect(
        dbname="goc_dbcheck",
        user=postgres.user,
        password=postgres.password,
        host=postgres.host,
        port=postgres.port,
        connect_timeout=5,
    ) as locker:
        locker.execute("LOCK TABLE ledger_visit IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        done = db_check(pg_env, "--statement-timeout", "1")
        elapsed = time.monotonic() - started
        locker.rollback()
    assert done.returncode == 2, done.stdout
    assert "statement timeout" in done.stderr and "--statement-timeout (1 s)" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert elapsed < 30


def test_pg_statement_timeout_stops_a_long_count(postgres: Any, pg_env: dict[str, str]) -> None:
    """On a big table the duplicate count stops at --statement-timeout and DGC203 says so; the
    other counts still report. (2M rows: the count takes about 1 s here, 300k rows took under
    the 0.2 s timeout on a fast machine.)"""
    with _pg(postgres, postgres.name) as conn:
        conn.execute("DROP DATABASE IF EXISTS goc_dbcheck_big")
        conn.execute("CREATE DATABASE goc_dbcheck_big TEMPLATE goc_dbcheck")
    with _pg(postgres, "goc_dbcheck_big") as conn:
        conn.execute(
            """INSERT INTO ledger_visit ("user", page)
               SELECT 'u' || i, '/p' FROM generate_series(1, 2000000) AS i"""
        )
        conn.execute("ANALYZE ledger_visit")
    env = {**pg_env, "GOC_PG_NAME": "goc_dbcheck_big"}
    found = findings(db_check(env, "--statement-timeout", "0.2", "--format", "json"))
    visits = message(found, "ledger/models.py", "DGC203", "ledger_visit_user_page_uniq")
    assert "did not finish" in visits and "statement timeout" in visits
    message(found, "ledger/models.py", "DGC203", "holds 1 duplicate group(s)")
    with _pg(postgres, postgres.name) as conn:
        conn.execute("DROP DATABASE goc_dbcheck_big")


def test_fix_models_database_shows_counts_before_editing(pg_env: dict[str, str]) -> None:
    before = {p: p.read_bytes() for p in (PROJECT / "ledger").glob("*.py")}
    # Against the models, Visit, Entry and Seat lack constraints: fix-models proposes them.
    done = run_command(
        pg_env,
        "fix-models",
        "--django-settings-module",
        SETTINGS,
        "--dry-run",
        "--database",
        "default",
        "ledger",
    )
    assert done.returncode == 1, done.stderr
    out = done.stdout
    first = out.splitlines()[0]
    assert first.startswith("DGC203 "), out
    assert "ledger_visit_user_page_uniq on ledger.Visit (user, page)" in out
    assert "holds 2 duplicate group(s)" in out
    assert "ledger_entry_account_day_uniq on ledger.Entry (account, day)" in out
    assert "holds no duplicate rows" in out
    assert {p: p.read_bytes() for p in (PROJECT / "ledger").glob("*.py")} == before
    bad = run_command(
        {**pg_env, "DBCHECK_PASSWORD": WRONG_PASSWORD},
        "fix-models",
        "--django-settings-module",
        SETTINGS,
        "--dry-run",
        "--database",
        "default",
        "ledger",
    )
    assert bad.returncode == 2 and WRONG_PASSWORD not in bad.stderr + bad.stdout


# ------------------------------------------------------------------------------------ MariaDB

MARIADB_HAND_CHANGES = (
    "ALTER TABLE ledger_account DROP INDEX ledger_account_number_uniq",
    "INSERT INTO ledger_account (number) VALUES ('A-1'), ('A-1'), ('A-2')",
    """INSERT INTO ledger_visit (user, page) VALUES ('ann', '/'), ('ann', '/'), ('ann', '/'),
       ('bob', '/x'), ('bob', '/x'), ('cy', '/')""",
)


@pytest.fixture(scope="module")
def mariadb_env() -> Iterator[dict[str, str]]:
    from mariadb import MariaDBUnavailable, provide_mariadb

    try:
        server = provide_mariadb()
    except MariaDBUnavailable as exc:
        if os.environ.get("GOC_REQUIRE_MARIADB") == "1":
            pytest.fail(f"MariaDB is required (GOC_REQUIRE_MARIADB=1): {exc}", pytrace=False)
        pytest.skip(f"no MariaDB server: {exc}")
    try:
        name = "goc_dbcheck"
        server.create_database(name)
        env = {**server.env, "GOC_MARIADB_NAME": name, "DBCHECK_VENDOR": "mysql"}
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "ledger", "0002"],
            cwd=PROJECT,
            env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": SETTINGS},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert migrate.returncode == 0, migrate.stderr
        conn = _mariadb_admin(server, name)
        try:
            with conn.cursor() as cursor:
                for statement in MARIADB_HAND_CHANGES:
                    cursor.execute(statement)
                for host in ("127.0.0.1", "localhost"):
                    user = f"'{RO_USER}'@'{host}'"
                    cursor.execute(f"DROP USER IF EXISTS {user}")
                    cursor.execute(f"CREATE USER {user} IDENTIFIED BY '{RO_PASSWORD}'")
                    cursor.execute(f"GRANT SELECT ON `{name}`.* TO {user}")
        finally:
            conn.close()
        yield {**env, "DBCHECK_USER": RO_USER, "DBCHECK_PASSWORD": RO_PASSWORD}
    finally:
        server.stop()


def _mariadb_admin(server: Any, database: str) -> Any:
    """root over the throwaway server's socket (the test user cannot GRANT), else the user."""
    import pymysql

    prefix = "temporary MariaDB server in "
    if server.origin.startswith(prefix):
        sock = Path(server.origin[len(prefix) :]) / "sock"
        return pymysql.connect(
            unix_socket=str(sock), user="root", database=database, autocommit=True
        )
    return server.connect(database)


def test_mariadb_role_can_only_read(mariadb_env: dict[str, str]) -> None:
    import pymysql

    conn = pymysql.connect(
        host=mariadb_env["GOC_MARIADB_HOST"],
        port=int(mariadb_env["GOC_MARIADB_PORT"]),
        user=RO_USER,
        password=RO_PASSWORD,
        database="goc_dbcheck",
        autocommit=True,
    )
    try:
        with conn.cursor() as cursor:
            for statement in (
                "INSERT INTO ledger_tag (slug) VALUES ('x')",
                "CREATE TABLE dbcheck_probe (id int)",
            ):
                with pytest.raises(pymysql.err.OperationalError, match="denied"):
                    cursor.execute(statement)
    finally:
        conn.close()


def test_mariadb_reports_exactly_the_expected_findings(mariadb_env: dict[str, str]) -> None:
    found = findings(db_check(mariadb_env, "--format", "json"))
    assert located(found) == expected("mariadb")
    models = "ledger/models.py"
    message(found, models, "DGC201", "the applied migration ledger.0001_initial created it")
    message(found, models, "DGC201", "the migration ledger.0003_tag_slug_uniq that adds it")
    visits = message(found, models, "DGC203", "ledger_visit_user_page_uniq")
    assert "holds 2 duplicate group(s)" in visits
    assert "user='ann', page='/'; user='bob', page='/x'" in visits
    message(found, models, "DGC202", "'ledger_entry_account_day' on (account_id, day)")


def test_mariadb_sends_only_reads_inside_read_only_transactions(
    mariadb_env: dict[str, str], tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"
    done = db_check(mariadb_env, "--format", "json", trace=trace)
    assert located(findings(done)) == expected("mariadb")
    sent = [json.loads(line) for line in trace.read_text().splitlines()]
    assert all(s["read_only"] for s in sent), [s for s in sent if not s["read_only"]]
    session_setup = re.compile(
        r"^\s*(SELECT VERSION\(\)|SET SESSION TRANSACTION (ISOLATION LEVEL READ COMMITTED|READ "
        r"ONLY)$|SET SESSION max_statement_time = [\d.]+$)"
    )
    depth = 0
    for s in sent:
        sql = s["sql"].strip()
        if depth == 0 and session_setup.match(sql):
            continue  # Django's and db-check's session settings, sent once while connecting
        assert ALLOWED_MARIADB.match(sql), sql
        if sql == "START TRANSACTION READ ONLY":
            assert depth == 0
            depth = 1
        elif sql == "ROLLBACK":
            depth = 0
        else:
            assert depth == 1, f"sent outside the read-only transaction: {sql[:80]}"
    counts = [s for s in sent if "HAVING COUNT(*) > 1" in s["sql"]]
    assert len(counts) == 6  # one per constraint a finding proposes (Seat's two on MariaDB)
    assert all(c["sql"].startswith("SET STATEMENT max_statement_time=") for c in counts)


def test_mariadb_wrong_password_is_one_paragraph_without_secrets(
    mariadb_env: dict[str, str],
) -> None:
    done = db_check({**mariadb_env, "DBCHECK_PASSWORD": WRONG_PASSWORD})
    assert done.returncode == 2
    assert done.stdout == ""
    err = done.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "cannot connect to database 'default'" in err and "Access denied" in err
    for secret in (WRONG_PASSWORD, RO_PASSWORD):
        assert secret not in done.stderr + done.stdout


# -------------------------------------------------------------------- the lock-free migration


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_documented_lock_free_migration_runs_on_postgresql(
    postgres: Any, pg_env: dict[str, str], tmp_path: Path
) -> None:
    """docs/db-check.md's recipe, as written: merge the duplicates, then the non-atomic
    migration (CREATE UNIQUE INDEX CONCURRENTLY, ADD CONSTRAINT ... USING INDEX,
    SeparateDatabaseAndState), then makemigrations agrees and db-check is content."""
    import shutil

    from flake8_django_goc.rules import RULES

    docs = (ROOT / "docs" / "db-check.md").read_text()
    merge, migration = _python_blocks(docs)
    assert "atomic = False" in migration and "USING INDEX" in migration
    # explain DGC203 shows the same migration.
    (notes_migration,) = _python_blocks(RULES["DGC203"].notes)
    assert notes_migration.strip() in migration

    name = "goc_dbcheck_lockfree"
    with _pg(postgres, postgres.name) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE goc_dbcheck")
        conn.execute(f"GRANT CONNECT ON DATABASE {name} TO {RO_USER}")
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, **pg_env, "GOC_PG_NAME": name, "DJANGO_SETTINGS_MODULE": SETTINGS}
    admin = {k: v for k, v in env.items() if k not in ("DBCHECK_USER", "DBCHECK_PASSWORD")}

    def manage(*args: str, environ: dict[str, str] = admin) -> Any:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=project,
            env=environ,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    done = manage("shell", "-c", "from ledger.models import Visit\n" + merge)
    assert done.returncode == 0, done.stderr
    migrations_dir = project / "ledger" / "migrations"
    (migrations_dir / "0004_visit_user_page_uniq.py").write_text(
        migration.replace('("ledger", "0003_previous")', '("ledger", "0003_tag_slug_uniq")')
    )
    models = project / "ledger" / "models.py"
    models.write_text(
        models.read_text().replace(
            "    page = models.CharField(max_length=200)\n",
            "    page = models.CharField(max_length=200)\n\n    class Meta:\n"
            "        constraints = [\n            models.UniqueConstraint(\n"
            '                fields=["user", "page"], name="ledger_visit_user_page_uniq"\n'
            "            ),\n        ]\n",
        )
    )
    done = manage("migrate", "ledger")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applying ledger.0004_visit_user_page_uniq... OK" in done.stdout
    with _pg(postgres, name) as conn:
        row = conn.execute(
            """SELECT con.contype, i.indisvalid, i.indisunique FROM pg_constraint con
               JOIN pg_index i ON i.indexrelid = con.conindid
               WHERE con.conname = 'ledger_visit_user_page_uniq'"""
        ).fetchone()
        assert row == ("u", True, True)
        left = conn.execute(
            'SELECT count(*) FROM ledger_visit GROUP BY "user", page HAVING count(*) > 1'
        ).fetchall()
        assert left == []
    check = manage("makemigrations", "ledger", "--check", "--dry-run")
    assert check.returncode == 0, check.stdout + check.stderr
    done = subprocess.run(
        [sys.executable, "-m", "flake8_django_goc", "db-check", "--format", "json", "ledger"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    visit = [f for f in findings(done) if "Visit" in f["message"] or "ledger_visit" in f["message"]]
    assert visit == [], visit
    back = manage("migrate", "ledger", "0003")
    assert back.returncode == 0, back.stderr
    with _pg(postgres, name) as conn:
        gone = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname = 'ledger_visit_user_page_uniq'"
        ).fetchone()
        assert gone == (0,)
        conn.execute("SELECT 1")
    with _pg(postgres, postgres.name) as conn:
        conn.execute(f"DROP DATABASE {name}")


# ------------------------------------------------------------- partial-index predicates (pure)


@pytest.mark.parametrize(
    ("predicate", "children"),
    [
        ("active", (("active", True),)),
        ("(NOT archived)", (("archived", False),)),
        ("((status)::text = 'open'::text)", (("status", "open"),)),
        ("(deleted_at IS NULL)", (("deleted_at__isnull", True),)),
        (
            "((kind = 2) AND (owner_id IS NOT NULL))",
            (("kind", 2), ("owner__isnull", False)),
        ),
        ("((note)::text = 'it''s'::text)", (("note", "it's"),)),
    ],
)
def test_partial_index_predicates_postgresql_prints_are_read(
    predicate: str, children: tuple[tuple[str, object], ...]
) -> None:
    """pg_get_expr(indpred) forms become conditions in field names (``owner_id`` -> owner)."""
    from flake8_django_goc.schema.django.database import _condition

    by_column = {c: c for c in ("active", "archived", "status", "deleted_at", "kind", "note")}
    by_column["owner_id"] = "owner"
    condition = _condition(predicate, by_column)
    assert condition is not None and condition.children == children
    assert condition.text == predicate


@pytest.mark.parametrize(
    "predicate",
    [
        "((status)::text = 'open'::text) OR (kind = 2)",  # OR: not read
        "(lower((name)::text) = 'x'::text)",  # an expression
        "(kind > 2)",  # a comparison the judge's condition cannot hold as a literal
        "(unknown_column IS NULL)",  # not a field of the model
    ],
)
def test_partial_index_predicates_not_read(predicate: str) -> None:
    from flake8_django_goc.schema.django.database import _condition

    assert _condition(predicate, {"status": "status", "kind": "kind", "name": "name"}) is None


def test_pg_noqa_on_the_class_line(pg_env: dict[str, str], tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    models = project / "ledger" / "models.py"
    models.write_text(
        models.read_text().replace(
            "class Entry(models.Model):  #", "class Entry(models.Model):  # noqa: DGC202 #"
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "flake8_django_goc", "db-check", "--format", "json", "ledger"],
        cwd=project,
        env={**os.environ, **pg_env, "DJANGO_SETTINGS_MODULE": SETTINGS},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    wanted = expected("pg")
    lines = (PROJECT / "ledger" / "models.py").read_text().splitlines()
    entry = next(n for n, line in enumerate(lines, 1) if line.startswith("class Entry("))
    del wanted[("ledger/models.py", entry, "DGC202")]
    assert located(findings(done)) == wanted
