"""The import rules of docs/architecture.md, read off the package's own import graph.

Every import counts: module level, inside functions and under ``TYPE_CHECKING``, because a lazy
import is still a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "flake8_django_goc"
NAME = PACKAGE.name


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(the package's modules it imports, the top-level names of third-party imports)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    ours: set[str] = set()
    theirs: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                (ours if alias.name in MODULES else theirs).add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != NAME:
                theirs.add(source)
                continue
            for alias in node.names:
                child = f"{source}.{alias.name}"
                ours.add(child if child in MODULES else source)
    ours.discard(module)
    # A module's own package __init__ is imported implicitly; it is not an edge of the design.
    ours = {m for m in ours if not module.startswith(m + ".")}
    return ours, {t.split(".")[0] for t in theirs}


GRAPH = {m: _imports(m) for m in MODULES}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v][0]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read() -> None:
    # Guards the test itself: a parser that found no edges would pass every rule below.
    assert len(MODULES) > 50
    assert f"{NAME}.schema" in GRAPH[f"{NAME}.judge.verdicts"][0]
    assert "django" in GRAPH[f"{NAME}.schema.django.setup"][1]


def test_no_import_cycles() -> None:
    assert _cycles() == []


def test_django_is_imported_only_under_schema_django() -> None:
    importers = sorted(m for m, (_, theirs) in GRAPH.items() if "django" in theirs)
    assert importers
    assert [m for m in importers if not m.startswith(f"{NAME}.schema.django")] == []


def test_libcst_is_imported_only_by_the_finder_and_fix_models() -> None:
    importers = {m for m, (_, theirs) in GRAPH.items() if "libcst" in theirs}
    assert importers == {
        f"{NAME}.find.calls",
        f"{NAME}.find.bulk",
        f"{NAME}.commands.fix_models",
    }


@pytest.mark.parametrize(
    ("stage", "allowed"),
    [
        # schema/django/isolation.py decides DGC007 while it reads DATABASES, with the rule's
        # message builder; rules/ itself reads only the Schema's plain records.
        ("schema", {"schema", "rules", "text"}),
        ("find", {"find", "schema", "text"}),
        ("resolve", {"find", "resolve", "schema", "text"}),
        ("rules", {"rules", "schema", "text"}),
        ("judge", {"judge", "find", "resolve", "rules", "schema", "text"}),
        ("report", {"report", "rules", "schema", "text"}),
    ],
)
def test_each_stage_imports_only_what_comes_before_it(stage: str, allowed: set[str]) -> None:
    wrong = {
        (m, d)
        for m, (ours, _) in GRAPH.items()
        if _stage(m) == stage
        for d in ours
        if _stage(d) not in allowed
    }
    assert wrong == set()


def test_judge_sees_only_the_records_of_find_and_resolve() -> None:
    # judge is pure: it reads records (find/records.py, resolve/target.py), never a finder or
    # the resolver, which the pipeline runs before it.
    used = {
        d
        for m, (ours, _) in GRAPH.items()
        if _stage(m) == "judge"
        for d in ours
        if _stage(d) in ("find", "resolve")
    }
    assert used == {f"{NAME}.find.records", f"{NAME}.resolve.target"}
