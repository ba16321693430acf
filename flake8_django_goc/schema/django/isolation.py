"""DGC007: a database configured above READ COMMITTED (docs/architecture.md, "Django semantics").

Inside ``transaction.atomic()`` (or with ``ATOMIC_REQUESTS``), ``get_or_create()`` answers the
``IntegrityError`` of its INSERT by running its ``get()`` again in the same transaction. Under
REPEATABLE READ that ``get()`` reads the transaction's old snapshot and misses the row the other
request just committed, so the ``IntegrityError`` escapes although the unique constraint is right.
Under SERIALIZABLE, PostgreSQL fails the INSERT with a serialization failure (``OperationalError``,
which ``get_or_create()`` does not catch) when the SELECT's predicate lock sits on the unique
index, else with the same escaping ``IntegrityError``; MariaDB/MySQL make the SELECTs locking
reads, the two INSERTs deadlock and one gets ``OperationalError`` 1213. Proven on PostgreSQL 15 and
MariaDB 10.11 by tests/test_isolation_race.py.

``isolation_findings(settings_module)`` runs after ``django.setup()``: it decides each database's
level from the *effective* runtime values in ``settings.DATABASES`` (so values read from the
environment or built by functions count as they are in this run), with the backend's own rules:

- MySQL/MariaDB (``django/db/backends/mysql/base.py``): ``OPTIONS["isolation_level"]`` defaults to
  ``"read committed"``; a truthy value is lower-cased and must be one of the four levels; Django
  runs ``SET SESSION TRANSACTION ISOLATION LEVEL ...`` right after connecting, i.e. *after* the
  driver ran ``init_command``. So a level in ``init_command`` only counts when ``isolation_level``
  is falsy (``None``); without either the server's own default applies, which the settings do not
  show (not reported).
- PostgreSQL (``django/db/backends/postgresql/base.py``): ``OPTIONS["isolation_level"]`` is
  converted with ``psycopg_any.IsolationLevel(value)``, psycopg 3's enum (READ_UNCOMMITTED=1,
  READ_COMMITTED=2, REPEATABLE_READ=3, SERIALIZABLE=4) or, with psycopg2, an enum of psycopg2's
  ``ISOLATION_LEVEL_*`` constants (READ_COMMITTED=1, REPEATABLE_READ=2, SERIALIZABLE=3,
  READ_UNCOMMITTED=4). We use the same conversion, so a plain int means what it means to Django in
  this environment. Without the key, a ``-c default_transaction_isolation=...`` in libpq's
  ``options`` sets the session default, which Django does not override.

Then the reported line: the modules that hold this ``DATABASES`` dict (the settings module, the
modules it star-imports from) are parsed with ``ast`` for the ``"isolation_level"`` /
``"init_command"`` / ``"options"`` key (dict literal, ``dict(...)``, subscript assignment,
``update``/``setdefault``), tied to the alias where the code shows it; if the key is nowhere
literal, the ``DATABASES = ...`` assignment. No line found: no finding. Nothing here may raise.
"""

from __future__ import annotations

import ast
import enum
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from flake8_django_goc.rules import DGC007, dgc007
from flake8_django_goc.schema import SettingsFinding
from flake8_django_goc.schema.django.backends import database_vendor, vendor_from_engine

READ_UNCOMMITTED = "READ UNCOMMITTED"
READ_COMMITTED = "READ COMMITTED"
REPEATABLE_READ = "REPEATABLE READ"
SERIALIZABLE = "SERIALIZABLE"
LEVELS = (READ_UNCOMMITTED, READ_COMMITTED, REPEATABLE_READ, SERIALIZABLE)
ABOVE_READ_COMMITTED = frozenset({REPEATABLE_READ, SERIALIZABLE})

MYSQL = "mysql"
POSTGRESQL = "postgresql"
_VENDOR_TEXT = {MYSQL: "MySQL/MariaDB", POSTGRESQL: "PostgreSQL"}

