"""DGC007 (flake8_django_goc/schema/django/isolation.py): a database above READ COMMITTED.

- values -> levels, by the backends' own rules (in process);
- settings modules written to a temporary package, imported in process, and searched for the
  reported line (``findings_for_databases``: no ``django.setup()`` needed); the line each
  variant must be reported at carries a ``# <- DGC007`` marker;
- ``isolation_findings()`` after a real ``django.setup()``, one subprocess per settings module
  (Django is set up once per process), on the fixture project's isolation settings;
- end to end through flake8 and the standalone command, once DGC007 is wired into the Schema.

What the servers really do at each level is proven in tests/test_isolation_race.py.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flake8_run import PROJECT, parse_reports, run_flake8

from flake8_django_goc.schema import Schema, SettingsFinding, findings_for_file
from flake8_django_goc.schema.django import isolation
from flake8_django_goc.schema.django.isolation import (
    READ_COMMITTED,
    READ_UNCOMMITTED,
    REPEATABLE_READ,
    SERIALIZABLE,
    findings_for_databases,
    init_command_level,
    libpq_options_level,
    mysql_effective,
    pg_effective,
    pg_level,
)

MARKER = "# <- DGC007"
FIXTURE_SETTINGS = PROJECT / "isolation" / "settings"
RC, RR, SER, RU = READ_COMMITTED, REPEATABLE_READ, SERIALIZABLE, READ_UNCOMMITTED


# ---------------------------------------------------------------------------- values to levels


@pytest.mark.parametrize(
    ("sql", "level"),
    [
        ("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", RR),
        ("set session transaction isolation level serializable", SER),
        ("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", RC),
        ("SET LOCAL TRANSACTION ISOLATION LEVEL REPEATABLE READ", RR),
        ("SET @@SESSION.TRANSACTION ISOLATION LEVEL REPEATABLE READ", RR),
        ("SET GLOBAL TRANSACTION ISOLATION LEVEL SERIALIZABLE", SER),  # every later connection
        ("SET SESSION TRANSACTION READ WRITE, ISOLATION LEVEL SERIALIZABLE", SER),
        ("  SET   SESSION\n TRANSACTION  ISOLATION   LEVEL  REPEATABLE   READ ", RR),
        # No scope: only the next transaction (Django's first query), not the session.
        ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", None),
        ("SET tx_isolation = 'REPEATABLE-READ'", RR),
        ("SET SESSION tx_isolation='SERIALIZABLE'", SER),
        ('SET @@session.transaction_isolation = "REPEATABLE-READ"', RR),
        ("SET @@tx_isolation='READ-COMMITTED'", RC),
        ("SET transaction_isolation := 'SERIALIZABLE'", SER),
        ("SET sql_mode='STRICT_TRANS_TABLES', tx_isolation='REPEATABLE-READ'", RR),
        (
            "SET sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE', SESSION tx_isolation='SERIALIZABLE'",
            SER,
        ),
        # Several statements (mysqlclient allows them): the last one wins.
        (
            "SET sql_mode='STRICT_TRANS_TABLES'; "
            "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            SER,
        ),
        (
            "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE; "
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
            RC,
        ),
        ("SET sql_mode='STRICT_TRANS_TABLES'", None),
        ("SET NAMES utf8mb4", None),
        ("SET tx_isolation = 'bogus'", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_init_command_level(sql: object, level: str | None) -> None:
    assert init_command_level(sql) == level


@pytest.mark.parametrize(
    ("options", "level"),
    [
        ("-c default_transaction_isolation=serializable", SER),
        ("-cdefault_transaction_isolation=serializable", SER),
        ("--default-transaction-isolation=serializable", SER),
        ("--default_transaction_isolation=serializable", SER),
        (r"-c default_transaction_isolation=repeatable\ read", RR),
        ("-c search_path=app -c default_transaction_isolation=serializable", SER),
        ("-c default_transaction_isolation=serializable -c statement_timeout=5000", SER),
        (r"-c default_transaction_isolation=read\ committed", RC),
        ("-c search_path=app", None),
        ("", None),
        (None, None),
    ],
)
def test_libpq_options_level(options: object, level: str | None) -> None:
    assert libpq_options_level(options) == level


@pytest.mark.parametrize(
    ("options", "level", "key"),
    [
        ({}, RC, None),  # Django's default
        ({"isolation_level": "repeatable read"}, RR, "isolation_level"),
        ({"isolation_level": "REPEATABLE READ"}, RR, "isolation_level"),  # Django lower-cases it
        ({"isolation_level": "Serializable"}, SER, "isolation_level"),
        ({"isolation_level": "read committed"}, RC, "isolation_level"),
        ({"isolation_level": "read uncommitted"}, RU, "isolation_level"),
        # Django sets the level after the driver ran init_command: init_command loses.
        (
            {"init_command": "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"},
            RC,
            None,
        ),
        (
            {
                "isolation_level": "read committed",
                "init_command": "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            },
            RC,
            "isolation_level",
        ),
        # A falsy isolation_level: Django sets nothing, init_command decides...
        (
            {
                "isolation_level": None,
                "init_command": "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            },
            RR,
            "init_command",
        ),
        ({"isolation_level": "", "init_command": "SET tx_isolation='SERIALIZABLE'"}, SER, None),
    ],
)
def test_mysql_effective(options: dict[str, object], level: str, key: str | None) -> None:
    found = mysql_effective("default", options)
    assert found is not None
    assert found.level == level
    if key is not None:
        assert found.key == key


@pytest.mark.parametrize(
    "options",
    [
        {"isolation_level": None},  # ...or the server's default, which the settings do not show
        {"isolation_level": ""},
        {"isolation_level": None, "init_command": "SET NAMES utf8mb4"},
        {"isolation_level": None, "init_command": "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"},
        {"isolation_level": "repeatable-read"},  # Django: ImproperlyConfigured
        {"isolation_level": "repeatable  read"},
        {"isolation_level": 3},  # Django calls .lower() on it
    ],
)
def test_mysql_effective_unknown(options: dict[str, object]) -> None:
    assert mysql_effective("default", options) is None


class Psycopg2Levels(enum.IntEnum):
    """What psycopg_any.IsolationLevel is when Django runs on psycopg2 (psycopg2.extensions)."""

    READ_UNCOMMITTED = 4
    READ_COMMITTED = 1
    REPEATABLE_READ = 2
    SERIALIZABLE = 3


def test_djangos_enum_is_psycopg3s_with_the_documented_values() -> None:
    import psycopg
    from django.db.backends.postgresql.psycopg_any import IsolationLevel

    assert isolation.django_pg_enum() is IsolationLevel is psycopg.IsolationLevel
    values = {member.name: member.value for member in IsolationLevel}
    assert values == {
        "READ_UNCOMMITTED": 1,
        "READ_COMMITTED": 2,
        "REPEATABLE_READ": 3,
        "SERIALIZABLE": 4,
    }


def test_psycopg2_constants_if_installed() -> None:
    extensions = pytest.importorskip("psycopg2.extensions")
    constants = {
        name: getattr(extensions, f"ISOLATION_LEVEL_{name}") for name in Psycopg2Levels.__members__
    }
    assert constants == {m.name: m.value for m in Psycopg2Levels}
    assert extensions.ISOLATION_LEVEL_AUTOCOMMIT == 0


@pytest.mark.parametrize(
    ("value", "levels", "level"),
    [
        # psycopg 3 (this environment): Django converts with psycopg.IsolationLevel.
        ("REPEATABLE_READ", None, RR),
        ("SERIALIZABLE", None, SER),
        ("READ_COMMITTED", None, RC),
        (3, None, RR),
        (4, None, SER),
        (2, None, RC),
        (1, None, RU),
        # psycopg2's ISOLATION_LEVEL_SERIALIZABLE is 3 and ISOLATION_LEVEL_REPEATABLE_READ is 2:
        # under psycopg 3 Django reads them as REPEATABLE READ and READ COMMITTED, and so do we.
        (0, None, None),  # ISOLATION_LEVEL_AUTOCOMMIT: Django raises ImproperlyConfigured
        (5, None, None),
        ("serializable", None, None),  # a MySQL-style string: ImproperlyConfigured
        # psycopg2 environments: psycopg_any.IsolationLevel is an enum over psycopg2's constants.
        (2, Psycopg2Levels, RR),
        (3, Psycopg2Levels, SER),
        (1, Psycopg2Levels, RC),
        (4, Psycopg2Levels, RU),
        (0, Psycopg2Levels, None),
    ],
)
def test_pg_level(value: object, levels: type[enum.Enum] | None, level: str | None) -> None:
    from django.db.backends.postgresql.psycopg_any import IsolationLevel

    if isinstance(value, str) and value.isupper():
        value = IsolationLevel[value]
    assert pg_level(value, levels or IsolationLevel) == level


def test_pg_level_without_a_driver_trusts_enum_names() -> None:
    assert pg_level(Psycopg2Levels.SERIALIZABLE, None) == SER
    assert pg_level(3, None) is None  # a bare int means nothing without Django's enum


def test_pg_effective() -> None:
    from django.db.backends.postgresql.psycopg_any import IsolationLevel as L

    assert pg_effective("default", {}, L).level == RC  # type: ignore[union-attr]
    found = pg_effective("default", {"isolation_level": L.SERIALIZABLE}, L)
    assert found is not None and (found.level, found.key) == (SER, "isolation_level")
    options = {"options": "-c default_transaction_isolation=serializable"}
    found = pg_effective("default", options, L)
    assert found is not None and (found.level, found.key) == (SER, "options")
    # isolation_level is applied per transaction (BEGIN ISOLATION LEVEL ...) and wins over it.
    found = pg_effective("default", {**options, "isolation_level": L.READ_COMMITTED}, L)
    assert found is not None and found.level == RC
    assert pg_effective("default", {"isolation_level": 0}, L) is None


# ------------------------------------------------------------------- settings modules -> lines

_counter = itertools.count()


@dataclasses.dataclass
class Package:
    """A throwaway settings package on sys.path."""

    name: str
    root: Path

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(self.root).parents:
            init = self.root / parent / "__init__.py"
            if not init.exists():
                init.write_text("")
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    def findings(self, module: str = "settings", **kwargs: object) -> list[SettingsFinding]:
        dotted = f"{self.name}.{module}"
        settings = importlib.import_module(dotted)
        return findings_for_databases(settings.DATABASES, dotted, **kwargs)  # type: ignore[arg-type]

    def markers(self) -> set[tuple[str, int]]:
        found = set()
        for path in self.root.rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if MARKER in line:
                    found.add((str(path.relative_to(self.root)), number))
        return found

    def where(self, findings: list[SettingsFinding]) -> set[tuple[str, int]]:
        return {(os.path.relpath(f.path, os.path.realpath(self.root)), f.line) for f in findings}


@pytest.fixture
def pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Package]:
    name = f"goc_iso_settings_{os.getpid()}_{next(_counter)}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield Package(name, root)
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]


MYSQL = '"ENGINE": "django.db.backends.mysql", "NAME": "shop"'
PG = '"ENGINE": "django.db.backends.postgresql", "NAME": "shop"'


def check(pkg: Package, module: str = "settings") -> list[SettingsFinding]:
    """The findings must be exactly the marked lines."""
    findings = pkg.findings(module)
    assert pkg.where(findings) == pkg.markers(), [f.message for f in findings]
    for finding in findings:
        assert finding.code == "DGC007"
    return findings


def test_mysql_repeatable_read_as_documented(pkg: Package) -> None:
    path = pkg.write(
        "settings.py",
        f"""
        DATABASES = {{
            "default": {{
                {MYSQL},
                "OPTIONS": {{
                    "isolation_level": "repeatable read",  {MARKER}
                }},
            }}
        }}
        """,
    )
    (finding,) = check(pkg)
    line = path.read_text().splitlines()[finding.line - 1]
    assert finding.col == line.index('"isolation_level"')
    text = finding.message
    for needle in (
        'DATABASES["default"]',
        "REPEATABLE READ",
        "MySQL/MariaDB",
        '"isolation_level": "repeatable read"',
        "transaction.atomic()",
        "ATOMIC_REQUESTS",
        "retry get()",
        "old snapshot",
        "IntegrityError escapes",
        "unique constraint is right",
        '"read committed"',
        "retry the whole transaction",
    ):
        assert needle in text, text


@pytest.mark.parametrize(
    ("options", "reported"),
    [
        ('{"isolation_level": "serializable"}', True),
        ('{"isolation_level": "SERIALIZABLE"}', True),
        ('{"isolation_level": "read committed"}', False),
        ('{"isolation_level": "read uncommitted"}', False),
        ("{}", False),
        ('{"charset": "utf8mb4"}', False),
        ('{"isolation_level": None}', False),  # the server's default: not in the settings
        (
            '{"isolation_level": None, "init_command": "SET TRANSACTION ISOLATION LEVEL '
            'SERIALIZABLE"}',
            False,
        ),
        ('{"init_command": "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE"}', False),
    ],
)
def test_mysql_variants(pkg: Package, options: str, reported: bool) -> None:
    marker = MARKER if reported else ""
    pkg.write(
        "settings.py",
        f"""
        DATABASES = {{
            "default": {{
                {MYSQL},
                "OPTIONS": {options},  {marker}
            }}
        }}
        """,
    )
    check(pkg)


def test_mysql_without_options_key(pkg: Package) -> None:
    pkg.write("settings.py", f"DATABASES = {{'default': {{{MYSQL}}}}}\n")
    assert check(pkg) == []


@pytest.mark.parametrize(
    "command",
    [
        "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "SET tx_isolation='REPEATABLE-READ'",
        "SET @@session.transaction_isolation='SERIALIZABLE'",
        "SET sql_mode='STRICT_TRANS_TABLES'; SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
    ],
)
def test_mysql_init_command_with_isolation_level_none(pkg: Package, command: str) -> None:
    pkg.write(
        "settings.py",
        f"""
        DATABASES = {{
            "default": {{
                {MYSQL},
                "OPTIONS": {{
                    "isolation_level": None,
                    "init_command": {command!r},  {MARKER}
                }},
            }}
        }}
        """,
    )
    (finding,) = check(pkg)
    assert "init_command" in finding.message and "None" in finding.message


def test_mysql_level_from_the_environment(pkg: Package, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg.write(
        "settings.py",
        f"""
        import os

        DATABASES = {{
            "default": {{
                {MYSQL},
                "OPTIONS": {{
                    "isolation_level": os.environ.get("GOC_TEST_LEVEL", "read committed"),  {MARKER}
                }},
            }}
        }}
        """,
    )
    monkeypatch.setenv("GOC_TEST_LEVEL", "repeatable read")
    (finding,) = check(pkg)
    assert "REPEATABLE READ" in finding.message


def test_mysql_environment_default_is_not_reported(
    pkg: Package, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg.write(
        "settings.py",
        f"""
        import os

        DATABASES = {{
            "default": {{
                {MYSQL},
                "OPTIONS": {{
                    "isolation_level": os.environ.get("GOC_TEST_LEVEL", "read committed"),
                }},
            }}
        }}
        """,
    )
    monkeypatch.delenv("GOC_TEST_LEVEL", raising=False)
    assert pkg.findings() == []


def test_split_settings_base_sets_it(pkg: Package) -> None:
    pkg.write(
        "conf/base.py",
        f"""
        SECRET_KEY = "x"
        DATABASES = {{
            "default": {{
                {MYSQL},
                "OPTIONS": {{"isolation_level": "repeatable read"}},  {MARKER}
            }}
        }}
        """,
    )
    pkg.write("conf/production.py", "from .base import *  # noqa: F403\n\nDEBUG = False\n")
    check(pkg, "conf.production")


def test_split_settings_override_in_place(pkg: Package) -> None:
    pkg.write(
        "conf/base.py",
        f"""
        DATABASES = {{
            "default": {{
                {MYSQL},
                "OPTIONS": {{"isolation_level": "read committed", "charset": "utf8mb4"}},
            }}
        }}
        """,
    )
    pkg.write(
        "conf/production.py",
        f"""
        from .base import *  # noqa: F403

        DATABASES["default"]["OPTIONS"]["isolation_level"] = "repeatable read"  {MARKER}
        """,
    )
    (finding,) = check(pkg, "conf.production")
    assert finding.col == 0


def test_split_settings_override_replaces_databases(pkg: Package) -> None:
    """The base's REPEATABLE READ dict is not the one the run uses."""
    pkg.write(
        "conf/base.py",
        f"""
        DATABASES = {{
            "default": {{{MYSQL}, "OPTIONS": {{"isolation_level": "repeatable read"}}}},
        }}
        """,
    )
    pkg.write(
        "conf/production.py",
        f"""
        from .base import *  # noqa: F403

        DATABASES = {{"default": {{{MYSQL}}}}}
        """,
    )
    assert check(pkg, "conf.production") == []


