"""The case files' inline expectations, checked through the real flake8 in a subprocess.

Every line of a case file where a get_or_create-family call starts must carry `# expect: ok` or
`# expect: DGC00x[, ...]`; flake8 must report exactly those codes there and nothing elsewhere.
"""

from __future__ import annotations

import ast
import functools
import re
from collections import defaultdict
from importlib import metadata
from pathlib import Path

import pytest
from flake8_run import PROJECT, parse_reports, run_flake8

from flake8_django_goc.rules import RULES

EXPECT = re.compile(r"#\s*expect:\s*([A-Za-z0-9, ]+?)\s*(?:#|$)")
SETTINGS = re.compile(r"^#\s*settings:\s*(\S+)", re.MULTILINE)
REQUIRES = re.compile(r"^#\s*requires-django:\s*(\d+)\.(\d+)", re.MULTILINE)
DJANGO = tuple(int(p) for p in metadata.version("django").split(".")[:2])
DEFAULT_SETTINGS = "goc_project.settings"
METHODS = {"get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"}
BULK_METHODS = {"bulk_create", "abulk_create"}
BULK_OPTIONS = {"ignore_conflicts", "update_conflicts"}


def case_files() -> list[Path]:
    """Every .py file of the fixture project that carries an expectation and whose models exist
    in the installed Django (`# requires-django: 5.2` headers)."""
    return sorted(p for p in PROJECT.rglob("*.py") if _applies(p.read_text(encoding="utf-8")))


def _applies(text: str) -> bool:
    required = REQUIRES.search(text)
    return "# expect:" in text and (
        required is None or (int(required.group(1)), int(required.group(2))) <= DJANGO
    )


def settings_of(path: Path) -> str:
    found = SETTINGS.search(path.read_text(encoding="utf-8"))
    return found.group(1) if found else DEFAULT_SETTINGS


def expectations(path: Path) -> dict[int, frozenset[str]]:
    result = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        found = EXPECT.search(line)
        if found:
            codes = {c.strip() for c in found.group(1).split(",") if c.strip()}
            result[number] = frozenset() if codes == {"ok"} else frozenset(codes)
    return result


def call_lines(path: Path) -> set[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (
            node.func.attr in METHODS
            or (
                node.func.attr in BULK_METHODS and any(k.arg in BULK_OPTIONS for k in node.keywords)
            )
        )
    }


def opted_in_by(path: Path) -> tuple[str, ...]:
    """The opt-in codes a file expects somewhere: selected for that file (others stay off)."""
    codes = {c for found in expectations(path).values() for c in found}
    return tuple(sorted(c for c in codes if c in RULES and RULES[c].opt_in))


def group_of(path: Path) -> tuple[str, tuple[str, ...]]:
    return settings_of(path), opted_in_by(path)


@functools.cache
def reports_for(group: tuple[str, tuple[str, ...]]) -> dict[tuple[str, int], frozenset[str]]:
    settings, opted = group
    files = [p for p in case_files() if group_of(p) == group]
    rel = [str(p.relative_to(PROJECT)) for p in files]
    select = ",".join(("DGC", *opted))
    result = run_flake8(
        "--select", select, "--django-settings-module", settings, "--format", FORMAT_ARG, *rel
    )
    assert result.returncode in (0, 1) and "critical error" not in result.stdout, (
        result.stdout + result.stderr
    )
    assert "flake8-django-goc: skipped" not in result.stderr, result.stderr
    by_line: dict[tuple[str, int], set[str]] = defaultdict(set)
    for report in parse_reports(result.stdout):
        by_line[(report.path, report.line)].add(report.code)
    return {key: frozenset(codes) for key, codes in by_line.items()}


FORMAT_ARG = "%(path)s:%(row)d:%(col)d:%(code)s:%(text)s"


def _cases() -> list[pytest.param]:
    params = []
    for path in case_files():
        rel = str(path.relative_to(PROJECT))
        for line, codes in expectations(path).items():
            params.append(pytest.param(rel, line, codes, id=f"{rel}:{line}"))
    return params


@pytest.mark.parametrize(("rel", "line", "expected"), _cases())
def test_expectation(rel: str, line: int, expected: frozenset[str]) -> None:
    reported = reports_for(group_of(PROJECT / rel))
    got = reported.get((rel, line), frozenset())
    source = (PROJECT / rel).read_text(encoding="utf-8").splitlines()[line - 1].strip()
    assert got == expected, f"{rel}:{line}: {source}"


@pytest.mark.parametrize("rel", [str(p.relative_to(PROJECT)) for p in case_files()])
def test_every_call_has_an_expectation_and_nothing_else_is_reported(rel: str) -> None:
    path = PROJECT / rel
    expected = expectations(path)
    missing = sorted(call_lines(path) - set(expected))
    assert not missing, f"calls without `# expect:` in {rel} at lines {missing}"
    reported = reports_for(group_of(path))
    extra = sorted(line for (p, line) in reported if p == rel and line not in expected)
    assert not extra, f"reports on lines without an expectation in {rel}: {extra}"


def test_case_files_exist() -> None:
    assert len(case_files()) >= 3
    assert sum(len(expectations(p)) for p in case_files()) >= 50
