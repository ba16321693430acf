"""Deterministic get_or_create races on PostgreSQL.

Cases are collected from the fixture project's ``case_*.py`` files with ``ast`` (no Django
needed at collection time). A race runs one case function in two threads; ``QuerySet.get`` is
wrapped so that each thread, at its first ``DoesNotExist``, waits for the other on a barrier.
Both threads therefore miss the row and go on to INSERT, and the database alone decides what
happens next.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = TESTS_DIR / "fixtures" / "project"
DEFAULT_SETTINGS = "goc_project.settings"
FIXTURE_APPS = ("shop", "library", "inherit", "modern", "local", "realworld", "handrolled")
METHODS = frozenset({"get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"})
CODES = frozenset(f"DGC00{n}" for n in range(1, 8))

EXPECT_RE = re.compile(r"#\s*expect:\s*(?P<codes>[^#]+?)\s*(?:#.*)?$")
SETTINGS_RE = re.compile(r"^#\s*settings:\s*(?P<module>[\w.]+)\s*$")
REQUIRES_RE = re.compile(r"^#\s*requires-django:\s*(?P<version>\d+(?:\.\d+)*)\s*$")
HEADER_LINES = 10

# A barrier that is not passed within this time means a thread never reached its INSERT.
BARRIER_TIMEOUT = 10.0
# Per-thread ceiling so a blocked INSERT or lock can never hang the suite.
STATEMENT_TIMEOUT_MS = 15_000
JOIN_TIMEOUT = 30.0

# Outcomes.
DUP = "dup"  # both calls returned created=True
ONE = "one"  # one created, the other returned the same row with created=False


class CaseFileError(Exception):
    """A case file breaks the contract documented in cases/__init__.py."""


class RaceHarnessError(Exception):
    """The race could not be staged (a thread never reached the barrier, a case crashed before
    its INSERT, a thread hung): a broken test, not a verdict about the database."""


@dataclass(frozen=True)
class Case:
    path: Path
    module: str
    name: str
    line: int
    codes: frozenset[str]
    method: str
    is_async: bool
    settings: str
    requires_django: tuple[int, ...] | None

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def location(self) -> str:
        return f"{self.path.relative_to(PROJECT_ROOT)}:{self.line}"

    def has(self, *codes: str) -> bool:
        return any(code in self.codes for code in codes)


# --- collection ---------------------------------------------------------------------------------


def case_files() -> list[Path]:
    return sorted(PROJECT_ROOT.rglob("case_*.py"))


def parse_expectation(line: str) -> frozenset[str] | None:
    """Codes expected on a source line; empty for ``ok``; ``None`` without a comment."""
    match = EXPECT_RE.search(line)
    if not match:
        return None
    text = match.group("codes").strip()
    if text == "ok":
        return frozenset()
    codes = frozenset(part.strip() for part in text.split(","))
    unknown = codes - CODES
    if unknown or not codes:
        raise CaseFileError(f"unknown expectation {text!r}")
    return codes


def read_header(lines: list[str]) -> tuple[str, tuple[int, ...] | None]:
    settings, requires = DEFAULT_SETTINGS, None
    for line in lines[:HEADER_LINES]:
        if match := SETTINGS_RE.match(line):
            settings = match.group("module")
        elif match := REQUIRES_RE.match(line):
            requires = tuple(int(part) for part in match.group("version").split("."))
    return settings, requires


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)


def parse_case_file(path: Path) -> list[Case]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    settings, requires = read_header(lines)
    tree = ast.parse(source, filename=str(path))
    cases = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not node.name.startswith("case_"):
            continue
        where = f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name}"
        if len(node.body) != 1 or not isinstance(node.body[0], ast.Return):
            raise CaseFileError(f"{where}: the body must be a single return statement")
        ret = node.body[0]
        value = ret.value
        is_await = isinstance(value, ast.Await)
        if is_await:
            assert isinstance(value, ast.Await)
            value = value.value
        if not (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr in METHODS
        ):
            raise CaseFileError(f"{where}: must return a call to one of {sorted(METHODS)}")
        if value.lineno != ret.lineno:
            raise CaseFileError(f"{where}: the call must start on the return line")
        if is_await != isinstance(node, ast.AsyncFunctionDef):
            raise CaseFileError(f"{where}: async cases must `return await` the call")
        try:
            codes = parse_expectation(lines[value.lineno - 1])
        except CaseFileError as exc:
            raise CaseFileError(f"{where}: {exc}") from None
        if codes is None:
            raise CaseFileError(f"{where}: no `# expect:` comment on line {value.lineno}")
        cases.append(
            Case(
                path=path,
                module=module_name(path),
                name=node.name,
                line=value.lineno,
                codes=codes,
                method=value.func.attr,
                is_async=is_await,
                settings=settings,
                requires_django=requires,
            )
        )
    return cases


def collect_cases(settings: str = DEFAULT_SETTINGS) -> list[Case]:
    cases = [case for path in case_files() for case in parse_case_file(path)]
    seen: dict[str, Case] = {}
    for case in cases:
        if case.id in seen:
            raise CaseFileError(f"duplicate case {case.id}")
        seen[case.id] = case
    return [case for case in cases if case.settings == settings]


# --- which checks apply (the contract between verdicts and the database) ------------------------

RACE = "race"  # non-atomic race: assertions 1 and 2
ATOMIC = "atomic"  # race inside transaction.atomic(): assertion 3
REPEAT = "repeat"  # two sequential calls: assertion 4

UNPROTECTED = ("DGC001", "DGC002", "DGC004")


def checks_for(case: Case) -> list[str]:
    """The checks whose assertion says something about this case's expectation."""
    checks = [RACE]
    # DGC003 predicts an escaping IntegrityError, no finding predicts "one"; with DGC001/2/4
    # (duplicates anyway) or DGC005/DGC006 (the retry misses anyway) there is nothing to add.
    if not case.has(*UNPROTECTED) and (case.has("DGC003") or not case.has("DGC005", "DGC006")):
        checks.append(ATOMIC)
    # DGC005/DGC006 predict that a later call misses the row; no finding predicts it finds it.
    if case.has("DGC005", "DGC006") or not case.codes:
        checks.append(REPEAT)
    return checks


