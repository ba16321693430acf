"""The pipeline for one file: gate -> find calls -> resolve -> judge. Shared by plugin and CLI."""

from __future__ import annotations

import ast
import dataclasses
import functools
import sys
from dataclasses import dataclass, field

from flake8_django_goc.find.gate import may_hold_pair
from flake8_django_goc.find.pairs import could_contain_pair, find_handrolled
from flake8_django_goc.find.records import CallSite, ModuleFacts, could_contain_call
from flake8_django_goc.judge.bulk import Verdict, judge_bulk
from flake8_django_goc.judge.collisions import judge_call
from flake8_django_goc.judge.handrolled import judge_handrolled
from flake8_django_goc.judge.locks import drop_race_findings, serialised
from flake8_django_goc.judge.reimplemented import passed_through, reimplemented
from flake8_django_goc.judge.verdicts import judge
from flake8_django_goc.resolve.receivers import (
    Candidates,
    ModuleContext,
    Target,
    constructed_model,
    module_context,
    resolve,
    target_in_scope,
    with_constants,
    with_known_values,
)
from flake8_django_goc.rules import DGC100, DGC102, Finding, dgc100, dgc102
from flake8_django_goc.schema import Schema, findings_for_file
from flake8_django_goc.schema.orm import BULK_METHODS
from flake8_django_goc.text import shorten


@dataclass(frozen=True)
class Report:
    line: int
    col: int  # 0-based, as flake8 plugins yield it
    finding: Finding


@dataclass
class FileResult:
    reports: list[Report] = field(default_factory=list)
    calls: int = 0
    resolved: int = 0


Parsed = tuple[ModuleFacts, list[CallSite]]


def check_source(
    source: str,
    filename: str,
    schema: Schema,
    tree: ast.AST | None = None,
    serializers: tuple[str, ...] = (),
) -> FileResult:
    """Findings for one file. ``tree`` is flake8's ast (positions come from it when given)."""
    return judge_parsed(parse_source(source, tree), filename, schema, serializers)


def could_hold_finding(source: str) -> bool:
    """The text gate: a get_or_create-family name, or a hand-written check and create."""
    return could_contain_call(source) or could_contain_pair(source)


def worth_parsing(source: str) -> bool:
    """The command's gate before ``ast.parse`` (the plugin gets flake8's tree for free): a
    get_or_create-family name, or one definition whose text holds a check and a create."""
    return could_contain_call(source) or may_hold_pair(source)


def parse_source(source: str, tree: ast.AST | None = None) -> Parsed | None:
    """The calls of one file (libcst); None when it cannot hold one. Needs no Schema, so the
    command can run it while Django is being set up. Hand-written checks (DGC008-DGC010) come
    from the ast alone (find/pairs.py)."""
    handrolled = find_handrolled(source, tree) if could_contain_pair(source) else None
    parsed = _parse_calls(source, tree) if could_contain_call(source) else None
    if not handrolled:
        return parsed
    own = handrolled.facts
    assert own is not None  # HandRolled carries the ast's import table when it holds anything
    if parsed is None:
        return dataclasses.replace(own, handrolled=handrolled), []
    # libcst saw only the functions that hold a call: the imports made inside the others (where
    # a hand-written pair may be) come from the ast's table.
    facts = parsed[0]
    facts = dataclasses.replace(
        facts,
        imports={**own.imports, **facts.imports},
        classes=facts.classes | own.classes,
        handrolled=handrolled,
    )
    return facts, parsed[1]


def _parse_calls(source: str, tree: ast.AST | None) -> Parsed | None:
    from flake8_django_goc.find.calls import (  # libcst, only for candidate files
        find_calls,
        positions_from_ast,
    )

    positions = positions_from_ast(tree, source) if tree is not None else None
    if positions == []:
        return None  # the text mentions the name, but no call has it: skip the libcst parse
    return find_calls(source, positions, tree)


def judge_parsed(
    parsed: Parsed | None, filename: str, schema: Schema, serializers: tuple[str, ...] = ()
) -> FileResult:
    result = FileResult()
    for setting in findings_for_file(schema.settings_findings, filename):  # DGC007
        result.reports.append(
            Report(setting.line, setting.col, Finding(setting.code, setting.message))
        )
    if parsed is None:
        return result
    facts, calls = parsed
    ctx = module_context(facts, filename, schema)
    for found in calls:
        result.calls += 1
        findings, resolved = check_call(found, ctx, schema)
        if serializers and serialised(found.guards, serializers):
            findings = drop_race_findings(findings)  # a lock serialises the calls
        result.resolved += resolved
        result.reports.extend(Report(found.line, found.col, f) for f in findings)
    if facts.handrolled:  # DGC008-DGC010
        target_of = functools.partial(target_in_scope, ctx=ctx, schema=schema)
        located = judge_handrolled(facts.handrolled, target_of, schema, serializers)
        result.reports.extend(Report(f.line, f.col, f.finding) for f in located)
    return result


