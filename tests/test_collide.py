"""DGC011 and DGC012 on real databases: every `collide_*` case of the fixture project's collide/
app does what its `# expect:` comment claims (PostgreSQL for both rules, SQLite for DGC012), and
the linter's verdicts on them. The case files' expectations themselves are checked by
tests/test_cases.py through flake8."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from collide_db import PROJECT, Case, Outcome, cases, run_case
from flake8_run import parse_reports, run_flake8

from flake8_django_goc.judge.bulk import MYSQL_UNIQUE_FIELDS, ON_CONFLICT_ERRORS
from flake8_django_goc.rules import OPT_IN, opted_in

CREATE = "collide.collide_create"
BULK = "collide.collide_bulk"
BULK_MYSQL = "collide.collide_bulk_mysql"
MYSQL = "MySQL/MariaDB"
HERE = Path(__file__).resolve().parent


def check(case: Case, outcome: Outcome, vendor: str) -> None:
    where = f"{case.module}.{case.name} (line {case.line}) on {vendor}: {outcome}"
    ignore = case.name.startswith("collide_ignore_")
    if case.expected & {"DGC011", "DGC006"}:
        # The INSERT fails on the unique value and the retry get() misses the row.
        assert outcome.raised == "IntegrityError", where
    elif "DGC012" in case.expected and ignore:
        assert outcome.raised is None and outcome.returned == 2, where  # both inserted
    elif "DGC012" in case.expected and vendor == MYSQL:
        # Django refuses unique_fields before any SQL, with the message the finding quotes.
        assert outcome.raised == "NotSupportedError", where
        assert outcome.message == MYSQL_UNIQUE_FIELDS, where
    elif "DGC012" in case.expected:
        assert outcome.raised in ("ProgrammingError", "OperationalError"), where
        # What the finding says the database answers is what it answered.
        assert outcome.message.splitlines()[0] in ON_CONFLICT_ERRORS[vendor], where
    elif ignore:
        assert outcome.raised is None and outcome.returned == 1, where  # the duplicate skipped
    else:
        assert outcome.raised is None, where


def _ids(found: list[Case]) -> list[str]:
    return [c.name for c in found]


def test_cases_are_there() -> None:
    create, bulk = cases(CREATE), cases(BULK)
    assert sum("DGC011" in c.expected for c in create) >= 8
    assert sum(not c.expected for c in create) >= 6
    assert sum("DGC012" in c.expected for c in bulk) >= 9
    assert sum(not c.expected for c in bulk) >= 6


@pytest.mark.parametrize("case", cases(CREATE) + cases(BULK), ids=_ids(cases(CREATE) + cases(BULK)))
def test_on_postgresql(django_project: None, case: Case) -> None:
    check(case, run_case(case), "PostgreSQL")


def _run_elsewhere(module: str, settings: str, env: dict[str, str]) -> dict[str, Outcome]:
    """Run ``module``'s cases in a subprocess with Django set up from ``settings``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("GOC_PG_")}
    full_env.update(env, DJANGO_SETTINGS_MODULE=settings)
    result = subprocess.run(
        [sys.executable, str(HERE / "collide_db.py"), module],
        cwd=PROJECT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return {name: Outcome(**o) for name, o in json.loads(result.stdout).items()}


@pytest.fixture(scope="module")
def sqlite_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    database = tmp_path_factory.mktemp("sqlite") / "collide.sqlite3"
    env = {"GOC_SQLITE_PATH": str(database)}
    outcomes = _run_elsewhere(BULK, "goc_project.settings_sqlite_file", env)
    assert database.exists()
    return outcomes


@pytest.fixture(scope="module")
def mariadb_outcomes() -> Iterator[dict[str, Outcome]]:
    """The MySQL cases on a throwaway MariaDB (tests/mariadb.py); skipped without one, failed
    under ``GOC_REQUIRE_MARIADB=1``."""
    from mariadb import MariaDBUnavailable, provide_mariadb

    try:
        server = provide_mariadb()
    except MariaDBUnavailable as exc:
        if os.environ.get("GOC_REQUIRE_MARIADB") == "1":
            pytest.fail(f"MariaDB is required (GOC_REQUIRE_MARIADB=1): {exc}", pytrace=False)
        pytest.skip(f"no MariaDB server: {exc}")
    try:
        server.create_database("goc_collide")
        env = {**server.env, "GOC_MARIADB_NAME": "goc_collide"}
        yield _run_elsewhere(BULK_MYSQL, "goc_project.settings_collide_mariadb", env)
    finally:
        server.stop()


@pytest.mark.parametrize("case", cases(BULK_MYSQL), ids=_ids(cases(BULK_MYSQL)))
def test_bulk_on_mariadb(mariadb_outcomes: dict[str, Outcome], case: Case) -> None:
    check(case, mariadb_outcomes[f"{case.module}.{case.name}"], MYSQL)


@pytest.mark.parametrize("case", cases(BULK), ids=_ids(cases(BULK)))
def test_bulk_on_sqlite(sqlite_outcomes: dict[str, Outcome], case: Case) -> None:
    check(case, sqlite_outcomes[f"{case.module}.{case.name}"], "SQLite")


def _reported(settings: str, select: str, path: str) -> dict[int, set[str]]:
    result = run_flake8(
        "--select", select, "--django-settings-module", settings, "--format",
        "%(path)s:%(row)d:%(col)d:%(code)s:%(text)s", path,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    found: dict[int, set[str]] = {}
    for report in parse_reports(result.stdout):
        found.setdefault(report.line, set()).add(report.code)
    return found


def test_sqlite_verdicts_are_the_postgresql_ones() -> None:
    # The cases run on SQLite above are judged for SQLite the same way.
    reported = _reported("goc_project.settings_sqlite", "DGC", "collide/collide_bulk.py")
    for case in cases(BULK):
        assert reported.get(case.line, set()) == set(case.expected), case
    messages = run_flake8(
        "--select", "DGC012", "--django-settings-module", "goc_project.settings_sqlite",
        "collide/collide_bulk.py",
    ).stdout  # fmt: skip
    assert ON_CONFLICT_ERRORS["SQLite"] in messages


def test_dgc011_is_opt_in() -> None:
    line = next(c.line for c in cases(CREATE) if c.name == "collide_filter_hides_rows")
    for select in ("DGC", "DGC0", "DGC01"):
        assert "DGC011" not in _reported(
            "goc_project.settings", select, "collide/collide_create.py"
        ).get(line, set()), select
    assert _reported("goc_project.settings", "DGC,DGC011", "collide/collide_create.py")[line] == {
        "DGC011"
    }


def test_opt_in_prefixes() -> None:
    assert OPT_IN == ("DGC011", "DGC1")
    assert opted_in(["DGC1"]) == {"DGC100", "DGC101", "DGC102"}  # every DGC1xx, as before
    assert opted_in(["DGC10"]) == {"DGC100", "DGC101", "DGC102"}
    assert opted_in(["DGC101"]) == {"DGC101"}
    assert opted_in(["DGC011"]) == {"DGC011"}
    assert opted_in(["DGC", "DGC0", "DGC01"]) == set()


def test_fix_models_adds_the_constraint_unique_fields_name(tmp_path: Path) -> None:
    """fix-models adds a UniqueConstraint on unique_fields that overlap no unique set (LogLine),
    never one narrower than an existing set (Rate's currency of (currency, day))."""
    import shutil

    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "flake8_django_goc", "fix-models", "--isolated",
         "--django-settings-module", "goc_project.settings", "--select", "DGC012",
         "collide/collide_bulk.py"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    models = (project / "collide" / "models.py").read_text(encoding="utf-8")
    assert 'fields=["source", "text"], name="collide_logline_source_text_uniq"' in models
    assert "collide_rate_currency_uniq" not in models
    assert "collide_holding_writer_uniq" not in models
