"""Set Django up for the project being linted.

``setup_django`` imports the settings and runs ``django.setup()``, turning every failure into a
``SetupError`` with a one-paragraph explanation and a hint.
"""

from __future__ import annotations

import importlib
import os
import sys


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
        importlib.import_module(settings_module)
    except BaseException as exc:  # settings may raise anything, even SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SetupError(
            f"cannot import the Django settings module {settings_module!r}: {first_line(exc)}. "
            "Run flake8 from the project root (where manage.py is) or pass the right dotted path "
            "with --django-settings-module (or `django-settings-module =` in setup.cfg, tox.ini "
            "or .flake8)."
        ) from None
    try:
        django.setup()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SetupError(
            f"django.setup() failed for settings {settings_module!r}: {first_line(exc)}. "
            "The project must import cleanly (as for `python manage.py check`) in the environment "
            "flake8 runs in: check INSTALLED_APPS, the models modules and the required environment "
            "variables."
        ) from None
