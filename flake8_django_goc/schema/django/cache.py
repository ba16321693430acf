"""On-disk cache of the Schema, so a warm run skips ``django.setup()`` entirely.

A cache entry is valid only if it provably describes the same code: the key holds the settings
module, the working directory, the Python, Django and plugin versions, and the size and mtime of
every source file that was imported while Django was set up (models, settings, installed apps),
plus the paths where an app's models module could appear. Anything unreadable is ignored and
rebuilt; failing to write is silent.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from importlib import metadata
from typing import Any

from flake8_django_goc import __version__
from flake8_django_goc.schema import Schema, from_jsonable, to_jsonable

# 2: Schema.settings_findings (DGC007); 3: positional records; 4: Schema.warnings;
# 5: FieldFacts.auto, fixed_default; 6: ManagerFacts.overrides; 7: Schema.factories;
# 8: TYPE_CHECKING getters, translated keys, override sources; 9: manager filters per instance;
# 10: FieldFacts.reverse_accessor
FORMAT = 10
ENV_DIR = "FLAKE8_DJANGO_GOC_CACHE_DIR"
DEFAULT_DIR = ".flake8-django-goc-cache"


def cache_dir() -> str:
    return os.environ.get(ENV_DIR) or os.path.join(os.getcwd(), DEFAULT_DIR)


def _identity(settings_module: str, root: str | None = None) -> dict[str, Any]:
    try:
        django_version = metadata.version("django")
    except metadata.PackageNotFoundError:
        django_version = None
    return {
        "format": FORMAT,
        "settings": settings_module,
        "cwd": os.path.realpath(root or os.getcwd()),
        "python": sys.version,
        # The environment, however Python was started (`python -m flake8` or the `flake8` script).
        "environment": [sys.prefix, os.path.realpath(sys.executable)],
        "django": django_version,
        "plugin": __version__,
    }


def _entry_path(identity: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    return os.path.join(cache_dir(), f"schema-{digest}.json")


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def fingerprint() -> dict[str, list[int] | None]:
    """Size and mtime of every non-stdlib source file imported so far."""
    stdlib = tuple(
        os.path.realpath(p)
        for p in {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
        if p
    )
    files: dict[str, list[int] | None] = {}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str) or not file.endswith((".py", ".so", ".pyd")):
            continue
        path = os.path.realpath(file)
        if path.startswith(stdlib) and "site-packages" not in path:
            continue
        files[path] = _stat(path)
    return files


def _absent_models_modules() -> list[str]:
    """Where an installed app's models module would be, if it has none yet."""
    try:
        from django.apps import apps
    except ImportError:
        return []
    absent = []
    for config in apps.get_app_configs():
        if config.models_module is None and config.path:
            for candidate in ("models.py", os.path.join("models", "__init__.py")):
                absent.append(os.path.join(config.path, candidate))
    return absent


def load(settings_module: str, root: str | None = None) -> Schema | None:
    """The cached Schema if it is still fresh, else None."""
    identity = _identity(settings_module, root)
    try:
        with open(_entry_path(identity), encoding="utf-8") as file:
            entry = json.load(file)
        if entry["identity"] != identity:
            return None
        for path, stat in entry["files"].items():
            if _stat(path) != stat:
                return None
        if any(os.path.exists(path) for path in entry["absent"]):
            return None
        schema = from_jsonable(entry["schema"])
        return schema if isinstance(schema, Schema) else None
    except Exception:  # missing, unreadable, corrupt or from another version: rebuild
        return None


def store(settings_module: str, schema: Schema, root: str | None = None) -> None:
    entry = {
        "identity": _identity(settings_module, root),
        "files": fingerprint(),
        "absent": _absent_models_modules(),
        "schema": to_jsonable(schema),
    }
    directory = cache_dir()
    try:
        os.makedirs(directory, exist_ok=True)
        ignore = os.path.join(directory, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w", encoding="utf-8") as file:
                file.write("# created by flake8-django-goc\n*\n")
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".schema-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(entry, file)
        os.replace(tmp, _entry_path(entry["identity"]))
    except OSError:
        pass  # a read-only checkout still works, just without the cache


def cached(
    settings_module: str, build: Callable[[str, str | None], Schema], root: str | None = None
) -> Schema:
    schema = load(settings_module, root)
    if schema is None:
        schema = build(settings_module, root)
        store(settings_module, schema, root)
    return schema
