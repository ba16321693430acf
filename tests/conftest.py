"""Shared fixtures. Django and PostgreSQL are set up lazily, only for tests that request
``django_project``: the plugin's own tests run flake8 in subprocesses and need neither."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = TESTS_DIR / "fixtures" / "project"
SETTINGS_MODULE = "goc_project.settings"

# Helper modules (pg, race) live next to this file, whether or not tests/ is a package.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

if TYPE_CHECKING:
    from pg import PgServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PgServer]:
    """A PostgreSQL 15+ server (see tests/pg.py). Skips without one, fails under
    ``GOC_REQUIRE_PG=1``."""
    from pg import PgUnavailable, provide_postgres

    try:
        server = provide_postgres()
    except PgUnavailable as exc:
        if os.environ.get("GOC_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required (GOC_REQUIRE_PG=1): {exc}", pytrace=False)
        pytest.skip(f"no PostgreSQL server for the race tests: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def django_project(postgres: PgServer) -> Iterator[None]:
    """The fixture project set up against ``postgres``, tables created by migrate."""
    saved_env = {name: os.environ.get(name) for name in [*postgres.env, "DJANGO_SETTINGS_MODULE"]}
    added_path = str(PROJECT_ROOT) not in sys.path
    os.environ.update(postgres.env)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    if added_path:
        sys.path.insert(0, str(PROJECT_ROOT))
    try:
        _setup_django()
        yield
    finally:
        from django.db import connections

        connections.close_all()
        _restore_env(saved_env)
        if added_path:
            sys.path.remove(str(PROJECT_ROOT))


def _setup_django() -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    try:
        configured = getattr(settings, "SETTINGS_MODULE", None) if settings.configured else None
        if settings.configured and configured != SETTINGS_MODULE:
            pytest.fail(
                f"Django is already configured with {configured!r} in this process; the race "
                f"tests need {SETTINGS_MODULE!r}",
                pytrace=False,
            )
        django.setup()
    finally:
        # Settings are read now; do not leak the module to flake8 subprocesses of other tests.
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)

    from race import drop_fixture_tables

    drop_fixture_tables()
    # Migrated apps first: syncdb runs before migrations, and library's generic relations need
    # the contenttypes table to exist when their foreign keys are created.
    call_command("migrate", verbosity=0, interactive=False)
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


def _restore_env(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
