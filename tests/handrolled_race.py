"""Deterministic races of hand-written get-or-create code (DGC008-DGC010) on PostgreSQL.

Cases are the module-level ``race_*`` functions of the fixture project's
``handrolled/hand_*.py`` files; what they promise comes from the ``# expect:`` comments inside
the function (and a ``# race: <kind>`` marker on the ``def`` line). A race runs the function in
two threads (tests/race.py's runner); each thread's first check statement (the first SELECT or
UPDATE that does not read the ``Board`` parent rows) waits, once it has its answer, for the other
thread on a barrier. So both threads have checked before either inserts, whatever the check is
(get(), exists(), first(), count(), update(), bool(), len(), their async forms), and the database
alone decides what happens next.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from race import PROJECT_ROOT, RaceHarnessError, ThreadResult, _local, _run_threads, module_name

CASE_DIR = PROJECT_ROOT / "handrolled"
CODES = frozenset({"DGC008", "DGC009", "DGC010"})
MARKERS = frozenset({"aborted", "deferred", "enforced", "serialised"})
BARRIER_TIMEOUT = 10.0
SERIALISED_TIMEOUT = 2.0  # a serialised partner never reaches the barrier: do not wait long

# Outcomes.
DUP = "dup"  # both calls returned, two rows
ONE = "one"  # both calls returned, one row


@dataclass(frozen=True)
class HandCase:
    path: Path
    module: str
    name: str
    codes: frozenset[str]
    marker: str | None
    is_async: bool

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"

    def expected(self) -> str:
        """The outcome the expectations promise."""
        if self.codes & {"DGC008", "DGC010"}:
            return DUP  # nothing stops the second insert
        if self.marker == "aborted":
            # The handler's re-read in the broken transaction: Django refuses it before
            # PostgreSQL would ("current transaction is aborted").
            return "error:TransactionManagementError"
        if "DGC009" in self.codes or self.marker in ("deferred", "enforced"):
            return "error:IntegrityError"  # the constraint stops it; nothing recovers
        return ONE


def case_files() -> list[Path]:
    return sorted(CASE_DIR.glob("hand_*.py"))


def parse_case_file(path: Path) -> list[HandCase]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    cases = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not node.name.startswith("race_"):
            continue
        codes: set[str] = set()
        for line in lines[node.lineno - 1 : node.end_lineno]:
            if "# expect:" in line:
                text = line.split("# expect:", 1)[1].split("#")[0].strip()
                if text != "ok":
                    codes.update(c.strip() for c in text.split(","))
        marker = None
        header = lines[node.lineno - 1]
        if "# race:" in header:
            marker = header.split("# race:", 1)[1].strip()
        where = f"{path.name}:{node.lineno} {node.name}"
        if codes - CODES:
            raise RaceHarnessError(f"{where}: codes {sorted(codes - CODES)} are not raced here")
        if marker is not None and marker not in MARKERS:
            raise RaceHarnessError(f"{where}: unknown marker {marker!r}")
        if node.args.args and len(node.args.defaults) != len(node.args.args):
            raise RaceHarnessError(f"{where}: a race function takes no required arguments")
        cases.append(
            HandCase(
                path,
                module_name(path),
                node.name,
                frozenset(codes),
                marker,
                isinstance(node, ast.AsyncFunctionDef),
            )
        )
    return cases


def collect_cases() -> list[HandCase]:
    return [case for path in case_files() for case in parse_case_file(path)]


# --- running ------------------------------------------------------------------------------------


def _checked(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
    """Execute wrapper: the first check statement of an armed thread waits for its partner."""
    result = execute(sql, params, many, context)
    barrier: threading.Barrier | None = getattr(_local, "barrier", None)
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if barrier is not None and head in ("SELECT", "UPDATE") and "handrolled_board" not in sql:
        _local.barrier = None  # only the first check waits
        _local.result.reached_barrier = True
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            _local.result.broken = True  # the partner is blocked (a lock): go on alone
    return result


def _staged(case: HandCase) -> Callable[[], Any]:
    import importlib

    function = getattr(importlib.import_module(case.module), case.name)
    if case.is_async:
        from asgiref.sync import async_to_sync

        function = async_to_sync(function)

    def run() -> Any:
        from django.db import connection

        with connection.execute_wrapper(_checked):
            return function()

    return run


@dataclass
class HandRace:
    outcome: str
    rows: int
    threads: list[ThreadResult]

    def describe(self) -> str:
        parts = [f"outcome {self.outcome!r}, {self.rows} row(s)"]
        for i, thread in enumerate(self.threads):
            parts.append(f"thread {i}: {thread.describe()}")
        return "; ".join(parts)


def _rows() -> int:
    from django.apps import apps

    config = apps.get_app_config("handrolled")
    return sum(m.objects.count() for m in config.get_models() if m.__name__ != "Board")


def reset() -> None:
    from race import reset_database

    reset_database()  # every fixture table, handrolled's included
    from handrolled.models import Board  # type: ignore[import-not-found]

    Board.objects.create(title="main")


def race(case: HandCase) -> HandRace:
    timeout = SERIALISED_TIMEOUT if case.marker == "serialised" else BARRIER_TIMEOUT
    barrier = threading.Barrier(2, timeout=timeout)
    threads = _run_threads(_staged(case), 2, False, barrier)
    rows = _rows()
    if case.marker != "serialised":
        if not all(t.reached_barrier for t in threads):
            raise RaceHarnessError(
                f"the race was not staged: each thread must run its check before it inserts; "
                f"{[t.describe() for t in threads]}"
            )
        if any(getattr(t, "broken", False) for t in threads):
            raise RaceHarnessError(f"broken barrier; {[t.describe() for t in threads]}")
    errors = sorted({type(t.error).__name__ for t in threads if t.error is not None})
    if errors:
        outcome = "error:" + "+".join(errors)
    elif rows == 2:
        outcome = DUP
    elif rows == 1:
        outcome = ONE
    else:
        outcome = f"other:{rows} rows"
    return HandRace(outcome, rows, threads)