def opens_own_transaction(case: Case) -> bool:
    """update_or_create() wraps its work in transaction.atomic(): without an outer transaction
    that block is the outermost one, so a deferred constraint is checked at its COMMIT, outside
    get_or_create()'s IntegrityError handler."""
    return case.method in ("update_or_create", "aupdate_or_create")


def expected_race_outcome(case: Case) -> str | None:
    """The exact non-atomic outcome, or ``None`` when only "not dup" is promised."""
    if case.has(*UNPROTECTED):
        return DUP
    if case.has("DGC005", "DGC006"):
        return None
    if case.has("DGC003") and opens_own_transaction(case):
        return "error:IntegrityError"
    return ONE


# --- running ------------------------------------------------------------------------------------


@dataclass
class ThreadResult:
    value: Any = None
    error: BaseException | None = None
    reached_barrier: bool = False

    def describe(self) -> str:
        if self.error is not None:
            return f"raised {type(self.error).__name__}: {self.error}"
        return f"returned {self.value!r}"


@dataclass
class RaceResult:
    outcome: str
    threads: list[ThreadResult] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"outcome {self.outcome!r}"]
        parts += [f"thread {i}: {t.describe()}" for i, t in enumerate(self.threads)]
        return "; ".join(parts)


_local = threading.local()


@contextlib.contextmanager
def racing_get() -> Iterator[None]:
    """Wrap ``QuerySet.get`` so that an armed thread's first miss waits for its partner."""
    from django.db.models.query import QuerySet

    original = QuerySet.get

    def get(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        except self.model.DoesNotExist:
            barrier: threading.Barrier | None = getattr(_local, "barrier", None)
            if barrier is not None:
                _local.barrier = None  # only the first miss waits
                _local.result.reached_barrier = True
                barrier.wait()
            raise

    QuerySet.get = get  # type: ignore[method-assign]
    try:
        yield
    finally:
        QuerySet.get = original  # type: ignore[method-assign]


def load_case(case: Case) -> Callable[[], Any]:
    module = importlib.import_module(case.module)
    function = getattr(module, case.name)
    if case.is_async:
        from asgiref.sync import async_to_sync

        return async_to_sync(function)
    return function  # type: ignore[no-any-return]


def _prepare_connection() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        cursor.execute(f"SET lock_timeout = {STATEMENT_TIMEOUT_MS}")


def _run_threads(
    target: Callable[[], Any], count: int, atomic: bool, barrier: threading.Barrier | None
) -> list[ThreadResult]:
    from django.db import connections, transaction

    results = [ThreadResult() for _ in range(count)]

    def worker(result: ThreadResult) -> None:
        _local.barrier = barrier
        _local.result = result
        try:
            _prepare_connection()
            if atomic:
                with transaction.atomic():
                    result.value = target()
            else:
                result.value = target()
        except BaseException as exc:
            result.error = exc
        finally:
            if barrier is not None and not result.reached_barrier:
                barrier.abort()  # the partner would otherwise wait for the full timeout
            _local.barrier = None
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(result,), name=f"race-{i}", daemon=True)
        for i, result in enumerate(results)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    hung = [thread.name for thread in threads if thread.is_alive()]
    if hung:
        raise RaceHarnessError(f"threads {hung} still running after {JOIN_TIMEOUT}s")
    return results


