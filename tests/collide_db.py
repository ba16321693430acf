"""Run the `collide_*` case functions of tests/fixtures/project/collide/ on a real database.

Each function sets up its rows and makes the call its `# expect:` comment is about; ``run_cases``
runs each in a transaction that is rolled back and records what happened. Imported by
tests/test_collide.py (PostgreSQL, in process) and run as a script for SQLite
(``python tests/collide_db.py MODULE...`` prints JSON; Django set up from the environment).
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent / "fixtures" / "project"
EXPECT = re.compile(r"#\s*expect:\s*([A-Za-z0-9, ]+?)\s*(?:#|$)")
CALLS = {"get_or_create", "update_or_create", "bulk_create"}


@dataclass(frozen=True)
class Case:
    module: str
    name: str
    line: int
    expected: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    raised: str | None  # the exception's class name
    message: str
    returned: Any  # an int result (row counts), else None


def cases(module: str) -> list[Case]:
    """Every module-level `def collide_*`, with the expectation on its call's line."""
    path = PROJECT / (module.replace(".", "/") + ".py")
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("collide_")):
            continue
        calls = [
            c.lineno
            for c in ast.walk(node)
            if isinstance(c, ast.Call)
            and isinstance(c.func, ast.Attribute)
            and c.func.attr in CALLS
            and EXPECT.search(lines[c.lineno - 1])
        ]
        if len(calls) != 1:
            raise AssertionError(f"{path}:{node.lineno}: needs exactly one call with `# expect:`")
        match = EXPECT.search(lines[calls[0] - 1])
        assert match is not None
        codes = {c.strip() for c in match.group(1).split(",") if c.strip()} - {"ok"}
        found.append(Case(module, node.name, calls[0], frozenset(codes)))
    return found


def run_case(case: Case) -> Outcome:
    from django.db import DatabaseError, transaction

    function = getattr(importlib.import_module(case.module), case.name)
    with transaction.atomic():
        try:
            result = function()
        except DatabaseError as exc:
            outcome = Outcome(type(exc).__name__, str(exc).strip(), None)
        else:
            outcome = Outcome(None, "", result if isinstance(result, int) else None)
        transaction.set_rollback(True)
    return outcome


def run_cases(modules: list[str]) -> dict[str, Outcome]:
    return {f"{c.module}.{c.name}": run_case(c) for m in modules for c in cases(m)}


def main(modules: list[str]) -> None:
    sys.path.insert(0, str(PROJECT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    outcomes = run_cases(modules)
    print(json.dumps({name: asdict(o) for name, o in outcomes.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
