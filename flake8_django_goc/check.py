"""The pipeline for one file: gate -> find calls -> resolve -> judge. Shared by plugin and CLI."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .calls import could_contain_call, find_calls, positions_from_ast
from .judge import judge
from .resolve import Target, module_context, resolve, with_constants
from .rules import Finding
from .schema import Schema


@dataclass(frozen=True)
class Report:
    line: int
    col: int  # 0-based, as flake8 plugins yield it
    finding: Finding


def check_source(
    source: str, filename: str, schema: Schema, tree: ast.AST | None = None
) -> list[Report]:
    """Findings for one file. ``tree`` is flake8's ast (positions come from it when given)."""
    if not could_contain_call(source):
        return []
    positions = positions_from_ast(tree) if tree is not None else None
    if positions == []:
        return []  # the text mentions the name, but no call has it: skip the libcst parse
    facts, calls = find_calls(source, positions)
    ctx = module_context(facts, filename, schema)
    reports = []
    for found in calls:
        call = with_constants(found, ctx, schema)
        target = resolve(call, ctx, schema)
        if not isinstance(target, Target):
            continue
        reports.extend(Report(call.line, call.col, f) for f in judge(call, target))
    return reports