def test_split_settings_new_options_dict(pkg: Package) -> None:
    pkg.write("conf/base.py", f'DATABASES = {{"default": {{{MYSQL}}}}}\n')
    pkg.write(
        "conf/production.py",
        f"""
        from .base import *  # noqa: F403

        DATABASES["default"]["OPTIONS"] = {{
            "charset": "utf8mb4",
            "isolation_level": "serializable",  {MARKER}
        }}
        DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
        """,
    )
    check(pkg, "conf.production")


@pytest.mark.parametrize(
    "statement",
    [
        'DATABASES["default"]["OPTIONS"].update(isolation_level="serializable")',
        'DATABASES["default"]["OPTIONS"].update({"isolation_level": "serializable"})',
        'DATABASES["default"]["OPTIONS"].setdefault("isolation_level", "serializable")',
        'DATABASES["default"]["OPTIONS"] |= {"isolation_level": "serializable"}',
        'DATABASES["default"].update(OPTIONS=dict(isolation_level="serializable"))',
        'DATABASES["default"]["OPTIONS"] = dict(charset="utf8mb4", isolation_level="serializable")',
    ],
)
def test_override_forms(pkg: Package, statement: str) -> None:
    pkg.write(
        "settings.py",
        f"""
        DATABASES = {{"default": {{{MYSQL}, "OPTIONS": {{}}}}}}
        {statement}  {MARKER}
        """,
    )
    check(pkg)


