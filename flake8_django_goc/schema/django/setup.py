"""Set Django up for the project being linted.

``setup_django`` imports the settings and runs ``django.setup()``, turning every failure into a
``SetupError`` with a one-paragraph explanation: the exception, where in the project it was raised
(file:line), the app whose models module raised it, and a hint.
"""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
import traceback
from types import TracebackType

from flake8_django_goc.schema.django.drivers import install_stand_ins


class SetupError(Exception):
    """Django could not be set up; the message says why and what to do."""


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message``, for one-paragraph errors."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def setup_django(settings_module: str, root: str | None = None) -> None:
    """Import the settings and run django.setup(), with the project root (default: the current
    directory) importable, as ``manage.py`` makes its own directory."""
    root = root or os.getcwd()
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        import django
    except ImportError as exc:
        raise SetupError(
            f"Django is not importable ({first_line(exc)}). Install flake8-django-goc into the "
            "virtual environment of the project you lint, next to Django."
        ) from None
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    try:
        settings = importlib.import_module(settings_module)
    except BaseException as exc:  # settings may raise anything, even SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        if _settings_missing(exc, settings_module):
            raise SetupError(
                f"cannot import the Django settings module {settings_module!r}: "
                f"{first_line(exc)}. Run flake8 from the project root (where manage.py is) or "
                "pass the right dotted path with --django-settings-module (or "
                "`django-settings-module =` in setup.cfg, tox.ini or .flake8)."
            ) from None
        raise SetupError(
            f"cannot import the Django settings module {settings_module!r}: "
            f"{describe(exc, root)}. The settings must import cleanly (as for "
            "`python manage.py check`) in the environment flake8 runs in: check the environment "
            "variables they read."
        ) from None
    # No connection is ever made: a missing driver must not stop the backend from importing.
    install_stand_ins(getattr(settings, "DATABASES", None))
    try:
        django.setup()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        app = _importing_models_of(exc.__traceback__)
        where = f" while importing the models of app {app!r}" if app else ""
        raise SetupError(
            f"django.setup() failed for settings {settings_module!r}{where}: "
            f"{describe(exc, root)}. The project must import cleanly (as for `python manage.py "
            "check`) in the environment flake8 runs in: check INSTALLED_APPS, the models modules "
            "and the required environment variables."
        ) from None


def _settings_missing(exc: BaseException, settings_module: str) -> bool:
    """The settings module itself (or a package above it) does not exist."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return False
    parts = settings_module.split(".")
    return exc.name in {".".join(parts[: i + 1]) for i in range(len(parts))}


def describe(exc: BaseException, root: str) -> str:
    """The exception, and where in the project it was raised: ``KeyError: 'SECRET_KEY'
    (site_cfg/settings.py:3)``; ``shop/models.py:3 imports missing module 'foo'``."""
    location = project_location(exc, root)
    if isinstance(exc, ModuleNotFoundError) and exc.name and location:
        return f"{location} imports missing module {exc.name!r} ({first_line(exc)})"
    what = first_line(exc)
    if isinstance(exc, SyntaxError) and exc.msg and location:
        what = f"{type(exc).__name__}: {exc.msg}"  # its text repeats the file and line
    return f"{what} ({location})" if location else what


def project_location(exc: BaseException, root: str) -> str | None:
    """``path:line`` relative to ``root`` of the last traceback frame in the project's own code
    (a SyntaxError: the offending line itself)."""
    filename = exc.filename if isinstance(exc, SyntaxError) and exc.lineno else None
    if isinstance(exc, SyntaxError) and filename and _in_project(filename, root):
        return f"{_relative(filename, root)}:{exc.lineno}"
    found = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if _in_project(filename, root):
            found = f"{_relative(filename, root)}:{line}"
    return found


def _excluded_dirs() -> tuple[str, ...]:
    paths = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    return tuple(os.path.realpath(p) + os.sep for p in paths if p)


def _in_project(filename: str, root: str) -> bool:
    if not filename or filename.startswith("<"):
        return False
    path = os.path.realpath(filename)
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts or path.startswith(_excluded_dirs()):
        return False
    real_root = os.path.realpath(root)
    return path == real_root or path.startswith(real_root + os.sep)


def _relative(filename: str, root: str) -> str:
    return os.path.relpath(os.path.realpath(filename), os.path.realpath(root))


def _importing_models_of(tb: TracebackType | None) -> str | None:
    """The label of the app whose models module was being imported (AppConfig.import_models)."""
    from django.apps import AppConfig

    label = None
    for frame, _ in traceback.walk_tb(tb):
        if frame.f_code.co_name == "import_models":
            config = frame.f_locals.get("self")
            if isinstance(config, AppConfig):
                label = config.label
    return label
