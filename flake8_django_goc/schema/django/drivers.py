"""Stand-ins for database drivers that are not installed: the linter never connects.

Django's backend modules import their driver at import time (``import MySQLdb as Database``,
``psycopg``, ``oracledb``), and ``django.setup()`` imports the backend because model classes ask
``connection.ops`` (table-name truncation). So a project linted in an environment without its
driver would not set up at all. For each ``DATABASES`` alias on one of Django's own backends whose
driver is not importable, ``install_stand_ins`` puts an inert module under the driver's name: the
real backend module then imports, and ``connection.vendor``, ``features`` and ``ops`` answer as
they do with the driver. Anything that would talk to the database gets inert placeholders, which
is never used since nothing connects.

Settings that import the driver themselves (``from psycopg import IsolationLevel``) still need it:
they are imported before the ENGINE is known.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any, ClassVar

# Django's backends (the last part of ENGINE, GIS ones included) -> the driver modules it tries,
# first preferred; the stand-in takes the first name.
_DRIVERS = {
    "mysql": ("MySQLdb",),
    "postgresql": ("psycopg", "psycopg2"),
    "postgresql_psycopg2": ("psycopg", "psycopg2"),
    "postgis": ("psycopg", "psycopg2"),
    "oracle": ("oracledb", "cx_Oracle"),
}
_DJANGO_BACKENDS = ("django.db.backends.", "django.contrib.gis.db.backends.")

# The few attributes the backends read as real values at import time (version checks, a dict
# they unpack); the versions are the oldest each Django backend accepts.
_VALUES: dict[str, dict[str, Any]] = {
    "MySQLdb": {"version_info": (1, 4, 3, "final", 0), "__version__": "1.4.3"},
    "MySQLdb.converters": {"conversions": {}},
    "psycopg": {"__version__": "3.1.8"},
    "oracledb": {"__version__": "1.3.2", "version": "1.3.2"},
}
MARKER = "__flake8_django_goc_stand_in__"


def drivers_for(engine: str) -> tuple[str, ...]:
    if not engine.startswith(_DJANGO_BACKENDS):
        return ()  # a third-party backend: its imports are its own
    return _DRIVERS.get(engine.rsplit(".", 1)[-1], ())


def _importable(name: str) -> bool:
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def install_stand_ins(databases: Any) -> list[str]:
    """Stand-ins for the missing drivers of ``DATABASES`` (never imports a real one); returns
    the stubbed module names."""
    if not isinstance(databases, Mapping):
        return []
    stubbed: list[str] = []
    for config in databases.values():
        engine = config.get("ENGINE") if isinstance(config, Mapping) else None
        drivers = drivers_for(engine) if isinstance(engine, str) else ()
        if drivers and not any(_importable(name) for name in drivers):
            root = drivers[0]
            if root not in _Finder.roots:
                _Finder.roots.add(root)
                stubbed.append(root)
    if stubbed and not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())  # last: a real module installed meanwhile wins
    return stubbed


def is_stand_in(module: object) -> bool:
    return isinstance(module, ModuleType) and bool(vars(module).get(MARKER))


# ------------------------------------------------------------------------------ the stand-ins


class _Meta(type):
    """Classes whose every attribute, item and call is another inert placeholder, and that can be
    subclassed (``class BaseTzLoader(TimestamptzLoader)``) and used as dict keys."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        child = _placeholder(f"{cls.__qualname__}.{name}")
        setattr(cls, name, child)  # the same object on every access, as a real constant is
        return child

    def __getitem__(cls, key: Any) -> Any:
        return _placeholder(f"{cls.__qualname__}[{key!r}]")

    def __iter__(cls) -> Any:
        return iter(())


class _Placeholder(metaclass=_Meta):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _placeholder("result")


def _placeholder(name: str) -> type:
    return _Meta(name, (_Placeholder,), {"__module__": "flake8_django_goc.stand_in"})


class _Module(ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = _placeholder(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    roots: ClassVar[set[str]] = set()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".", 1)[0] not in self.roots:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = _Module(spec.name)
        module.__path__ = []  # a package: `from psycopg.types.json import Jsonb` finds us again
        return module

    def exec_module(self, module: ModuleType) -> None:
        setattr(module, MARKER, True)
        for name, value in _VALUES.get(module.__name__, {}).items():
            setattr(module, name, value)