def test_local_settings_star_import(pkg: Package) -> None:
    """The common ``try: from .local_settings import *`` ending."""
    pkg.write(
        "local_settings.py",
        f"""
        DATABASES = {{
            "default": {{
                {PG},
                "OPTIONS": {{"options": "-c default_transaction_isolation=serializable"}},  {MARKER}
            }}
        }}
        """,
    )
    pkg.write(
        "settings.py",
        f"""
        DATABASES = {{"default": {{{PG}}}}}
        try:
            from .local_settings import *  # noqa: F403
        except ImportError:
            pass
        """,
    )
    check(pkg)


def test_url_parser_without_a_literal_key_reports_the_assignment(pkg: Package) -> None:
    """dj-database-url / django-environ style: OPTIONS come from the URL's query string."""
    pkg.write(
        "dburl.py",
        """
        from urllib.parse import parse_qsl, urlsplit

        ENGINES = {"mysql": "django.db.backends.mysql", "postgres": "django.db.backends.postgresql"}


        def parse(url):
            parts = urlsplit(url)
            return {
                "ENGINE": ENGINES[parts.scheme],
                "NAME": parts.path.lstrip("/"),
                "HOST": parts.hostname,
                "OPTIONS": dict(parse_qsl(parts.query)),
            }
        """,
    )
    pkg.write(
        "settings.py",
        f"""
        import os

        from .dburl import parse

        DATABASES = {{  {MARKER}
            "default": parse(
                os.environ.get("DATABASE_URL", "mysql://db/shop?isolation_level=repeatable+read")
            )
        }}
        """,
    )
    check(pkg)