# The OPTIONS keys that can set the level, per vendor.
ISOLATION_LEVEL = "isolation_level"
INIT_COMMAND = "init_command"
LIBPQ_OPTIONS = "options"
KEYS = frozenset({ISOLATION_LEVEL, INIT_COMMAND, LIBPQ_OPTIONS})


@dataclass(frozen=True)
class Effective:
    """The level one database's transactions run at, and the option that decides it."""

    alias: str
    vendor: str  # MYSQL or POSTGRESQL
    level: str  # one of LEVELS
    key: str | None  # the OPTIONS key that sets it; None for Django's default
    shown: str  # the setting as the message shows it


# ------------------------------------------------------------------------------ values to levels


def _normal_level(text: str) -> str | None:
    """'repeatable-read', "'SERIALIZABLE'", 'read  committed' -> a LEVELS entry, else None."""
    words = text.strip().strip("'\"`").replace("-", " ").replace("_", " ").upper().split()
    level = " ".join(words)
    return level if level in LEVELS else None


_SET = re.compile(r"^\s*SET\s+(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_SET_TRANSACTION = re.compile(
    r"^(?:(?P<scope>SESSION|LOCAL|GLOBAL)\s+|@@(?P<scope2>SESSION|LOCAL|GLOBAL)\.)?"
    r"TRANSACTION\b(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_ISOLATION_LEVEL = re.compile(
    r"ISOLATION\s+LEVEL\s+(READ\s+UNCOMMITTED|READ\s+COMMITTED|REPEATABLE\s+READ|SERIALIZABLE)",
    re.IGNORECASE,
)
_VARIABLE = re.compile(
    r"^\s*(?:@@(?:(?:SESSION|LOCAL|GLOBAL)\.)?|(?:SESSION|LOCAL|GLOBAL)\s+)?"
    r"(?:tx_isolation|transaction_isolation)\s*:?=\s*(?P<value>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)


def init_command_level(sql: Any) -> str | None:
    """The session level a MySQL/MariaDB ``init_command`` leaves behind, if it sets one.

    ``SET [SESSION|GLOBAL] TRANSACTION ISOLATION LEVEL ...`` and ``SET [SESSION|GLOBAL|@@...]
    tx_isolation|transaction_isolation = '...'``; the last one wins. ``SET TRANSACTION`` without a
    scope only applies to the next transaction (the first query), so it does not count. GLOBAL
    counts: every later connection starts with it.
    """
    if not isinstance(sql, str):
        return None
    level = None
    for statement in sql.split(";"):
        match = _SET.match(statement)
        if not match:
            continue
        rest = match.group("rest")
        transaction = _SET_TRANSACTION.match(rest)
        if transaction:
            scope = transaction.group("scope") or transaction.group("scope2")
            found = _ISOLATION_LEVEL.search(transaction.group("rest"))
            if scope and found:
                level = _normal_level(found.group(1)) or level
            continue
        for assignment in _split_assignments(rest):
            variable = _VARIABLE.match(assignment)
            if variable:
                level = _normal_level(variable.group("value")) or level
    return level


def _split_assignments(text: str) -> list[str]:
    """``a = 'x', b = 'y,z'`` -> the assignments, commas inside quotes kept."""
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`":
            quote = char
        elif char == ",":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def libpq_options_level(options: Any) -> str | None:
    """``default_transaction_isolation`` from libpq's ``options`` string (``-c name=value``,
    ``-cname=value`` or ``--name=value``, backslash-escaped spaces), the last one winning."""
    if not isinstance(options, str):
        return None
    tokens, current, escaped = [], [], False
    for char in options:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char.isspace():
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    level = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        assignment = None
        if token == "-c" and index + 1 < len(tokens):
            assignment = tokens[index + 1]
            index += 1
        elif token.startswith("-c") or token.startswith("--"):
            assignment = token[2:]
        index += 1
        if assignment and "=" in assignment:
            name, value = assignment.split("=", 1)
            if name.strip().replace("-", "_").lower() == "default_transaction_isolation":
                level = _normal_level(value) or level
    return level


_MYSQL_LEVELS = {level.lower(): level for level in LEVELS}


def mysql_effective(alias: str, options: Any) -> Effective | None:
    """Django's MySQL backend rules (see the module docstring); None when the level is the
    server's own default or the option is invalid (Django raises ImproperlyConfigured)."""
    if not isinstance(options, Mapping):
        options = {}
    if ISOLATION_LEVEL not in options:
        return Effective(alias, MYSQL, READ_COMMITTED, None, "Django's default")
    raw = options[ISOLATION_LEVEL]
    if raw:
        if not isinstance(raw, str):
            return None
        level = _MYSQL_LEVELS.get(raw.lower())
        if level is None:
            return None
        return Effective(alias, MYSQL, level, ISOLATION_LEVEL, f'"isolation_level": {_quote(raw)}')
    level = init_command_level(options.get(INIT_COMMAND))
    if level is None:
        return None  # the server's default: not in the settings
    command = " ".join(str(options.get(INIT_COMMAND)).split())
    if len(command) > 70:
        command = command[:67] + "..."
    falsy = _quote(raw) if isinstance(raw, str) else repr(raw)
    shown = f'"init_command": {_quote(command)} with "isolation_level": {falsy}'
    return Effective(alias, MYSQL, level, INIT_COMMAND, shown)


def _quote(text: str) -> str:
    """A string as settings files write it: double quotes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_PG_NAMES = {
    "READ_UNCOMMITTED": READ_UNCOMMITTED,
    "READ_COMMITTED": READ_COMMITTED,
    "REPEATABLE_READ": REPEATABLE_READ,
    "SERIALIZABLE": SERIALIZABLE,
}


def django_pg_enum() -> type[enum.Enum] | None:
    """``django.db.backends.postgresql.psycopg_any.IsolationLevel``: psycopg 3's enum, or one
    over psycopg2's constants; None without a driver (or before Django 4.2)."""
    try:
        from django.db.backends.postgresql.psycopg_any import IsolationLevel
    except Exception:
        return None
    # Without the driver psycopg is an inert stand-in (drivers.py): no enum to ask.
    if not (isinstance(IsolationLevel, type) and issubclass(IsolationLevel, enum.Enum)):
        return None
    return IsolationLevel


def pg_level(value: Any, levels: type[enum.Enum] | None) -> str | None:
    """The level Django makes of ``OPTIONS["isolation_level"]``: ``levels(value)``, as
    ``DatabaseWrapper.get_new_connection`` does; None when Django would reject it."""
    member: Any = None
    if levels is not None:
        try:
            member = levels(value)
        except (ValueError, TypeError):
            return None
    elif isinstance(value, enum.Enum):
        member = value  # no driver to ask: trust the enum's own name
    name = getattr(member, "name", None)
    return _PG_NAMES.get(name) if isinstance(name, str) else None


def pg_effective(
    alias: str, options: Any, levels: type[enum.Enum] | None = None
) -> Effective | None:
    if not isinstance(options, Mapping):
        options = {}
    if ISOLATION_LEVEL in options:
        raw = options[ISOLATION_LEVEL]
        level = pg_level(raw, levels)
        if level is None:
            return None
        shown = f'"isolation_level": IsolationLevel.{level.replace(" ", "_")}'
        if not isinstance(raw, enum.Enum):
            shown += f" (the value {raw!r})"
        return Effective(alias, POSTGRESQL, level, ISOLATION_LEVEL, shown)
    level = libpq_options_level(options.get(LIBPQ_OPTIONS))
    if level is not None:
        return Effective(
            alias,
            POSTGRESQL,
            level,
            LIBPQ_OPTIONS,
            f'default_transaction_isolation={level.lower()} in libpq\'s "options"',
        )
    return Effective(alias, POSTGRESQL, READ_COMMITTED, None, "Django's default")


def effective_level(
    alias: str, config: Any, vendor: str, levels: type[enum.Enum] | None = None
) -> Effective | None:
    if not isinstance(config, Mapping):
        return None
    options = config.get("OPTIONS") or {}
    if vendor == MYSQL:
        return mysql_effective(alias, options)
    if vendor == POSTGRESQL:
        return pg_effective(alias, options, levels)
    return None


def _runtime_vendor(alias: str, config: Mapping[str, Any]) -> str:
    # The same answer the judge's backend facts use.
    return database_vendor(alias, str(config.get("ENGINE") or ""))


# --------------------------------------------------------------------------------------- message


def message(effective: Effective, aliases: Iterable[str] = ()) -> str:
    names = [effective.alias, *(a for a in aliases if a != effective.alias)]
    vendor = _VENDOR_TEXT.get(effective.vendor, effective.vendor)
    return dgc007.message(
        names,
        effective.level,
        vendor,
        effective.shown,
        serializable=effective.level == SERIALIZABLE,
        postgresql=effective.vendor == POSTGRESQL,
        mysql_init_command=effective.vendor == MYSQL and effective.key == INIT_COMMAND,
        libpq_options=effective.key == LIBPQ_OPTIONS,
    )


# -------------------------------------------------------------------------------- source lines


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class Occurrence:
    """A place in a source file that sets one of KEYS in a database's OPTIONS."""

    key: str
    line: int
    col: int
    alias: str | None  # None: the code does not show which database
    value: ast.expr | None  # the value expression, when there is one
    order: int  # source order within the file


# A location: the name a value ends up under, plus the keys below it (None: unknown key).
_Location = tuple[str | None, tuple[str | None, ...]]
_NOWHERE: _Location = (None, ())


def _const_key(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _path_of(node: ast.AST) -> _Location:
    """``DATABASES["default"]["OPTIONS"]`` -> ("DATABASES", ("default", "OPTIONS"))."""
    keys: list[str | None] = []
    while isinstance(node, ast.Subscript):
        keys.append(_const_key(node.slice))
        node = node.value
    if isinstance(node, ast.Name):
        return node.id, tuple(reversed(keys))
    return None, tuple(reversed(keys))


def _is_dict_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"


def _method_call(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
    )


class _Locator:
    def __init__(self, tree: ast.AST) -> None:
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.tree = tree

    def location(self, node: ast.AST, depth: int = 0) -> _Location:
        """Where a dict (literal or ``dict(...)`` call) ends up."""
        if depth > 20:
            return _NOWHERE
        parent = self.parents.get(node)
        if isinstance(parent, ast.Assign) and parent.value is node and parent.targets:
            return _path_of(parent.targets[0])
        if isinstance(parent, (ast.AnnAssign, ast.AugAssign)) and parent.value is node:
            return _path_of(parent.target)
        if isinstance(parent, ast.Dict):
            for key, value in zip(parent.keys, parent.values, strict=True):
                if value is node:
                    root, keys = self.location(parent, depth + 1)
                    if key is None:  # {**node}: its keys are merged in
                        return root, keys
                    return root, (*keys, _const_key(key))
        if isinstance(parent, ast.keyword) and parent.value is node:
            call = self.parents.get(parent)
            if call is not None and _is_dict_call(call):
                root, keys = self.location(call, depth + 1)
                return root, (*keys, parent.arg) if parent.arg else keys
            if call is not None and _method_call(call, "update") and parent.arg:
                root, keys = _path_of(call.func.value)  # type: ignore[attr-defined]
                return root, (*keys, parent.arg)
            return _NOWHERE
        if isinstance(parent, ast.Call) and node in parent.args:
            if _is_dict_call(parent):
                return self.location(parent, depth + 1)
            if _method_call(parent, "update"):
                return _path_of(parent.func.value)  # type: ignore[attr-defined]
            if _method_call(parent, "setdefault") and len(parent.args) == 2:
                root, keys = _path_of(parent.func.value)  # type: ignore[attr-defined]
                return root, (*keys, _const_key(parent.args[0]))
        return _NOWHERE

    def occurrences(self) -> list[Occurrence]:
        found: list[tuple[str, ast.expr | ast.keyword, _Location, ast.expr | None]] = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    name = _const_key(key)
                    if name in KEYS and key is not None:
                        root, keys = self.location(node)
                        found.append((name, key, (root, (*keys, name)), value))
            elif isinstance(node, ast.Call):
                found.extend(self._call_occurrences(node))
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    name = _const_key(target.slice) if isinstance(target, ast.Subscript) else None
                    if name in KEYS:
                        found.append((name, target, _path_of(target), node.value))
        found.sort(key=lambda item: (item[1].lineno, item[1].col_offset))
        result = []
        for order, (name, spot, (root, keys), assigned) in enumerate(found):
            alias = _alias_of(root, keys)
            if not isinstance(alias, _NotOptions):
                result.append(
                    Occurrence(name, spot.lineno, spot.col_offset, alias, assigned, order)
                )
        return result

    def _call_occurrences(
        self, node: ast.Call
    ) -> list[tuple[str, ast.expr | ast.keyword, _Location, ast.expr | None]]:
        """``dict(isolation_level=...)``, ``X.update(isolation_level=...)``,
        ``X.setdefault("isolation_level", ...)``."""
        found: list[tuple[str, ast.expr | ast.keyword, _Location, ast.expr | None]] = []
        owner = node.func.value if isinstance(node.func, ast.Attribute) else None
        if _is_dict_call(node) or (owner is not None and _method_call(node, "update")):
            for keyword in node.keywords:
                if keyword.arg in KEYS:
                    root, keys = self.location(node) if owner is None else _path_of(owner)
                    found.append(
                        (keyword.arg, keyword, (root, (*keys, keyword.arg)), keyword.value)
                    )
        if owner is not None and _method_call(node, "setdefault") and len(node.args) == 2:
            name = _const_key(node.args[0])
            if name in KEYS:
                root, keys = _path_of(owner)
                found.append((name, node.args[0], (root, (*keys, name)), node.args[1]))
        return found

    def databases_assignments(self) -> list[tuple[int, int]]:
        """Positions of module-level ``DATABASES = ...`` statements."""
        spots = []
        for node in getattr(self.tree, "body", []):
            targets: list[ast.AST] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [node.target]
            if any(isinstance(t, ast.Name) and t.id == "DATABASES" for t in targets):
                spots.append((node.lineno, node.col_offset))
        return spots


class _NotOptions:
    """``_alias_of``'s answer for a key that is not a database's OPTIONS key at all."""


NOT_OPTIONS = _NotOptions()


def _alias_of(root: str | None, keys: tuple[str | None, ...]) -> str | _NotOptions | None:
    """The alias an occurrence configures, None if not shown, NOT_OPTIONS if it is not an
    OPTIONS key of a database at all. ``keys`` ends with the option name."""
    if root == "DATABASES":
        if len(keys) == 3 and keys[1] == "OPTIONS":
            return keys[0]  # None when the alias is not a literal (a loop over DATABASES)
        return NOT_OPTIONS
    if len(keys) >= 2 and keys[-2] is not None and keys[-2] != "OPTIONS":
        return NOT_OPTIONS
    return None


def _evaluate(node: ast.expr | None, namespaces: list[Mapping[str, Any]]) -> Any:
    """Constants, and names/attributes looked up in the modules' namespaces; else UNKNOWN."""
    if node is None:
        return UNKNOWN
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        for namespace in namespaces:
            if node.id in namespace:
                return namespace[node.id]
        return UNKNOWN
    if isinstance(node, ast.Attribute):
        base = _evaluate(node.value, namespaces)
        if base is UNKNOWN or not isinstance(base, (ModuleType, type)):
            return UNKNOWN
        try:
            return getattr(base, node.attr)
        except Exception:
            return UNKNOWN
    return UNKNOWN


def _static_level(
    occurrence: Occurrence,
    vendor: str,
    namespaces: list[Mapping[str, Any]],
    levels: type[enum.Enum] | None,
) -> str | Any | None:
    """The level the occurrence's value stands for, UNKNOWN if it cannot be told statically,
    None if it sets no level (or one Django rejects)."""
    value = _evaluate(occurrence.value, namespaces)
    if value is UNKNOWN:
        return UNKNOWN
    if occurrence.key == INIT_COMMAND:
        return init_command_level(value)
    if occurrence.key == LIBPQ_OPTIONS:
        return libpq_options_level(value)
    if vendor == MYSQL:
        return _MYSQL_LEVELS.get(value.lower()) if isinstance(value, str) else None
    return pg_level(value, levels)


# ---------------------------------------------------------------------------------- the search


_GATE = (*(key.encode() for key in KEYS), b"DATABASES")


@dataclass
class _Source:
    module: ModuleType | None
    path: str
    primary: bool  # holds the very DATABASES object (or is the settings module)
    rank: int  # 0 for the settings module itself
    _locator: _Locator | None = None
    _occurrences: list[Occurrence] | None = None
    _parsed: bool = False

    def locator(self) -> _Locator | None:
        if not self._parsed:
            self._parsed = True
            try:
                with open(self.path, "rb") as file:
                    data = file.read()
                if any(word in data for word in _GATE):
                    self._locator = _Locator(ast.parse(data, filename=self.path))
            except (OSError, SyntaxError, ValueError, RecursionError):
                self._locator = None
        return self._locator

    def occurrences(self) -> list[Occurrence]:
        if self._occurrences is None:
            locator = self.locator()
            self._occurrences = locator.occurrences() if locator else []
        return self._occurrences

    def namespaces(self, settings_namespace: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        own = getattr(self.module, "__dict__", None)
        return [own, settings_namespace] if isinstance(own, dict) else [settings_namespace]


def _source_file(module: Any) -> str | None:
    file = getattr(module, "__file__", None)
    if not isinstance(file, str):
        return None
    if file.endswith((".pyc", ".pyo")):
        file = file[:-1]
    if not file.endswith(".py") or not os.path.isfile(file):
        return None
    return os.path.realpath(file)


def _project_file(path: str) -> bool:
    return not any(part in path for part in ("site-packages", "dist-packages"))


def candidate_sources(
    settings_module: str, databases: Any, modules: Mapping[str, Any]
) -> list[_Source]:
    """The settings module, modules holding the same DATABASES dict, then other settings files
    next to the settings module (django-split-settings ``include()``d files, exec'd files)."""
    sources: list[_Source] = []
    seen: set[str] = set()
    settings = modules.get(settings_module)
    settings_path = _source_file(settings)
    if settings_path:
        sources.append(_Source(settings, settings_path, True, 0))
        seen.add(settings_path)
    for name in sorted(modules):
        module = modules.get(name)
        namespace = getattr(module, "__dict__", None)  # no module __getattr__ hooks
        same = isinstance(namespace, dict) and namespace.get("DATABASES") is databases
        path = _source_file(module) if same else None
        if path and path not in seen and _project_file(path):
            sources.append(_Source(module, path, True, 1))
            seen.add(path)
    if settings_path:
        root = os.path.dirname(settings_path)
        for name in sorted(modules):
            module = modules.get(name)
            path = _source_file(module)
            if path and path not in seen and path.startswith(root + os.sep):
                sources.append(_Source(module, path, False, 2))
                seen.add(path)
    return sources


def locate(
    effective: Effective,
    sources: list[_Source],
    settings_namespace: Mapping[str, Any],
    levels: type[enum.Enum] | None,
) -> tuple[str, int, int] | None:
    """The (path, line, col) that sets ``effective``'s level, or None.

    Among the occurrences of its key that may configure its alias, prefer a value that evaluates
    to its level (over one that cannot be evaluated, e.g. read from the environment), a literal
    alias, the settings module itself, and the last one in the file. Files that merely sit next
    to the settings module count only with an exact match, and only if the modules holding
    DATABASES show nothing."""
    for primary in (True, False):
        best: tuple[tuple[int, ...], tuple[str, int, int]] | None = None
        for source in sources:
            if source.primary is not primary:
                continue
            for occurrence in source.occurrences():
                if occurrence.key != effective.key:
                    continue
                if occurrence.alias is not None and occurrence.alias != effective.alias:
                    continue
                namespaces = source.namespaces(settings_namespace)
                level = _static_level(occurrence, effective.vendor, namespaces, levels)
                if level is UNKNOWN and primary:
                    strength = 1
                elif level == effective.level:
                    strength = 2
                else:
                    continue
                alias_shown = int(occurrence.alias == effective.alias)
                score = (strength, alias_shown, -source.rank, occurrence.order)
                if best is None or score > best[0]:
                    best = (score, (source.path, occurrence.line, occurrence.col))
        if best is not None:
            return best[1]
    # The key is nowhere literal (a URL parser, a helper from a library): the assignment.
    for source in sources:
        locator = source.locator() if source.primary else None
        spots = locator.databases_assignments() if locator else []
        if spots:
            line, col = spots[-1]
            return source.path, line, col
    return None


def findings_for_databases(
    databases: Any,
    settings_module: str,
    modules: Mapping[str, Any] | None = None,
    vendor_of: Callable[[str, Mapping[str, Any]], str] | None = None,
    levels: type[enum.Enum] | bool | None = True,
) -> list[SettingsFinding]:
    """DGC007 findings for a DATABASES mapping whose settings module is imported in ``modules``.

    ``levels``: the PostgreSQL IsolationLevel enum to convert values with (True: Django's)."""
    if not isinstance(databases, Mapping):
        return []
    modules = sys.modules if modules is None else modules
    vendor_of = vendor_of or (
        lambda alias, config: vendor_from_engine(str(config.get("ENGINE") or ""))
    )
    pg_levels = django_pg_enum() if levels is True else levels or None
    effective: list[Effective] = []
    for alias, config in databases.items():
        if not isinstance(alias, str) or not isinstance(config, Mapping):
            continue
        vendor = vendor_of(alias, config)
        found = effective_level(alias, config, vendor, pg_levels)
        if found is not None and found.level in ABOVE_READ_COMMITTED and found.key is not None:
            effective.append(found)
    if not effective:
        return []
    sources = candidate_sources(settings_module, databases, modules)
    settings = modules.get(settings_module)
    namespace = getattr(settings, "__dict__", None)
    settings_namespace = namespace if isinstance(namespace, dict) else {}
    grouped: dict[tuple[str, int, int], list[Effective]] = {}
    for item in effective:
        spot = locate(item, sources, settings_namespace, pg_levels)
        if spot is not None:
            grouped.setdefault(spot, []).append(item)
    findings = []
    for (path, line, col), items in grouped.items():
        first = items[0]
        text = message(first, [i.alias for i in items[1:]])
        findings.append(SettingsFinding(path, line, col, DGC007, text))
    return sorted(findings, key=lambda f: (f.path, f.line, f.col))


def isolation_findings(settings_module: str) -> list[SettingsFinding]:
    """DGC007 findings for the settings Django is set up with. Call after ``django.setup()``;
    never raises (anything unexpected: no findings)."""
    try:
        from django.conf import settings

        if not settings.configured:
            return []
        databases = settings.DATABASES
        return findings_for_databases(databases, settings_module, vendor_of=_runtime_vendor)
    except Exception:
        return []
