"""The configuration the commands read: flake8's config files and ``[tool.flake8-django-goc]``.

Merged with the command line as flake8 does: each key is overridden on its own.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flake8_django_goc.commands.console import note
from flake8_django_goc.commands.flake8_compat import DEFAULT_EXCLUDE, split_list
from flake8_django_goc.commands.project import (
    FLAKE8_CONFIG_FILES,
    PYPROJECT_TABLE,
    has_config,
    has_manage_py,
    nearest,
    settings_from_manage_py,
)
from flake8_django_goc.options import config_keys
from flake8_django_goc.schema.declared import split_entries
from flake8_django_goc.schema.django.setup import first_line as _first_line

# The config keys by kind, from the option table.
LIST_KEYS = config_keys("list")
STR_KEYS = config_keys("str")
PLUGIN_BOOL_KEYS = config_keys("bool", "flake8")
CLI_BOOL_KEYS = config_keys("bool", "pyproject")  # our own: pyproject only, flake8 has no such key


class UsageError(Exception):
    """A problem with the options or configuration; the message is shown as is."""


# ------------------------------------------------------------------------------ configuration


def _key(raw: str) -> str:
    return raw.strip().lower().replace("_", "-")


def read_flake8_config(cwd: str, shown: str = "") -> tuple[dict[str, Any], str | None]:
    """The plugin's keys from the [flake8] section of the first flake8 config file in ``cwd``
    (``shown``: how to name that directory in messages, "" for the current one)."""
    for name in FLAKE8_CONFIG_FILES:
        path = os.path.join(cwd, name)
        name = os.path.join(shown, name)
        if not os.path.isfile(path):
            continue
        cfg = configparser.RawConfigParser()
        try:
            cfg.read(path, encoding="utf-8")
        except (UnicodeDecodeError, configparser.Error) as exc:
            # flake8 ignores an unparseable file too and looks at the next one.
            note(f"ignoring unparseable config {name}: {_first_line(exc)}")
            continue
        if "flake8" not in cfg and "flake8:local-plugins" not in cfg:
            continue  # flake8 only takes a file with a flake8 section
        where = f"[flake8] of {name}"
        if "flake8" not in cfg:
            return {}, where
        values: dict[str, Any] = {}
        for raw_key, raw in cfg["flake8"].items():
            key = _key(raw_key)
            if key in LIST_KEYS:
                values[key] = split_list(raw)
            elif key in STR_KEYS:
                values[key] = raw.strip()
            elif key in PLUGIN_BOOL_KEYS:
                values[key] = _boolean(raw, f"{key} in {where}")
            # other keys belong to flake8 and its other plugins
        return values, where
    return {}, None


def _boolean(raw: str, where: str) -> bool:
    state = configparser.RawConfigParser.BOOLEAN_STATES.get(raw.strip().lower())
    if state is None:
        raise UsageError(f"{where}: expected true or false, got {raw!r}")
    return state


def read_pyproject(cwd: str, shown: str = "") -> dict[str, Any]:
    """``[tool.flake8-django-goc]`` of ``cwd``/pyproject.toml, with TOML types checked."""
    path = os.path.join(cwd, "pyproject.toml")
    name = os.path.join(shown, "pyproject.toml")
    if not os.path.isfile(path):
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {name}: {_first_line(exc)}") from None
    table = data.get("tool", {}).get("flake8-django-goc")
    if table is None:
        return {}
    where = f"[{PYPROJECT_TABLE}] in {name}"
    if not isinstance(table, dict):
        raise UsageError(f"{where} must be a table")
    values: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = _key(raw_key)
        if key in LIST_KEYS:
            if isinstance(value, str):
                values[key] = split_list(value)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                values[key] = [item for v in value for item in split_list(v)]
            else:
                raise UsageError(f"{where}: {raw_key} must be a list of strings or a string")
        elif key in STR_KEYS:
            if isinstance(value, list) and key == "django-goc-extra-unique":
                value = " ".join(str(v) for v in value)  # a TOML list of entries is fine too
            if not isinstance(value, str):
                raise UsageError(f"{where}: {raw_key} must be a string")
            values[key] = value.strip()
        elif key in PLUGIN_BOOL_KEYS or key in CLI_BOOL_KEYS:
            if not isinstance(value, bool):
                raise UsageError(f"{where}: {raw_key} must be true or false")
            values[key] = value
        else:
            known = ", ".join((*STR_KEYS, *LIST_KEYS, *PLUGIN_BOOL_KEYS, *CLI_BOOL_KEYS))
            raise UsageError(f"{where}: unknown key {raw_key!r} (known keys: {known})")
    return values


@dataclass(frozen=True)
class Options:
    settings: str | None
    select: list[str] | None
    extend_select: list[str]
    ignore: list[str] | None
    extend_ignore: list[str]
    exclude: list[str]  # the patterns in force (exclude + extend-exclude), flake8-normalized
    no_migrations: bool
    stats: bool
    no_cache: bool
    origin: dict[str, str] = field(default_factory=dict)  # key -> where its value came from
    extra_unique: tuple[str, ...] = ()  # app.Model:field1,field2 entries
    serializers: tuple[str, ...] = ()  # decorators / context managers that serialise calls
    root: str = ""  # the project root, put on sys.path ("": the current directory)
    config_dir: str | None = None  # where the config file was found

    @property
    def settings_from_environment(self) -> bool:
        """The settings module came only from $DJANGO_SETTINGS_MODULE or manage.py."""
        return self.origin.get("django-settings-module", "").startswith(("$", MANAGE_ORIGIN))


MANAGE_ORIGIN = "manage.py"


def resolve_options(
    cli: dict[str, Any],
    cwd: str,
    environ: Mapping[str, str],
    isolated: bool,
    paths: Sequence[str] = (),
) -> Options:
    """Merge the command line (``cli``: keys given there), pyproject and the flake8 section.

    The config file and the project root are the nearest ones walking up from ``cwd``, then
    from each of ``paths`` (the paths checked)."""
    starts = [cwd, *(os.path.join(cwd, p) for p in paths)]
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    config_dir = None if isolated else nearest(starts, has_config)
    if config_dir is not None:
        shown = _shown(config_dir, cwd)
        flake8_values, flake8_where = read_flake8_config(config_dir, shown)
        for key, value in flake8_values.items():
            values[key], origin[key] = value, flake8_where or ""
        for key, value in read_pyproject(config_dir, shown).items():
            values[key] = value
            origin[key] = f"[{PYPROJECT_TABLE}] in {os.path.join(shown, 'pyproject.toml')}"
    for key, value in cli.items():
        values[key], origin[key] = value, "the command line"

    def base(key: str) -> str:  # a config file's relative paths are relative to its directory
        return cwd if origin.get(key) == "the command line" or config_dir is None else config_dir

    given_root = values.get("django-project-root")
    if given_root:
        root = os.path.normpath(os.path.join(base("django-project-root"), given_root))
        if not os.path.isdir(root):
            where = origin["django-project-root"]
            raise UsageError(f"django-project-root {given_root!r} (from {where}) is no directory")
    else:
        root = nearest(starts, has_manage_py) or config_dir or cwd
    settings = values.get("django-settings-module") or environ.get("DJANGO_SETTINGS_MODULE")
    if settings and "django-settings-module" not in values:
        origin["django-settings-module"] = "$DJANGO_SETTINGS_MODULE"
    if not settings:
        settings = settings_from_manage_py(root)
        if settings:
            origin["django-settings-module"] = f"{MANAGE_ORIGIN} in {_shown(root, cwd) or '.'}"
    exclude = [
        *(_normalize_pattern(p, base("exclude")) for p in values.get("exclude", DEFAULT_EXCLUDE)),
        *(_normalize_pattern(p, base("extend-exclude")) for p in values.get("extend-exclude", ())),
    ]
    return Options(
        settings=settings or None,
        select=values.get("select"),
        extend_select=values.get("extend-select", []),
        ignore=values.get("ignore"),
        extend_ignore=values.get("extend-ignore", []),
        exclude=exclude,
        no_migrations=bool(values.get("no-migrations")),
        stats=bool(values.get("django-goc-stats")),
        no_cache=bool(values.get("django-goc-no-cache")),
        origin=origin,
        extra_unique=tuple(split_entries(values.get("django-goc-extra-unique"))),
        serializers=tuple(values.get("django-goc-serializers", ())),
        root=root,
        config_dir=config_dir,
    )


def _shown(directory: str, cwd: str) -> str:
    """``directory`` as messages name it: relative to ``cwd`` ("" for ``cwd`` itself)."""
    relative = os.path.relpath(directory, cwd)
    return "" if relative == os.curdir else relative


def _normalize_pattern(pattern: str, cwd: str) -> str:
    # flake8.utils.normalize_path: a pattern with a separator is a path relative to the config
    # file's directory (``cwd`` here); a bare name or glob matches a basename anywhere.
    if pattern == "." or os.sep in pattern or (os.altsep and os.altsep in pattern):
        pattern = os.path.abspath(os.path.join(cwd, pattern))
    return pattern.rstrip(os.sep + (os.altsep or ""))