def test_helper_function_with_a_literal_key(pkg: Package) -> None:
    pkg.write(
        "settings.py",
        f"""
        def database(name, level):
            return {{
                "ENGINE": "django.db.backends.mysql",
                "NAME": name,
                "OPTIONS": {{"isolation_level": level}},  {MARKER}
            }}


        DATABASES = {{
            "default": database("shop", "repeatable read"),
            "reports": database("reports", "read committed"),
        }}
        """,
    )
    (finding,) = check(pkg)
    assert 'DATABASES["default"]' in finding.message and "reports" not in finding.message


def test_two_aliases_sharing_one_options_dict_are_reported_once(pkg: Package) -> None:
    pkg.write(
        "settings.py",
        f"""
        OPTIONS = {{"isolation_level": "repeatable read"}}  {MARKER}
        DATABASES = {{
            "default": {{{MYSQL}, "OPTIONS": OPTIONS}},
            "replica": {{{MYSQL}, "HOST": "replica", "OPTIONS": OPTIONS}},
        }}
        """,
    )
    (finding,) = check(pkg)
    assert 'DATABASES["default"] and DATABASES["replica"]' in finding.message


def test_each_alias_at_its_own_line(pkg: Package) -> None:
    pkg.write(
        "settings.py",
        f"""
        DATABASES = {{
            "default": {{
                {MYSQL},
                "OPTIONS": {{"isolation_level": "repeatable read"}},  {MARKER}
            }},
            "replica": {{
                {MYSQL},
                "OPTIONS": {{"isolation_level": "serializable"}},  {MARKER}
            }},
            "other": {{
                {MYSQL},
                "OPTIONS": {{"isolation_level": "read committed"}},
            }},
        }}
        """,
    )
    first, second = check(pkg)
    assert 'DATABASES["default"]' in first.message and "REPEATABLE READ" in first.message
    assert 'DATABASES["replica"]' in second.message and "SERIALIZABLE" in second.message


