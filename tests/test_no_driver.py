"""No database driver needed: the linter never connects, so a missing driver must not stop it.

Each settings module is linted twice through the real flake8: as installed (psycopg, psycopg2 and
PyMySQL are test dependencies), and with a ``sitecustomize`` on PYTHONPATH that hides every
driver from the path finder, as if it were not installed. The findings must be identical, DGC007
included. Oracle has no driver installed here at all: its backend facts must still be Oracle's.
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flake8_run import PROJECT, run_flake8

DRIVERS: tuple[str, ...] = ("MySQLdb", "pymysql", "psycopg", "psycopg2", "psycopg_c")
DRIVERS += ("psycopg_binary", "oracledb", "cx_Oracle")

BLOCKER = f"""\
import sys
from importlib.machinery import PathFinder

BLOCKED = {set(DRIVERS)!r}


class NoDrivers(PathFinder):
    # The path finder without the drivers: as if they were not installed.
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            return None
        return super().find_spec(name, path, target)


sys.meta_path[:] = [NoDrivers if f is PathFinder else f for f in sys.meta_path]
"""

ISOLATION = PROJECT / "isolation" / "settings"
# Settings that import the driver themselves (`from psycopg import IsolationLevel`) need it, as
# for `manage.py check`: tested apart below.
IMPORTS_DRIVER = {"pg_read_committed", "pg_repeatable_read", "pg_serializable"}
SETTINGS = [
    ("goc_project.settings", "."),  # PostgreSQL, django.contrib.postgres installed
    ("goc_project.settings_mysql", "cases"),
    *(
        (f"isolation.settings.{p.stem}", "isolation")
        for p in sorted(ISOLATION.glob("*.py"))
        if p.stem.startswith(("pg_", "mariadb_")) and p.stem not in IMPORTS_DRIVER
    ),
]


@pytest.fixture(scope="module")
def blocker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("no_drivers")
    (directory / "sitecustomize.py").write_text(BLOCKER)
    return directory


def no_drivers(blocker: Path) -> dict[str, str]:
    return {"PYTHONPATH": str(blocker), "FLAKE8_DJANGO_GOC_NO_CACHE": "1"}


def test_the_blocker_hides_every_driver(blocker: Path) -> None:
    code = f"import importlib.util as u; print([n for n in {DRIVERS!r} if u.find_spec(n)])"
    hidden = subprocess.run(
        [sys.executable, "-c", code], env=no_drivers(blocker), capture_output=True, text=True
    )
    assert hidden.stdout.strip() == "[]", hidden.stdout + hidden.stderr
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    for name in ("pymysql", "psycopg", "psycopg2"):  # what the comparison compares against
        assert name in shown.stdout, shown.stdout + shown.stderr


def lint(settings: str, path: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_flake8("--select", "DGC", "--django-settings-module", settings, path, env=env)


def test_findings_without_drivers_equal_those_with_them(blocker: Path) -> None:
    plain = {"FLAKE8_DJANGO_GOC_NO_CACHE": "1"}
    runs = [(s, p, env) for s, p in SETTINGS for env in (plain, no_drivers(blocker))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda run: lint(*run), runs))
    dgc007 = 0
    for i in range(0, len(results), 2):
        settings = runs[i][0]
        with_drivers, without = results[i], results[i + 1]
        assert with_drivers.returncode == 1, (settings, with_drivers.stderr)
        assert "Traceback" not in without.stderr, (settings, without.stderr)
        expected = (with_drivers.returncode, with_drivers.stdout)
        assert (without.returncode, without.stdout) == expected, settings
        dgc007 += with_drivers.stdout.count(" DGC007 ")
    assert len(results) == 2 * len(SETTINGS) and len(SETTINGS) >= 10
    assert dgc007 >= 4  # the comparison covers DGC007, not only the call verdicts


def test_settings_importing_the_driver_name_it(blocker: Path) -> None:
    result = lint("isolation.settings.pg_serializable", "isolation", no_drivers(blocker))
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output, output
    assert "isolation/settings/pg_serializable.py:5 imports missing module 'psycopg'" in output, (
        output
    )


ORACLE_SETTINGS = """\
INSTALLED_APPS = ["app"]
DATABASES = {"default": {"ENGINE": "django.db.backends.oracle", "NAME": "x"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""
ORACLE_MODELS = """\
from django.db import models


class Thing(models.Model):
    name = models.CharField(max_length=10)
    kind = models.CharField(max_length=10)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(kind="a"), name="thing_name_a_uniq"
            )
        ]
"""
ORACLE_VIEWS = """\
from app.models import Thing


def view():
    return Thing.objects.get_or_create(name="n", kind="a")
"""


def test_oracle_without_its_driver(tmp_path: Path, blocker: Path) -> None:
    (tmp_path / "site_cfg").mkdir()
    (tmp_path / "site_cfg" / "__init__.py").write_text("")
    (tmp_path / "site_cfg" / "settings.py").write_text(ORACLE_SETTINGS)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text(ORACLE_MODELS)
    (tmp_path / "app" / "views.py").write_text(ORACLE_VIEWS)
    result = run_flake8(
        "--select",
        "DGC",
        "--django-settings-module",
        "site_cfg.settings",
        "app",
        cwd=tmp_path,
        env=no_drivers(blocker),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    # Oracle creates no partial unique index: the backend's facts are Oracle's.
    assert "DGC001" in result.stdout, result.stdout
    assert "Oracle does not create conditional (partial) unique constraints" in result.stdout