def _created(value: Any) -> tuple[Any, bool] | None:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], bool):
        return value[0].pk, value[1]
    return None


def race(case: Case, *, atomic: bool) -> RaceResult:
    """Run the case in two threads that both miss the row before either INSERTs."""
    target = load_case(case)
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)
    with racing_get():
        threads = _run_threads(target, 2, atomic, barrier)
    result = RaceResult(outcome="", threads=threads)
    if not all(thread.reached_barrier for thread in threads):
        raise RaceHarnessError(
            "the race was not staged: each thread must miss the row with get() once before it "
            f"INSERTs; {result.describe()}"
        )
    if any(isinstance(thread.error, threading.BrokenBarrierError) for thread in threads):
        raise RaceHarnessError(f"broken barrier; {result.describe()}")
    errors = sorted({type(t.error).__name__ for t in threads if t.error is not None})
    if errors:
        result.outcome = "error:" + "+".join(errors)
        return result
    created = [_created(thread.value) for thread in threads]
    if any(item is None for item in created):
        raise RaceHarnessError(f"a call did not return (obj, created); {result.describe()}")
    (pk_a, created_a), (pk_b, created_b) = created  # type: ignore[misc]
    if created_a and created_b:
        result.outcome = DUP
    elif created_a != created_b and pk_a == pk_b:
        result.outcome = ONE
    else:
        result.outcome = f"other:created={created_a},{created_b} pks={pk_a!r},{pk_b!r}"
    return result


def repeat(case: Case) -> tuple[ThreadResult, ThreadResult]:
    """Call the case twice in a row (no race), in a worker thread like the races."""
    target = load_case(case)
    first, second = ThreadResult(), ThreadResult()

    def both() -> None:
        try:
            first.value = target()
        except Exception as exc:
            first.error = exc
            return
        try:
            second.value = target()
        except Exception as exc:
            second.error = exc

    results = _run_threads(both, 1, False, None)
    if results[0].error is not None:
        raise RaceHarnessError(f"repeat run crashed: {results[0].describe()}")
    return first, second


# --- database reset -----------------------------------------------------------------------------


def fixture_tables() -> list[str]:
    """Every table of the fixture apps, including auto-created M2M tables."""
    from django.apps import apps

    tables = []
    for label in FIXTURE_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            meta = model._meta
            if not meta.proxy and meta.db_table not in tables:
                tables.append(meta.db_table)
    return tables


def reset_database() -> None:
    """Empty the fixture tables, restart their id sequences and build ``ctx``.

    DELETE + setval in one transaction, not TRUNCATE: on these tiny tables it is ~15x faster
    (TRUNCATE of ~40 tables costs ~0.1 s, for each of several hundred tests). Django's foreign
    keys are DEFERRABLE INITIALLY DEFERRED, so the order of the DELETEs does not matter.
    """
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for statement in _reset_statements():
            cursor.execute(statement)
    from cases.support import ctx

    ctx.setup()


@functools.cache
def _reset_statements() -> tuple[str, ...]:
    # Introspecting the sequences costs more than the reset itself: do it once.
    from django.core.management.color import no_style
    from django.db import connection

    quote = connection.ops.quote_name
    tables = fixture_tables()
    sequences = [seq for seq in connection.introspection.sequence_list() if seq["table"] in tables]
    statements = [f"DELETE FROM {quote(table)}" for table in tables]
    statements += connection.ops.sequence_reset_by_name_sql(no_style(), sequences)
    return tuple(statements)


def drop_fixture_tables() -> None:
    """Drop tables left by an earlier run on a reused server so migrate builds current ones."""
    from django.db import connection

    existing = set(connection.introspection.table_names())
    stale = [table for table in fixture_tables() if table in existing]
    if stale:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {', '.join(quote(t) for t in stale)} CASCADE")