def test_loop_over_aliases(pkg: Package) -> None:
    pkg.write(
        "settings.py",
        f"""
        DATABASES = {{
            "default": {{{MYSQL}, "OPTIONS": {{}}}},
            "replica": {{{MYSQL}, "OPTIONS": {{}}}},
        }}
        for alias in DATABASES:
            DATABASES[alias]["OPTIONS"]["isolation_level"] = "repeatable read"  {MARKER}
        """,
    )
    (finding,) = check(pkg)
    assert "default" in finding.message and "replica" in finding.message


def test_key_outside_options_is_ignored_by_django_and_by_us(pkg: Package) -> None:
    pkg.write(
        "settings.py",
        f'DATABASES = {{"default": {{{MYSQL}, "isolation_level": "repeatable read"}}}}\n',
    )
    assert check(pkg) == []


def test_postgresql_as_documented(pkg: Package) -> None:
    path = pkg.write(
        "settings.py",
        f"""
        from django.db.backends.postgresql.psycopg_any import IsolationLevel

        DATABASES = {{
            "default": {{
                {PG},
                "OPTIONS": {{
                    "isolation_level": IsolationLevel.SERIALIZABLE,  {MARKER}
                }},
            }},
        }}
        """,
    )
    (finding,) = check(pkg)
    assert finding.col == path.read_text().splitlines()[finding.line - 1].index('"isolation')
    for needle in (
        "SERIALIZABLE",
        "PostgreSQL",
        "IsolationLevel.SERIALIZABLE",
        "could not serialize access",
        "OperationalError",
        "IsolationLevel.READ_COMMITTED",
    ):
        assert needle in finding.message, finding.message


@pytest.mark.parametrize(
    ("imports", "value", "reported"),
    [
        ("from psycopg import IsolationLevel", "IsolationLevel.REPEATABLE_READ", True),
        ("import psycopg", "psycopg.IsolationLevel.SERIALIZABLE", True),
        ("from psycopg import IsolationLevel", "IsolationLevel.READ_COMMITTED", False),
        (
            "from django.db.backends.postgresql.psycopg_any import IsolationLevel",
            "IsolationLevel.READ_UNCOMMITTED",
            False,
        ),
        # psycopg2's ISOLATION_LEVEL_REPEATABLE_READ (2) and _SERIALIZABLE (3) as integers, as
        # settings written for psycopg2 hold them: under psycopg 3 Django reads 3 as REPEATABLE
        # READ and 2 as READ COMMITTED (see test_psycopg2_constants for a psycopg2 run).
        ("", "3", True),
        ("", "4", True),
        ("", "2", False),
    ],
)
def test_postgresql_variants(pkg: Package, imports: str, value: str, reported: bool) -> None:
    marker = MARKER if reported else ""
    pkg.write(
        "settings.py",
        f"""
        {imports}

        DATABASES = {{
            "default": {{
                {PG},
                "OPTIONS": {{"isolation_level": {value}}},  {marker}
            }},
        }}
        """,
    )
    check(pkg)


