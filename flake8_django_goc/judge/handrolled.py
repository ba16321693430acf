"""Judge hand-written get-or-create pairs (DGC008/DGC009) and Python-only uniqueness checks
(DGC010). Pure: no Django, no libcst.

Both sides of a pair are resolved like a get_or_create() receiver (resolve/receivers.py), in the
scope of the call that inserts. The coverage verdict is the one get_or_create() gets
(judge/verdicts.py ``coverage``), for the fields the create writes with the values the check
looked up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from flake8_django_goc.find.records import (
    CallArgs,
    CallSite,
    Check,
    HandRolled,
    Pair,
    PyCheck,
    Scope,
    Validator,
    Value,
)
from flake8_django_goc.judge.locks import serialised
from flake8_django_goc.judge.verdicts import Coverage, Lookup, constraint_fix, coverage
from flake8_django_goc.resolve.target import Target, TargetOf
from flake8_django_goc.rules import (
    DGC002,
    DGC003,
    DGC004,
    DGC008,
    DGC009,
    DGC010,
    ConstraintFix,
    Finding,
    fields_text,
)
from flake8_django_goc.schema import ModelFacts, Schema
from flake8_django_goc.schema.orm import UPDATE_METHODS


@dataclass(frozen=True)
class Located:
    line: int
    col: int
    finding: Finding


def judge_handrolled(
    found: HandRolled,
    target_of: TargetOf,
    schema: Schema,
    serializers: tuple[str, ...] = (),
) -> Iterator[Located]:
    for pair in found.pairs:
        scope = pair.scope
        if scope is None or pair.handling.serialised:
            continue
        if serializers and serialised(scope.guards, serializers):
            continue  # a configured lock serialises the path
        finding = _judge_pair(pair, scope, target_of, schema)
        if finding is not None:
            yield Located(pair.line, pair.col, finding)
    for check in found.checks:
        scope = check.scope
        if scope is None or check.serialised:
            continue
        if serializers and serialised(scope.guards, serializers):
            continue
        finding = _judge_pycheck(check, scope, target_of, schema)
        if finding is not None:
            yield Located(check.check.line, check.check.col, finding)
    for validator in found.validators:
        if validator.scope is None:
            continue
        finding = _judge_validator(validator, validator.scope, target_of, schema)
        if finding is not None:
            yield Located(validator.line, validator.col, finding)


def _label(model: ModelFacts) -> str:
    return model.concrete_label or model.label


def _norm(code: str) -> str:
    try:
        return ast.unparse(ast.parse(code.strip(), mode="eval"))
    except (SyntaxError, ValueError, RecursionError):
        return " ".join(code.split())


def _same(a: Value, b: Value) -> bool:
    if a.is_literal and b.is_literal:
        return bool(type(a.literal) is type(b.literal) and a.literal == b.literal)
    return _norm(a.code) == _norm(b.code)


@dataclass(frozen=True)
class _Keys:
    plain: dict[str, Value]  # field -> looked-up (or written) value
    iexact: dict[str, Value]
    other: tuple[str, ...]  # keys that are no plain column equality


def _keys(model: ModelFacts, items: list[tuple[str, Value]]) -> _Keys:
    plain: dict[str, Value] = {}
    iexact: dict[str, Value] = {}
    other: list[str] = []
    for key, value in items:
        field, _, rest = key.partition("__")
        names = model.field_for_key(field)
        if names is None or len(names) != 1:
            other.append(key)
        elif not rest:
            plain[names[0]] = value
        elif rest == "iexact":
            iexact[names[0]] = value
        else:
            other.append(key)
    return _Keys(plain, iexact, tuple(other))


def _looked_up(target: Target, call: CallSite) -> list[tuple[str, Value]] | None:
    """What the check selects by: its own keywords, the chain's filter()s, a related manager's
    owner. None when some of it is not known statically (``**kwargs``)."""
    if call.args.star_kwargs or call.args.positional:
        return None
    items = list(call.args.kwargs)
    for chain_filter in target.filters:
        if chain_filter.method != "filter" or chain_filter.origin:
            continue  # exclude() narrows nothing a create writes; a manager's filter is implicit
        if chain_filter.args.star_kwargs:
            return None
        items.extend(chain_filter.args.kwargs)
    items.extend((f, Value(target.owner or "<owner>")) for f in target.adds)
    return items


def _written(target: Target, call: CallSite) -> dict[str, Value] | None:
    if call.args.star_kwargs:
        return None
    keys = _keys(target.model, list(call.args.kwargs))
    written = dict(keys.plain)
    written.update((f, Value(target.owner or "<owner>")) for f in target.adds)
    return written


# ------------------------------------------------------------------------------- DGC008/DGC009


def _judge_pair(pair: Pair, scope: Scope, target_of: TargetOf, schema: Schema) -> Finding | None:
    check = pair.check
    checked = target_of(check.method, check.receiver, check.kwargs, scope)
    created = target_of(pair.create_method, pair.receiver, pair.written, scope)
    if checked is None or created is None:
        return None
    (check_target, check_call), (create_target, create_call) = checked, created
    model = create_target.model
    if _label(check_target.model) != _label(model):
        return None  # a check on one model, a create of another
    items = _looked_up(check_target, check_call)
    written = _written(create_target, create_call)
    if items is None or written is None:
        return None
    keys = _keys(model, items)
    if not keys.plain and not keys.iexact:
        return None
    # The create must write every looked-up value: else it is no get-or-create of that row.
    for field, value in keys.plain.items():
        if field not in written or not _same(written[field], value):
            return None
    for field, value in keys.iexact.items():
        if field not in written or not _same(written[field], value):
            return None
    lookup = Lookup(
        plain=dict(keys.plain),
        filter_only=keys.other,
        create=written,
        create_arg=None,
        create_opaque=False,
        adds=(),
        iexact=dict(keys.iexact),
    )
    found = coverage(model, lookup)
    head = _create_text(pair, create_target)
    where = f"the check on line {check.line} ({check.text})"
    fields = tuple(keys.plain) or tuple(keys.iexact)
    if found.best is None or found.best.code in (DGC002, DGC004):
        return _uncovered_pair(pair, head, where, model, fields, found)
    if found.best.code == DGC003:
        return Finding(
            DGC009,
            f"{head} inserts the row {where} did not find; {found.best.unique_set.describe()} "
            "stops a concurrent duplicate only at COMMIT (Deferrable.DEFERRED), where the "
            "IntegrityError escapes every handler: a 500. Fix: make it Deferrable.IMMEDIATE and "
            f"use {_suggest(check)}.",
        )
    handling = pair.handling
    describe = found.best.unique_set.describe()
    if handling.handler_line is None or handling.handler_reraises:
        return Finding(
            DGC009,
            f"{head} inserts the row {where} did not find; {describe} stops a concurrent "
            "duplicate, so the request that loses the race gets an IntegrityError nothing here "
            f"catches: a 500. Fix: use {_suggest(check)}, or wrap the insert in "
            "`with transaction.atomic():` inside `try: ... except IntegrityError:` and re-read "
            "the row.",
        )
    if handling.outer_atomic and not handling.own_atomic:
        return Finding(
            DGC009,
            f"{head} is caught by the except on line {handling.handler_line}, but runs inside "
            "the transaction.atomic() of this function without a savepoint of its own: the "
            "IntegrityError breaks the whole transaction (PostgreSQL: 'current transaction is "
            "aborted'), so the handler's next query raises TransactionManagementError. Fix: "
            "wrap the insert in its own "
            f"`with transaction.atomic():` inside the try, or use {_suggest(check)}.",
        )
    return None


def _uncovered_pair(
    pair: Pair,
    head: str,
    where: str,
    model: ModelFacts,
    fields: tuple[str, ...],
    found: Coverage,
) -> Finding:
    label = _label(model)
    parts = [
        f"{head} inserts the row {where} did not find, but no unique constraint on {label} "
        f"covers {fields_text(fields)}: two concurrent requests can both miss and both insert, "
        "leaving duplicate rows."
    ]
    best = found.best
    fix: ConstraintFix | None
    if best is not None and best.code == DGC004:
        parts.append(f"NULLs never collide in {best.unique_set.describe()} ({best.detail}).")
        fix = constraint_fix(model, best.unique_set.fields, nulls_distinct=False)
    elif best is not None and best.code == DGC002:
        condition = best.unique_set.condition.text if best.unique_set.condition else "?"
        parts.append(
            f"{best.unique_set.describe()} applies only where {condition}, which the created "
            "row is not shown to satisfy."
        )
        fix = constraint_fix(model, fields)
    else:
        fix = constraint_fix(model, fields)
    for unique_set in found.unenforced:
        parts.append(f"{unique_set.describe()} would, but {unique_set.unenforced_reason}.")
    remedy = f"add {fix.code()} and " if fix is not None else "add a unique constraint and "
    parts.append(f"Fix: {remedy}use {_suggest(pair.check)}.")
    return Finding(DGC008, " ".join(parts), fix)


def _suggest(check: Check) -> str:
    if check.method in UPDATE_METHODS:
        return "update_or_create(), which recovers from the IntegrityError"
    return (
        "get_or_create() (update_or_create() when the found row is updated), which recovers "
        "from the IntegrityError"
    )


def _create_text(pair: Pair, target: Target) -> str:
    if pair.create_method in ("save", "asave"):
        return f"{target.model.object_name}(...).{pair.create_method}()"
    if target.related and target.owner:
        return f"{target.owner}.{target.manager}.{pair.create_method}()"
    return f"{target.display}.{pair.create_method}()"


# ------------------------------------------------------------------------------------- DGC010


def _judge_pycheck(
    check: PyCheck, scope: Scope, target_of: TargetOf, schema: Schema
) -> Finding | None:
    c = check.check
    checked = target_of(c.method, c.receiver, c.kwargs, scope)
    if checked is None:
        return None
    target, call = checked
    items = _looked_up(target, call)
    if items is None:
        return None
    keys = _keys(target.model, items)
    if not keys.plain:
        return None
    what = f"{c.text} followed by raise"
    return _python_only(target.model, keys.plain, what)


def _judge_validator(
    validator: Validator, scope: Scope, target_of: TargetOf, schema: Schema
) -> Finding | None:
    checked = target_of("all", validator.receiver, CallArgs(), scope)
    if checked is None:
        return None
    target, _ = checked
    plain: dict[str, Value] = {}
    for name in validator.fields:
        names = target.model.field_for_key(name)
        if names is None or len(names) != 1:
            return None  # a serializer field that is no model column (source=...)
        plain[names[0]] = Value(f"<{name}>")
    return _python_only(target.model, plain, f"{validator.kind}(queryset=...)")


def _python_only(model: ModelFacts, plain: dict[str, Value], what: str) -> Finding | None:
    lookup = Lookup(plain, (), {}, None, False, (), {})
    found = coverage(model, lookup)
    if found.best is not None and found.best.code in (None, DGC003):
        return None  # the database enforces it; the check only gives a nicer message
    fields = tuple(plain)
    fix = constraint_fix(model, fields)
    remedy = f"add {fix.code()}" if fix is not None else "add a unique constraint"
    extra = "".join(f" {s.describe()} would, but {s.unenforced_reason}." for s in found.unenforced)
    return Finding(
        DGC010,
        f"{what} checks in Python that no other {_label(model)} has the same "
        f"{fields_text(fields)}, but no unique constraint enforces it: two concurrent requests "
        f"both pass the check and both save.{extra} Fix: {remedy} (keep the check for its "
        "friendlier message).",
        fix,
    )