def bulk_verdict(ctx: ModuleContext, schema: Schema) -> Verdict:
    """The judge for bulk_create() calls of one file (it resolves the objects' constructors)."""

    def verdict(call: CallSite, target: Target) -> list[Finding]:
        return judge_bulk(call, target, lambda steps: constructed_model(call, steps, ctx, schema))

    return verdict


def check_call(found: CallSite, ctx: ModuleContext, schema: Schema) -> tuple[list[Finding], bool]:
    """The findings for one call, and whether it was tied to a model (else only DGC100)."""
    call = with_constants(with_known_values(found, ctx, schema), ctx, schema)
    # judge_call: judge() and DGC011; bulk_create(): DGC012
    verdict = bulk_verdict(ctx, schema) if call.method in BULK_METHODS else _unless_reimplemented
    resolution = resolve(call, ctx, schema)
    if isinstance(resolution, Target):
        return verdict(call, resolution), True
    if isinstance(resolution, Candidates):
        findings = _judge_candidates(call, resolution, verdict)
        if findings is not None:
            return findings, True
        owners = [t.via for t in resolution.targets]
        if all(owners):  # an accessor name several models have: name those models
            accessor = resolution.targets[0].manager
            reason = (
                f"the owner's type is not known, and {accessor!r} is a related manager of "
                f"{', '.join(dict.fromkeys(str(o) for o in owners))}, which get different verdicts"
            )
        else:
            labels = ", ".join(dict.fromkeys(t.model.label for t in resolution.targets))
            reason = f"it could be any of {labels}, and they get different verdicts"
        return [_unresolved(call, reason)], False
    if resolution.own_method:  # known, and not Django's: the project's own API (DGC102)
        receiver = shorten(call.receiver_code)
        text = dgc102.own_method_message(f"{receiver}.{call.method}()", resolution.reason)
        return [Finding(DGC102, text)], True
    return [_unresolved(call, resolution.reason)], False


def _unless_reimplemented(call: CallSite, target: Target) -> list[Finding]:
    """judge_call(), unless the project reimplements the method (DGC102: not judged)."""
    through = passed_through(call, target)
    if through is not None:  # the project's get_or_create() hands these arguments to Django's
        return judge_call(through, dataclasses.replace(target, django_method=True))
    own = reimplemented(call, target)
    return [own] if own is not None else judge_call(call, target)


def _unresolved(call: CallSite, reason: str) -> Finding:
    return Finding(DGC100, dgc100.message(call.receiver_code, call.method, reason))


def _judge_candidates(
    call: CallSite, candidates: Candidates, verdict: Verdict = judge
) -> list[Finding] | None:
    verdicts = [(t, verdict(call, t)) for t in candidates.targets]
    labels = [t.model.label for t in candidates.targets]
    if not candidates.each:
        code_sets = {frozenset(f.code for f in findings) for _, findings in verdicts}
        if len(code_sets) > 1:
            return None
        note = (
            f" (the owner's type is not known; every model it can be gives this verdict: "
            f"{', '.join(labels)})"
        )
        result = []
        for finding in verdicts[0][1]:
            fixes = {f.fix for _, fs in verdicts for f in fs if f.code == finding.code}
            fix = finding.fix if len(fixes) == 1 else None  # only a fix every candidate shares
            result.append(Finding(finding.code, finding.message + note, fix))
        return result
    merged: dict[str, tuple[Finding, list[str]]] = {}
    for target, findings in verdicts:
        for finding in findings:
            merged.setdefault(finding.code, (finding, []))[1].append(target.model.label)
    return [
        dataclasses.replace(
            first,
            message=first.message
            + (f" (also for {', '.join(models[1:])})" if len(models) > 1 else ""),
        )
        for first, models in merged.values()
    ]


def describe_failure(exc: Exception) -> str:
    """Why a file was skipped, for the one-line note on stderr (plugin and command alike)."""
    libcst = sys.modules.get("libcst")  # imported by check_source, if it got that far
    if libcst is not None and isinstance(exc, libcst.ParserSyntaxError):
        return f"libcst cannot parse it ({str(exc).splitlines()[0]})"
    return f"internal error {type(exc).__name__}: {exc} (please report it)"


def is_internal_error(exc: Exception) -> bool:
    libcst = sys.modules.get("libcst")
    return not (libcst is not None and isinstance(exc, libcst.ParserSyntaxError))