@pytest.fixture
def psycopg2_extensions(tmp_path: Path) -> Iterator[None]:
    """psycopg2 is not a test dependency: without it, a stand-in with its constants
    (psycopg2/extensions.py: ISOLATION_LEVEL_AUTOCOMMIT = 0, _READ_COMMITTED = 1,
    _REPEATABLE_READ = 2, _SERIALIZABLE = 3, _READ_UNCOMMITTED = 4)."""
    try:
        import psycopg2.extensions  # noqa: F401
    except ImportError:
        pass
    else:
        yield
        return
    fake = tmp_path / "fake_psycopg2" / "psycopg2"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "extensions.py").write_text(
        "ISOLATION_LEVEL_AUTOCOMMIT = 0\nISOLATION_LEVEL_READ_UNCOMMITTED = 4\n"
        "ISOLATION_LEVEL_READ_COMMITTED = 1\nISOLATION_LEVEL_REPEATABLE_READ = 2\n"
        "ISOLATION_LEVEL_SERIALIZABLE = 3\n"
    )
    sys.path.insert(0, str(fake.parent))
    try:
        yield
    finally:
        sys.path.remove(str(fake.parent))
        for module in ("psycopg2.extensions", "psycopg2"):
            sys.modules.pop(module, None)


@pytest.mark.usefixtures("psycopg2_extensions")
def test_psycopg2_constants(pkg: Package) -> None:
    """Settings written for psycopg2 (Django before 4.2 documented ``psycopg2.extensions``),
    judged as Django judges them on psycopg2, where psycopg_any.IsolationLevel is an enum over
    psycopg2's constants."""
    pkg.write(
        "settings.py",
        f"""
        import psycopg2.extensions

        DATABASES = {{
            "default": {{
                {PG},
                "OPTIONS": {{
                    "isolation_level": psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE,  {MARKER}
                }},
            }},
            "reports": {{
                {PG},
                "OPTIONS": {{
                    "isolation_level": psycopg2.extensions.ISOLATION_LEVEL_READ_COMMITTED,
                }},
            }},
        }}
        """,
    )
    (finding,) = pkg.findings(levels=Psycopg2Levels)
    assert pkg.where([finding]) == pkg.markers()
    assert 'DATABASES["default"]' in finding.message and "SERIALIZABLE" in finding.message


@pytest.mark.parametrize(
    ("options", "reported"),
    [
        ('{"options": "-c default_transaction_isolation=serializable"}', True),
        (r'{"options": "-c default_transaction_isolation=repeatable\\ read"}', True),
        ('{"options": "-c search_path=shop"}', False),
        # isolation_level wins over the session default (BEGIN ISOLATION LEVEL ...).
        (
            '{"options": "-c default_transaction_isolation=serializable", "isolation_level": 2}',
            False,
        ),
    ],
)
def test_postgresql_libpq_options(pkg: Package, options: str, reported: bool) -> None:
    marker = MARKER if reported else ""
    pkg.write(
        "settings.py",
        f"""
        DATABASES = {{
            "default": {{
                {PG},
                "OPTIONS": {options},  {marker}
            }},
        }}
        """,
    )
    check(pkg)


@pytest.mark.parametrize(
    "engine",
    [
        "django.contrib.gis.db.backends.postgis",
        "django.contrib.gis.db.backends.mysql",
        "django_prometheus.db.backends.mysql",
    ],
)
def test_engine_variants(pkg: Package, engine: str) -> None:
    level = '"serializable"' if "mysql" in engine else "4"
    pkg.write(
        "settings.py",
        f"""
        DATABASES = {{
            "default": {{
                "ENGINE": {engine!r},
                "OPTIONS": {{"isolation_level": {level}}},  {MARKER}
            }},
        }}
        """,
    )
    check(pkg)


@pytest.mark.parametrize(
    "engine", ["django.db.backends.sqlite3", "django.db.backends.oracle", "custom.backend"]
)
def test_other_backends_are_not_judged(pkg: Package, engine: str) -> None:
    pkg.write(
        "settings.py",
        f'DATABASES = {{"default": {{"ENGINE": {engine!r}, '
        '"OPTIONS": {"isolation_level": "serializable"}}}\n',
    )
    assert check(pkg) == []


def test_exec_included_component_file(pkg: Package) -> None:
    """django-split-settings' include(): component files are exec'd into the settings module's
    namespace and registered in sys.modules as dummy modules that only carry ``__file__``."""
    pkg.write(
        "settings/components/database.py",
        f"""
        DATABASES = {{
            "default": {{
                {MYSQL},
                "OPTIONS": {{"isolation_level": "repeatable read"}},  {MARKER}
            }}
        }}
        """,
    )
    pkg.write(
        "settings/__init__.py",
        """
        import os
        import sys
        import types

        _here = os.path.dirname(__file__)
        for _name in ("database",):
            _file = os.path.join(_here, "components", _name + ".py")
            with open(_file) as _source:
                exec(compile(_source.read(), _file, "exec"))
            _module = types.ModuleType("_split_settings." + __name__ + "." + _name)
            _module.__file__ = _file
            sys.modules[_module.__name__] = _module
        """,
    )
    try:
        check(pkg, "settings")
    finally:
        for name in [m for m in sys.modules if m.startswith("_split_settings." + pkg.name)]:
            del sys.modules[name]


