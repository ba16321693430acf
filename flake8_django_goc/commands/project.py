"""Finding the Django project from anywhere inside it: its root (where manage.py is, put on
``sys.path``), its config file, and the settings module manage.py names.

Shared by the plugin and the commands; reads files only (manage.py is parsed with ``ast``, never
run) and imports neither Django nor flake8.
"""

from __future__ import annotations

import ast
import configparser
import os
import sys
from collections.abc import Callable, Iterable

FLAKE8_CONFIG_FILES = ("setup.cfg", "tox.ini", ".flake8")  # flake8's order; the first one wins
PYPROJECT_TABLE = "tool.flake8-django-goc"
MANAGE = "manage.py"
SETTINGS_VARIABLE = "DJANGO_SETTINGS_MODULE"


def _ancestors(start: str) -> Iterable[str]:
    """``start`` (a directory, or a file's directory) and its parents, as flake8 walks them up
    to its config file: up to the filesystem root, stopping below the home directory."""
    path = os.path.abspath(start)
    if not os.path.isdir(path):
        path = os.path.dirname(path)
    home = os.path.expanduser("~")
    home = os.path.abspath(home) if home != "~" else ""
    while True:
        yield path
        parent = os.path.dirname(path)
        if parent in (path, home):
            return
        path = parent


def nearest(starts: Iterable[str], holds: Callable[[str], bool]) -> str | None:
    """The nearest directory holding what ``holds`` looks for, walking up from each start in
    turn (the current directory first, then the paths checked)."""
    for start in starts:
        for directory in _ancestors(start):
            if holds(directory):
                return directory
    return None


def has_manage_py(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, MANAGE))


def has_config(directory: str) -> bool:
    """A flake8 config file with a flake8 section (flake8's own test), or a pyproject.toml with
    our table."""
    for name in FLAKE8_CONFIG_FILES:
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        cfg = configparser.RawConfigParser()
        try:
            cfg.read(path, encoding="utf-8")
        except (UnicodeDecodeError, configparser.Error):
            continue  # flake8 ignores an unparseable file and looks at the next one
        if "flake8" in cfg or "flake8:local-plugins" in cfg:
            return True
    return _pyproject_has_table(os.path.join(directory, "pyproject.toml"))


def _pyproject_has_table(path: str) -> bool:
    if not os.path.isfile(path):
        return False
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError):
        return False
    if "flake8-django-goc" not in text:  # the cheap test first
        return False
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError:
        return True  # ours, maybe: reading it reports the error
    return isinstance(tool, dict) and "flake8-django-goc" in tool


def settings_from_manage_py(directory: str) -> str | None:
    """The settings module manage.py sets: ``os.environ.setdefault("DJANGO_SETTINGS_MODULE",
    "mysite.settings")`` (or an assignment to ``os.environ[...]``), read with ``ast``."""
    try:
        with open(os.path.join(directory, MANAGE), "rb") as file:
            tree = ast.parse(file.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and _is_environ(node.func.value)
            and len(node.args) == 2
            and _text(node.args[0]) == SETTINGS_VARIABLE
        ):
            return _text(node.args[1])
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Subscript)
            and _is_environ(node.targets[0].value)
            and _text(node.targets[0].slice) == SETTINGS_VARIABLE
        ):
            return _text(node.value)
    return None


def _is_environ(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id == "environ"


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value.strip()
    return None
