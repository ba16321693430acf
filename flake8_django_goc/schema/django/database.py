"""What the database really enforces, read (never written) for ``db-check``.

Everything here talks to the project's databases through Django, read-only: the session is
opened with read-only defaults (PostgreSQL ``default_transaction_read_only``, MariaDB/MySQL
``SET SESSION TRANSACTION READ ONLY``) and all work happens inside one read-only transaction per
step (``BEGIN READ ONLY`` / ``START TRANSACTION READ ONLY``), rolled back at the end. Only
introspection, the catalog, ``django_migrations`` and SELECTs are sent. Returns plain records.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flake8_django_goc.schema import Condition, ModelFacts, Schema, UniqueSet

CONNECT_TIMEOUT = 10  # seconds, unless the settings give one
KEYS_SHOWN = 5
DB_SOURCE = "unique index in the database"


class DatabaseError(Exception):
    """The database cannot be read; the message (free of credentials) says why and what to do."""


@dataclass(frozen=True)
class DbUnique:
    """One uniqueness the database enforces on a table (a unique constraint or index)."""

    name: str
    columns: tuple[str, ...]  # key columns; empty for a pure expression index
    primary_key: bool = False
    condition: str | None = None  # SQL predicate of a partial index
    expression: str | None = None  # index definition, when it indexes expressions
    deferred: bool = False  # INITIALLY DEFERRED
    nulls_distinct: bool = True
    valid: bool = True  # PostgreSQL: False for a failed CREATE INDEX CONCURRENTLY
    definition: str = ""


@dataclass(frozen=True)
class Place:
    """Where a model is reported: its ``class`` line."""

    file: str | None
    line: int


@dataclass(frozen=True)
class Missing:
    """A declared unique set the table does not have (DGC201)."""

    label: str
    unique_set: UniqueSet
    table: str
    columns: tuple[str, ...]
    cause: str
    place: Place


@dataclass(frozen=True)
class Extra:
    """A uniqueness the table has and the model does not declare (DGC202)."""

    label: str
    unique: DbUnique
    table: str
    fields: tuple[str, ...] | None
    place: Place
    # How the judge uses it (None: not used, and ``unused`` says why).
    unique_set: UniqueSet | None = None
    unused: str | None = None


@dataclass
class DatabaseFacts:
    alias: str
    vendor: str
    missing: list[Missing] = field(default_factory=list)
    extra: list[Extra] = field(default_factory=list)
    unapplied: list[str] = field(default_factory=list)  # "app.0003_name"
    tables: int = 0


@dataclass(frozen=True)
class Duplicates:
    """The duplicate groups a proposed constraint would meet (DGC203)."""

    groups: int | None  # None when the count could not finish (``error`` says why)
    keys: tuple[tuple[Any, ...], ...] = ()
    error: str | None = None


# ----------------------------------------------------------------------------------- sessions


def aliases_written(schema: Schema) -> list[str]:
    """The databases the models are written to (``router.db_for_write``), in settings order."""
    from django.conf import settings

    used = {model.backend.alias for model in schema.models.values()}
    return [alias for alias in settings.DATABASES if alias in used]


def configured_aliases() -> list[str]:
    from django.conf import settings

    return list(settings.DATABASES)


def _secrets(alias: str) -> list[str]:
    from django.conf import settings

    conf = settings.DATABASES.get(alias, {})
    found = [str(conf.get("PASSWORD") or "")]
    options = conf.get("OPTIONS") or {}
    for key in ("password", "passwd", "passfile"):
        found.append(str(options.get(key) or ""))
    return [s for s in found if s]


_PASSWORD_TEXT = re.compile(r"(password|passwd)\s*=\s*('[^']*'|\S+)", re.IGNORECASE)


def scrub(text: str, alias: str) -> str:
    """``text`` without the alias's password (drivers may echo a connection string)."""
    text = _PASSWORD_TEXT.sub(r"\1=***", text)
    for secret in sorted(_secrets(alias), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _where(alias: str) -> str:
    from django.conf import settings

    conf = settings.DATABASES.get(alias, {})
    parts = [f"database {alias!r}"]
    name = conf.get("NAME")
    host = conf.get("HOST") or "localhost"
    port = f":{conf['PORT']}" if conf.get("PORT") else ""
    user = f" as {conf['USER']!r}" if conf.get("USER") else ""
    parts.append(f"(NAME {str(name)!r} on {host}{port}{user})")
    return " ".join(parts)


class Session:
    """A read-only connection to one database alias."""

    def __init__(self, alias: str, timeout: float | None) -> None:
        from django.db import connections

        self.alias = alias
        self.timeout = timeout
        self.connection = connections[alias]
        self.vendor = str(self.connection.vendor)
        self._read_only_defaults()

    def _read_only_defaults(self) -> None:
        # Before the first connect: every transaction of the session starts read-only, even
        # statements Django sends while connecting.
        settings_dict = self.connection.settings_dict
        options = dict(settings_dict.get("OPTIONS") or {})
        if self.vendor == "postgresql":
            extra = "-c default_transaction_read_only=on"
            options["options"] = f"{options.get('options', '')} {extra}".strip()
            options.setdefault("connect_timeout", CONNECT_TIMEOUT)
        elif self.vendor == "mysql":
            options.setdefault("connect_timeout", CONNECT_TIMEOUT)
            # Run by the driver right after connecting, before Django's own statements (one
            # statement only: an existing init_command stays, connect() sets it then).
            options.setdefault("init_command", "SET SESSION TRANSACTION READ ONLY")
        settings_dict["OPTIONS"] = options

    def connect(self) -> None:
        try:
            self.connection.ensure_connection()
            if self.vendor == "mysql":
                with self.connection.cursor() as cursor:
                    cursor.execute("SET SESSION TRANSACTION READ ONLY")
                    if self.timeout and self.connection.mysql_is_mariadb:  # bounds every read
                        cursor.execute(f"SET SESSION max_statement_time = {float(self.timeout)}")
        except Exception as exc:
            raise DatabaseError(
                f"cannot connect to {_where(self.alias)}: {scrub(_first(exc), self.alias)}. "
                "db-check only reads, so a role with CONNECT and SELECT privileges is enough; "
                "check DATABASES in the settings (or the environment they read), that the "
                "server is reachable from here, and --database. Nothing was changed."
            ) from None

    @contextlib.contextmanager
    def read_only(self) -> Iterator[Any]:
        """A cursor inside a read-only transaction, rolled back afterwards."""
        with self.connection.cursor() as cursor:
            if self.vendor == "mysql":
                cursor.execute("START TRANSACTION READ ONLY")
            else:
                cursor.execute("BEGIN READ ONLY" if self.vendor == "postgresql" else "BEGIN")
            try:
                if self.vendor == "postgresql":
                    if self.timeout:  # bounds every read, lock waits included
                        ms = int(self.timeout * 1000)
                        cursor.execute(f"SET LOCAL statement_timeout = {ms}")
                    cursor.execute("SHOW transaction_read_only")
                    if cursor.fetchone()[0] != "on":  # pragma: no cover - a proxy ignoring it
                        raise DatabaseError(
                            f"{_where(self.alias)}: the transaction is not read-only; stopping."
                        )
                yield cursor
            finally:
                cursor.execute("ROLLBACK")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()


def open_session(alias: str, timeout: float | None) -> Session:
    from django.conf import settings

    if alias not in settings.DATABASES:
        known = ", ".join(settings.DATABASES)
        raise DatabaseError(f"--database {alias!r} is not in DATABASES (configured: {known})")
    session = Session(alias, timeout)
    session.connect()
    return session


def _first(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ------------------------------------------------------------------------------ introspection


def inspect_database(session: Session, schema: Schema) -> DatabaseFacts:
    """Compare the declared unique sets of the models written to ``session``'s database with
    what its tables enforce."""
    from django.apps import apps

    facts = DatabaseFacts(session.alias, session.vendor)
    models = [
        (label, model, apps.get_model(label))
        for label, model in sorted(schema.models.items())
        if model.backend.alias == session.alias and model.managed and not model.concrete_label
    ]
    try:
        with session.read_only() as cursor:
            conn = session.connection
            tables = set(conn.introspection.table_names(cursor))
            loader = _migrations(conn)
            facts.unapplied = [f"{app}.{name}" for app, name in _unapplied(loader)]
            wanted = [m for m in models if m[2]._meta.db_table in tables]
            catalog = _pg_catalog(cursor, [m[2]._meta.db_table for m in wanted])
            for label, model, live in models:
                table = live._meta.db_table
                if table not in tables:
                    uniques: list[DbUnique] = []
                else:
                    found = conn.introspection.get_constraints(cursor, table)
                    uniques = _uniques(found, catalog.get(table, {}))
                facts.tables += 1
                _compare(facts, label, model, live, table, uniques, table in tables, loader)
    except DatabaseError:
        raise
    except Exception as exc:
        why = scrub(_first(exc), session.alias)
        hint = ""
        if "timeout" in why.lower():
            hint = (
                f" A read took longer than --statement-timeout ({session.timeout:g} s): another "
                "session may hold a lock on a table (ALTER TABLE, LOCK TABLE); run again later "
                "or with a larger --statement-timeout."
            )
        raise DatabaseError(
            f"reading the schema of {_where(session.alias)} failed: {why}.{hint} "
            "Nothing was changed."
        ) from None
    return facts


def _uniques(found: dict[str, Any], catalog: dict[str, DbUnique]) -> list[DbUnique]:
    """Django's introspection, completed from PostgreSQL's catalog (conditions, expressions,
    deferrable, validity), which get_constraints() does not return."""
    result = []
    for name, info in found.items():
        if not (info.get("unique") or info.get("primary_key")):
            continue
        known = catalog.get(name)
        if known is not None:
            result.append(known)
            continue
        columns = tuple(c for c in info.get("columns") or () if c)
        expression = info.get("definition") if not columns else None
        result.append(DbUnique(name, columns, bool(info.get("primary_key")), expression=expression))
    for name, known in catalog.items():  # an INVALID index is not in get_constraints()
        if name not in found:
            result.append(known)
    return result


_PG_CATALOG = """
SELECT t.relname, c.relname, i.indisprimary, i.indisvalid,
       pg_get_expr(i.indpred, i.indrelid), i.indexprs IS NOT NULL,
       pg_get_indexdef(i.indexrelid), COALESCE(con.condeferred, false),
       COALESCE((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false),
       ARRAY(
           SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
           WHERE k.ord <= i.indnkeyatts ORDER BY k.ord
       )
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('u', 'p')
WHERE i.indisunique AND t.relname = ANY(%s) AND pg_table_is_visible(t.oid)
"""


def _pg_catalog(cursor: Any, tables: list[str]) -> dict[str, dict[str, DbUnique]]:
    if not tables or cursor.db.vendor != "postgresql":
        return {}
    cursor.execute(_PG_CATALOG, [tables])
    by_table: dict[str, dict[str, DbUnique]] = {}
    for table, name, primary, valid, pred, exprs, definition, deferred, nnd, cols in cursor:
        by_table.setdefault(table, {})[name] = DbUnique(
            name=name,
            columns=tuple(cols),
            primary_key=bool(primary),
            condition=pred,
            expression=definition if exprs else None,
            deferred=bool(deferred),
            nulls_distinct=not nnd,
            valid=bool(valid),
            definition=definition,
        )
    return by_table


def _compare(
    facts: DatabaseFacts,
    label: str,
    model: ModelFacts,
    live: Any,
    table: str,
    uniques: list[DbUnique],
    exists: bool,
    loader: Any,
) -> None:
    opts = live._meta
    columns = {f.name: f.column for f in opts.concrete_fields}
    place = _place(live)
    own = [s for s in model.unique_sets if s.origin is None and s.unenforced_reason is None]
    used: set[str] = set()
    present: list[UniqueSet] = []
    for unique_set in own:
        cols = tuple(columns.get(f, f) for f in unique_set.fields)
        match = _match(unique_set, cols, uniques)
        if match is not None:
            used.add(match.name)
            present.append(unique_set)
            continue
        invalid = next((u for u in uniques if u.name == unique_set.name and not u.valid), None)
        if invalid is not None:
            used.add(invalid.name)
            cause = (
                "the index exists but is INVALID (a CREATE UNIQUE INDEX CONCURRENTLY that failed): "
                "drop it, remove the duplicates, build it again"
            )
        elif not exists:
            cause = "the table does not exist; " + _cause(loader, label, unique_set)
        else:
            cause = _cause(loader, label, unique_set)
        facts.missing.append(Missing(label, unique_set, table, cols, cause, place))
    by_column = {f.column: f.name for f in opts.local_concrete_fields}
    for unique in uniques:
        if unique.name in used or _implied(unique, present, columns):
            continue
        fields = tuple(by_column.get(c, "") for c in unique.columns)
        fields_known = bool(fields) and all(fields)
        usable, unused = _as_unique_set(unique, fields if fields_known else None, by_column)
        facts.extra.append(
            Extra(label, unique, table, fields if fields_known else None, place, usable, unused)
        )


def _match(
    unique_set: UniqueSet, cols: tuple[str, ...], uniques: list[DbUnique]
) -> DbUnique | None:
    valid = [u for u in uniques if u.valid]
    if unique_set.name:
        named = next((u for u in valid if u.name == unique_set.name), None)
        if named is not None:
            return named
    if unique_set.condition is not None or unique_set.functional or unique_set.deferred:
        return None  # only its own name can be trusted to carry the condition / expressions
    wanted = set(cols)
    for u in valid:
        plain = u.condition is None and u.expression is None and not u.deferred
        if plain and u.columns and set(u.columns) <= wanted:
            return u  # the same columns, or fewer: at least as strong
    return None


def _implied(unique: DbUnique, own: list[UniqueSet], columns: dict[str, str]) -> bool:
    """A database uniqueness a declared (plain) unique set already implies."""
    if not unique.columns or unique.expression is not None:
        return False
    return any(
        s.condition is None
        and not s.functional
        and {columns.get(f, f) for f in s.fields} <= set(unique.columns)
        for s in own
    )


def place_of(label: str) -> Place:
    from django.apps import apps

    return _place(apps.get_model(label))


def _place(live: Any) -> Place:
    module = inspect.getmodule(live)
    file = getattr(module, "__file__", None)
    try:
        line = inspect.getsourcelines(live)[1]
    except (OSError, TypeError):
        line = 1
    return Place(os.path.realpath(file) if file else None, line)


# --------------------------------------------------------------------- reading a partial index

_TERM_BOOL = re.compile(r"^(NOT\s+)?\"?(\w+)\"?$", re.IGNORECASE)
_TERM_NULL = re.compile(r"^\"?(\w+)\"?\s+IS\s+(NOT\s+)?NULL$", re.IGNORECASE)
_TERM_EQ = re.compile(r"^\(?\"?(\w+)\"?\)?(?:::[\w ]+)?\s*=\s*(.+?)$", re.IGNORECASE)
_LITERAL_STR = re.compile(r"^'((?:[^']|'')*)'(?:::[\w ]+)?$")
_LITERAL_NUM = re.compile(r"^\(?(-?\d+)\)?(?:::[\w ]+)?$")


def _as_unique_set(
    unique: DbUnique, fields: tuple[str, ...] | None, by_column: dict[str, str]
) -> tuple[UniqueSet | None, str | None]:
    """The UniqueSet the judge can use for a database uniqueness, or why it cannot be used."""
    if not unique.valid:
        return None, "it is an INVALID index (a failed CREATE INDEX CONCURRENTLY)"
    if unique.expression is not None:
        return None, "it indexes expressions, which db-check does not map to fields"
    if fields is None:
        return None, "its columns do not all belong to the model's fields"
    condition = None
    if unique.condition is not None:
        condition = _condition(unique.condition, by_column)
        if condition is None:
            return None, f"its condition {unique.condition} cannot be read"
    return (
        UniqueSet(
            fields,
            DB_SOURCE,
            name=unique.name,
            condition=condition,
            deferred=unique.deferred,
            nulls_distinct=False if not unique.nulls_distinct else None,
        ),
        None,
    )


def _strip(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _split_and(text: str) -> list[str] | None:
    parts, depth, start = [], 0, 0
    upper = text.upper()
    i = 0
    while i < len(text):
        char = text[i]
        if char == "'":
            end = text.find("'", i + 1)
            i = len(text) if end < 0 else end + 1
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and upper.startswith(" AND ", i):
            parts.append(text[start:i])
            start = i + 5
            i += 5
            continue
        if depth == 0 and upper.startswith(" OR ", i):
            return None
        i += 1
    parts.append(text[start:])
    return parts


def _condition(predicate: str, by_column: dict[str, str]) -> Condition | None:
    """A partial index's predicate as a Condition: AND of ``col = literal``, ``col IS [NOT]
    NULL`` and boolean columns; None for anything else."""
    terms = _split_and(_strip(predicate))
    if terms is None:
        return None
    children: list[tuple[str, Any]] = []
    for raw in terms:
        term = _strip(raw)
        if m := _TERM_NULL.match(term):
            name = by_column.get(m.group(1))
            if name is None:
                return None
            children.append((f"{name}__isnull", m.group(2) is None))
        elif m := _TERM_BOOL.match(term):
            name = by_column.get(m.group(2))
            if name is None or m.group(2).upper() in ("TRUE", "FALSE"):
                return None
            children.append((name, m.group(1) is None))
        elif m := _TERM_EQ.match(term):
            name = by_column.get(m.group(1))
            value = _literal(_strip(m.group(2)))
            if name is None or value is _NO_LITERAL:
                return None
            children.append((name, value))
        else:
            return None
    return Condition("AND", False, tuple(children), text=predicate)


_NO_LITERAL = object()


def _literal(text: str) -> Any:
    if m := _LITERAL_STR.match(text):
        return m.group(1).replace("''", "'")
    if m := _LITERAL_NUM.match(text):
        return int(m.group(1))
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return _NO_LITERAL


# --------------------------------------------------------------------------------- migrations


def _migrations(connection: Any) -> Any:
    """The migration loader: disk migrations and the rows of django_migrations (a SELECT)."""
    from django.db.migrations.loader import MigrationLoader

    return MigrationLoader(connection, ignore_no_migrations=True)


def _unapplied(loader: Any) -> list[tuple[str, str]]:
    order: list[tuple[str, str]] = []
    for leaf in sorted(loader.graph.leaf_nodes()):
        for key in loader.graph.forwards_plan(leaf):
            if key not in loader.applied_migrations and key not in order:
                order.append(key)
    return order


def _cause(loader: Any, label: str, unique_set: UniqueSet) -> str:
    app, model_name = label.split(".", 1)
    model_lower = model_name.lower()
    keys = [k for k in loader.graph.nodes if k[0] == app]
    plan: list[tuple[str, str]] = []
    for leaf in sorted(loader.graph.leaf_nodes(app)):
        plan.extend(k for k in loader.graph.forwards_plan(leaf) if k[0] == app and k not in plan)
    plan.extend(k for k in sorted(keys) if k not in plan)
    applied = [k for k in plan if k in loader.applied_migrations]
    unapplied = [k for k in plan if k not in loader.applied_migrations]
    for key in unapplied:
        if _mentions(loader.graph.nodes[key], model_lower, unique_set):
            return f"the migration {key[0]}.{key[1]} that adds it is not applied"
    for key in reversed(applied):
        if _mentions(loader.graph.nodes[key], model_lower, unique_set):
            return (
                f"the applied migration {key[0]}.{key[1]} created it, so it was dropped outside "
                "the migrations (by hand or by RunSQL)"
            )
    if unapplied:
        names = ", ".join(f"{a}.{n}" for a, n in unapplied[:3])
        return f"not created by any applied migration ({app} has unapplied migrations: {names})"
    return "not created by any applied migration: run makemigrations"


def _mentions(migration: Any, model_lower: str, unique_set: UniqueSet) -> bool:
    from django.db.migrations import operations as ops

    for op in _flat(migration.operations):
        if unique_set.name and unique_set.name in repr(op.deconstruct()):
            return True
        target = getattr(op, "model_name_lower", None) or getattr(op, "name_lower", None)
        if isinstance(op, (ops.AddField, ops.AlterField)):
            target = op.model_name_lower
        if target != model_lower or unique_set.name:
            continue
        if isinstance(op, (ops.CreateModel, ops.AlterUniqueTogether)):
            return True
        fields = {f.lower() for f in unique_set.fields}
        if isinstance(op, (ops.AddField, ops.AlterField)) and op.name_lower in fields:
            return True
    return False


def _flat(operations: Iterable[Any]) -> Iterator[Any]:
    from django.db.migrations import operations as ops

    for op in operations:
        if isinstance(op, ops.SeparateDatabaseAndState):
            yield from _flat(op.database_operations)
        else:
            yield op


# --------------------------------------------------------------------------------- duplicates


def count_duplicates(
    session: Session, label: str, fields: tuple[str, ...], nulls_distinct: bool | None
) -> Duplicates:
    """Duplicate groups on ``fields`` of ``label``'s table: one aggregate query, bounded by the
    session's statement timeout."""
    from django.apps import apps

    conn = session.connection
    opts = apps.get_model(label)._meta
    quote = conn.ops.quote_name
    cols = [quote(opts.get_field(f).column) for f in fields]
    where = ""
    if nulls_distinct is not False:  # NULLs never collide: such rows cannot violate it
        where = " WHERE " + " AND ".join(f"{c} IS NOT NULL" for c in cols)
    listed = ", ".join(cols)
    select = "SELECT"
    if session.vendor == "mysql" and session.timeout and not conn.mysql_is_mariadb:
        select = f"SELECT /*+ MAX_EXECUTION_TIME({int(session.timeout * 1000)}) */"
    sql = (
        f"{select} {listed}, COUNT(*) OVER () FROM {quote(opts.db_table)}{where} "
        f"GROUP BY {listed} HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC, {listed} "
        f"LIMIT {KEYS_SHOWN}"
    )
    if session.vendor == "mysql" and session.timeout and conn.mysql_is_mariadb:
        sql = f"SET STATEMENT max_statement_time={float(session.timeout)} FOR {sql}"
    try:
        with session.read_only() as cursor:
            cursor.execute(sql)  # PostgreSQL: read_only() set the statement_timeout
            rows = cursor.fetchall()
    except Exception as exc:
        return Duplicates(None, error=scrub(_first(exc), session.alias))
    groups = int(rows[0][-1]) if rows else 0
    return Duplicates(groups, tuple(tuple(row[:-1]) for row in rows))