def test_no_source_no_finding(pkg: Package) -> None:
    """A settings module whose source cannot be read: nothing rather than a guess."""
    import types

    module = types.ModuleType(f"{pkg.name}.dynamic")
    module.DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "OPTIONS": {}}}  # type: ignore[attr-defined]
    module.DATABASES["default"]["OPTIONS"]["isolation_level"] = "serializable"  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    assert findings_for_databases(module.DATABASES, module.__name__) == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "databases",
    [
        None,
        [],
        "sqlite",
        {"default": None},
        {"default": {"ENGINE": "django.db.backends.mysql", "OPTIONS": "nonsense"}},
        {"default": {"ENGINE": None, "OPTIONS": {"isolation_level": object()}}},
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "OPTIONS": {"isolation_level": []},
            }
        },
        {1: {"ENGINE": "django.db.backends.mysql"}},
    ],
)
def test_odd_values_say_nothing(databases: object) -> None:
    assert findings_for_databases(databases, "no.such.settings", modules={}) == []


def test_findings_for_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.py"
    path.write_text("")
    finding = SettingsFinding(os.path.realpath(path), 3, 4, "DGC007", "m")
    monkeypatch.chdir(tmp_path)
    assert findings_for_file([finding], "settings.py") == [finding]
    assert findings_for_file([finding], "./settings.py") == [finding]
    assert findings_for_file([finding], str(path)) == [finding]
    assert findings_for_file([finding], "other.py") == []
    assert findings_for_file([], "settings.py") == []
    assert finding.text() == "DGC007 m"


# -------------------------------------------------------------- after a real django.setup()

SETUP_AND_FIND = """
import json, os, sys
module = sys.argv[1]
os.environ["DJANGO_SETTINGS_MODULE"] = module
sys.path.insert(0, os.getcwd())
import django
django.setup()
from flake8_django_goc.schema.django.isolation import isolation_findings
print(json.dumps([[f.path, f.line, f.col, f.code, f.message] for f in isolation_findings(module)]))
"""


def _setup_and_find(module: str, cwd: Path, env: dict[str, str] | None = None) -> list[list]:
    full_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-c", SETUP_AND_FIND, module],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def fixture_settings() -> list[str]:
    return sorted(
        p.stem
        for p in FIXTURE_SETTINGS.glob("*.py")
        if p.stem not in ("__init__", "common", "mysql_driver")
    )


def marked_lines(path: Path) -> list[tuple[int, int]]:
    """(line, 0-based col of the key) of each marked line."""
    spots = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if MARKER in line:
            spots.append((number, len(line) - len(line.lstrip())))
    return spots


def test_fixture_settings_after_django_setup() -> None:
    modules = fixture_settings()
    assert len(modules) >= 10
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(
            zip(
                modules,
                pool.map(lambda m: _setup_and_find(f"isolation.settings.{m}", PROJECT), modules),
                strict=True,
            )
        )
    for module, findings in results.items():
        path = FIXTURE_SETTINGS / f"{module}.py"
        got = [(f[1], f[2]) for f in findings]
        assert got == marked_lines(path), (module, findings)
        assert all(f[0] == str(path.resolve()) and f[3] == "DGC007" for f in findings)


def test_setup_with_odd_databases_never_raises(tmp_path: Path) -> None:
    (tmp_path / "odd_settings.py").write_text(
        textwrap.dedent(
            """
            SECRET_KEY = "x"
            INSTALLED_APPS = []


            class Databases(dict):
                def items(self):
                    raise RuntimeError("no")


            DATABASES = Databases(default={"ENGINE": "django.db.backends.sqlite3"})
            """
        )
    )
    assert _setup_and_find("odd_settings", tmp_path) == []


def test_setup_with_split_settings_and_environment(tmp_path: Path) -> None:
    settings = tmp_path / "site_iso" / "settings"
    settings.mkdir(parents=True)
    (tmp_path / "site_iso" / "__init__.py").write_text("")
    (settings / "__init__.py").write_text("")
    (settings / "base.py").write_text(
        textwrap.dedent(
            """
            import os

            SECRET_KEY = "x"
            INSTALLED_APPS = []
            DATABASES = {
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": "shop",
                    "OPTIONS": {"isolation_level": int(os.environ.get("DB_ISOLATION", "2"))},
                }
            }
            """
        )
    )
    (settings / "production.py").write_text("from .base import *  # noqa: F403\n")
    assert _setup_and_find("site_iso.settings.production", tmp_path) == []
    (finding,) = _setup_and_find("site_iso.settings.production", tmp_path, {"DB_ISOLATION": "4"})
    base = settings / "base.py"
    assert finding[0] == str(base.resolve())
    assert '"isolation_level"' in base.read_text().splitlines()[finding[1] - 1]
    assert "SERIALIZABLE" in finding[4]


# -------------------------------------------------------------------- flake8 and the command

WIRED = "settings_findings" in {f.name for f in dataclasses.fields(Schema)}
needs_wiring = pytest.mark.skipif(
    not WIRED,
    reason="DGC007 is not wired yet: Schema.settings_findings, check_source() and the "
    "command's gate (see the isolation report)",
)


def run_command(*args: str, cwd: Path = PROJECT, env: dict[str, str] | None = None):
    full_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flake8_django_goc", "--isolated", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


WARM_TOO = ("mariadb_init_command", "pg_repeatable_read", "pg_default")


def _expected(module: str) -> list[tuple[str, int, int]]:
    rel = f"isolation/settings/{module}.py"
    return [(rel, line, col + 1) for line, col in marked_lines(PROJECT / rel)]


@needs_wiring
@pytest.mark.parametrize("module", fixture_settings())
def test_flake8_reports_dgc007_at_the_settings_line(module: str, tmp_path: Path) -> None:
    rel = f"isolation/settings/{module}.py"
    cache = {"FLAKE8_DJANGO_GOC_CACHE_DIR": str(tmp_path)}
    # A second run reads the Schema from the on-disk cache: the findings must survive it.
    runs = 2 if module in WARM_TOO else 1
    for _run in range(runs):
        result = run_flake8(
            "--select", "DGC", "--django-settings-module", f"isolation.settings.{module}",
            "--format", "%(path)s:%(row)d:%(col)d:%(code)s:%(text)s", rel, env=cache,
        )  # fmt: skip
        assert result.returncode in (0, 1), result.stdout + result.stderr
        got = [(r.path, r.line, r.col) for r in parse_reports(result.stdout)]
        assert got == _expected(module), result.stdout
        assert all(r.code == "DGC007" for r in parse_reports(result.stdout))


@needs_wiring
@pytest.mark.parametrize("module", ["mariadb_repeatable_read", "pg_serializable", "pg_default"])
def test_command_reports_dgc007_like_flake8(module: str, tmp_path: Path) -> None:
    rel = f"isolation/settings/{module}.py"
    result = run_command(
        "--django-settings-module", f"isolation.settings.{module}", "--format", "json", rel,
        env={"FLAKE8_DJANGO_GOC_CACHE_DIR": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stdout + result.stderr
    findings = json.loads(result.stdout)["findings"]
    got = [(f["path"], f["line"], f["column"]) for f in findings]
    assert got == _expected(module), result.stdout
    assert all(f["code"] == "DGC007" for f in findings)


@needs_wiring
def test_whole_app_reports_dgc007_once_next_to_the_call_verdicts(tmp_path: Path) -> None:
    settings = "isolation.settings.mariadb_init_command"
    env = {"FLAKE8_DJANGO_GOC_CACHE_DIR": str(tmp_path)}
    flake8 = run_flake8(
        "--select", "DGC", "--django-settings-module", settings,
        "--format", "%(path)s:%(row)d:%(col)d:%(code)s:%(text)s", "isolation", env=env,
    )  # fmt: skip
    command = run_command(
        "--django-settings-module", settings, "--format", "json", "isolation", env=env
    )
    reports = [(r.path, r.line, r.code) for r in parse_reports(flake8.stdout)]
    [(line, _col)] = marked_lines(FIXTURE_SETTINGS / "mariadb_init_command.py")
    assert reports.count(("isolation/settings/mariadb_init_command.py", line, "DGC007")) == 1
    assert [r for r in reports if r[2] == "DGC007"] == [
        ("isolation/settings/mariadb_init_command.py", line, "DGC007")
    ]
    assert ("isolation/case_isolation_mariadb.py", "DGC001") in {(r[0], r[2]) for r in reports}
    from_command = [
        (os.path.normpath(f["path"]), f["line"], f["code"])
        for f in json.loads(command.stdout)["findings"]
    ]
    assert sorted(from_command) == sorted(reports)


@needs_wiring
def test_noqa_silences_dgc007(tmp_path: Path) -> None:
    (tmp_path / "noqa_settings.py").write_text(
        textwrap.dedent(
            """
            SECRET_KEY = "x"
            INSTALLED_APPS = []
            DATABASES = {
                "default": {
                    "ENGINE": "django.db.backends.sqlite3",
                    "NAME": ":memory:",
                },
                "mysql": {
                    "ENGINE": "django.db.backends.mysql",
                    "OPTIONS": {"isolation_level": "repeatable read"},  # noqa: DGC007
                },
            }
            """
        )
    )
    env = {"FLAKE8_DJANGO_GOC_CACHE_DIR": str(tmp_path / "cache")}
    args = ("--select", "DGC", "--django-settings-module", "noqa_settings", "noqa_settings.py")
    flake8 = run_flake8(*args, cwd=tmp_path, env=env)
    assert flake8.returncode == 0 and flake8.stdout == "", flake8.stdout + flake8.stderr
    command = run_command(*args[2:], cwd=tmp_path, env=env)
    assert command.returncode == 0 and command.stdout == "", command.stdout + command.stderr
    # Without the noqa both report it, at the key.
    source = (tmp_path / "noqa_settings.py").read_text().replace("  # noqa: DGC007", "")
    (tmp_path / "noqa_settings.py").write_text(source)
    flake8 = run_flake8(*args, cwd=tmp_path, env=env)
    assert re.search(r"noqa_settings\.py:11:21: DGC007 ", flake8.stdout), flake8.stdout
    command = run_command(*args[2:], cwd=tmp_path, env=env)
    assert re.search(r"noqa_settings\.py:11:21: DGC007 ", command.stdout), command.stdout
