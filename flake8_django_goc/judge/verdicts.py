"""Decide whether a resolved call is safe under concurrency. Pure: no Django, no libcst.

Semantics (docs/architecture.md, "Django semantics"): get_or_create SELECTs with every lookup
key, then INSERTs the plain keys (no ``__``) updated by defaults. Only a unique set whose fields
are all written with the looked-up values turns the losing INSERT into the IntegrityError
get_or_create recovers from.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from flake8_django_goc.find.records import CallArgs, CallSite, Value
from flake8_django_goc.judge.row import Cell, Row, evaluate, evaluate_kwargs
from flake8_django_goc.resolve.target import Target
from flake8_django_goc.rules import (
    DGC001,
    DGC002,
    DGC003,
    DGC004,
    DGC005,
    DGC006,
    DGC101,
    MAX_NAME,
    MAX_NAME_ORACLE,
    ConstraintFix,
    Finding,
    constraint_name,
    dgc001,
    dgc002,
    dgc003,
    dgc004,
    dgc005,
    dgc006,
    dgc101,
    fields_text,
)
from flake8_django_goc.schema import UNKNOWN, ModelFacts, UniqueSet
from flake8_django_goc.schema.orm import CREATE_DEFAULTS_METHODS
from flake8_django_goc.text import shorten


@dataclass(frozen=True)
class Lookup:
    """A call's lookup, normalised to the model's field names."""

    plain: dict[str, Value]  # field -> value the created row gets from the lookup
    filter_only: tuple[str, ...]  # keys the INSERT drops (`name__iexact`) or that name no column
    create: dict[str, Value]  # literal keys of the dict used on create (defaults/create_defaults)
    create_arg: str | None  # "defaults" or "create_defaults": the argument used on create
    create_opaque: bool  # the create dict is not a literal: it may override anything
    adds: tuple[str, ...]  # written by the receiver (related manager FK)
    iexact: dict[str, Value]  # field -> value of a `field__iexact` lookup


def judge(call: CallSite, target: Target) -> list[Finding]:
    args = call.args
    if args.positional or args.star_args:
        return []  # a positional argument is `defaults`; too unusual to judge
    if args.star_kwargs:
        uncovered = _uncovered_with_computed_keys(call, target)
        if uncovered is not None:
            return [uncovered]
        parts = [f"**{v.code}" for v in args.star_kwargs]
        return [Finding(DGC101, dgc101.message(_call_text(call, target), parts))]
    lookup = _lookup(call, target)
    if not lookup.plain and not lookup.filter_only and not lookup.adds:
        return _empty_lookup(call, target, lookup)
    row = _created_row(lookup, target.model)
    if args.changed:
        # `**lookup` whose in-place changes may add keys: uncovered with every key it may hold
        # means uncovered (fewer keys cover less); anything else is not known.
        found = coverage(target.model, lookup, row)
        if found.best is None:
            return [_uncovered(call, target, lookup, list(found.unenforced))]
        parts = [f"**{v.code}" for v in args.changed]
        return [Finding(DGC101, dgc101.message(_call_text(call, target), parts))]
    findings = _coverage(call, target, lookup, row)
    findings += _overrides(call, target, lookup)
    # A dropped `__` key of an uncovered lookup is already explained by the coverage message.
    covered = not any(f.code in (DGC001, DGC002, DGC004) for f in findings)
    findings += _chain_filters(call, target, row, dropped_keys=covered)
    return findings


def _uncovered_with_computed_keys(call: CallSite, target: Target) -> Finding | None:
    """``**{f"{side}_id": pk}``: each computed key names one field at most (one its pattern
    matches). DGC001 when no enforced unique set can be covered whichever fields they name."""
    patterns: list[re.Pattern[str]] = []
    items: list[tuple[str, Value]] = []
    for value in call.args.star_kwargs:
        if value.items is None or value.key_patterns is None:
            return None
        items.extend(value.items)
        patterns.extend(re.compile(p, re.DOTALL) for p in value.key_patterns)
    known = dataclasses.replace(
        call,
        args=dataclasses.replace(call.args, kwargs=(*call.args.kwargs, *items), star_kwargs=()),
    )
    lookup = _lookup(known, target)
    model = target.model
    pinned = set(lookup.plain) | set(lookup.adds)
    for unique_set in model.unique_sets:
        if unique_set.unenforced_reason:
            continue
        missing = [f for f in unique_set.fields if f not in pinned]
        if len(missing) > len(patterns):
            continue
        if all(any(_names(p, field, model) for p in patterns) for field in missing):
            return None  # the computed keys might complete this set
    computed = tuple(f"**{shorten(v.code, 40)}" for v in call.args.star_kwargs)
    return _uncovered(known, target, lookup, [], computed)


def _names(pattern: re.Pattern[str], field: str, model: ModelFacts) -> bool:
    facts = model.fields.get(field)
    names = {field, "pk"} if field in model.pk else {field}
    if facts is not None:
        names.add(facts.attname)
    return any(pattern.fullmatch(name) for name in names)


# ----------------------------------------------------------------------------------- the lookup


def call_lookup(call: CallSite, target: Target) -> Lookup:
    """The call's lookup normalised to field names (shared with judge/reimplemented.py)."""
    return _lookup(call, target)


def _lookup(call: CallSite, target: Target) -> Lookup:
    model = target.model
    plain: dict[str, Value] = {}
    filter_only: list[str] = []
    iexact: dict[str, Value] = {}
    for key, value in (*call.args.kwargs, *target.extra_lookup):
        if key in ("defaults", "create_defaults"):
            continue
        if "__" in key:
            filter_only.append(key)
            field, _, rest = key.partition("__")
            names = model.field_for_key(field)
            if rest == "iexact" and names and len(names) == 1:
                iexact[names[0]] = value
            continue
        names = model.field_for_key(key)
        if names is None:
            filter_only.append(key)  # a reverse relation or a typo: not a column of the row
        elif len(names) == 1:
            plain[names[0]] = value
        else:  # composite pk=(a, b)
            parts = value.literal if isinstance(value.literal, tuple) else None
            for i, name in enumerate(names):
                literal = parts[i] if parts and len(parts) == len(names) else UNKNOWN
                plain[name] = Value(f"{value.code}[{i}]", literal)
    create_arg = "defaults"
    if call.method in CREATE_DEFAULTS_METHODS and call.args.get("create_defaults") is not None:
        create_arg = "create_defaults"
    create_value = call.args.get(create_arg)
    create: dict[str, Value] = {}
    opaque = False
    if create_value is not None and create_value.literal is not None:
        if create_value.items is None:
            opaque = True
        else:
            opaque = not create_value.items_complete
            for key, value in create_value.items:
                names = model.field_for_key(key)
                if names and len(names) == 1:
                    create[names[0]] = value
    return Lookup(
        plain,
        tuple(filter_only),
        create,
        create_arg if create_value is not None else None,
        opaque,
        target.adds,
        iexact,
    )


def _created_row(lookup: Lookup, model: ModelFacts) -> Row:
    cells = {name: Cell(v.literal, v.code, v.not_null) for name, v in lookup.plain.items()}
    cells.update({name: Cell(not_null=True) for name in lookup.adds})
    cells.update({name: Cell(v.literal, v.code, v.not_null) for name, v in lookup.create.items()})
    if lookup.create_opaque:
        # A non-literal defaults dict may override anything, looked-up keys included.
        cells = {name: Cell() for name in cells}
    return Row(model, cells, opaque_defaults=lookup.create_opaque)


# ------------------------------------------------------------------------------------- coverage


@dataclass(frozen=True)
class Candidate:
    unique_set: UniqueSet
    code: str | None  # None: protects the call; else the defect's code
    detail: str = ""


_PREFERENCE = {None: 0, DGC003: 1, DGC002: 2, DGC004: 3}


@dataclass(frozen=True)
class Coverage:
    """How the unique sets of a model meet a lookup whose values the created row holds."""

    best: Candidate | None  # the most protective covering set; None: no enforced set covers
    unenforced: tuple[UniqueSet, ...]  # sets that would cover, but the database lacks them

    @property
    def protected(self) -> bool:
        return self.best is not None and self.best.code is None


def coverage(model: ModelFacts, lookup: Lookup, row: Row | None = None) -> Coverage:
    """The coverage verdict shared by get_or_create() (DGC001-004) and hand-written checks."""
    if row is None:
        row = _created_row(lookup, model)
    pinned = set(lookup.plain) | set(lookup.adds)
    candidates: list[Candidate] = []
    unenforced: list[UniqueSet] = []
    for unique_set in model.unique_sets:
        if not _covers(unique_set, pinned, lookup):
            continue
        if unique_set.unenforced_reason:
            unenforced.append(unique_set)
            continue
        candidates.append(_classify(unique_set, lookup, row, model))
    best = min(candidates, key=lambda c: _PREFERENCE[c.code]) if candidates else None
    return Coverage(best, tuple(unenforced))


def _coverage(call: CallSite, target: Target, lookup: Lookup, row: Row) -> list[Finding]:
    found = coverage(target.model, lookup, row)
    if found.best is not None:
        if found.best.code is None:
            return []
        return [_defect(call, target, found.best, lookup)]
    return [_uncovered(call, target, lookup, list(found.unenforced))]


def _covers(unique_set: UniqueSet, pinned: set[str], lookup: Lookup) -> bool:
    for field in unique_set.fields:
        if field in pinned:
            continue
        # `name__iexact=x` with defaults={"name": x} under Lower("name"): both racing INSERTs write
        # the same value, the constraint compares lower-cased values, and the retry finds it.
        if field in unique_set.ci_fields and field in lookup.iexact and field in lookup.create:
            looked, written = lookup.iexact[field], lookup.create[field]
            if written.code == looked.code or (
                isinstance(written.literal, str)
                and isinstance(looked.literal, str)
                and written.literal.lower() == looked.literal.lower()
            ):
                continue
        return False
    return True


def _classify(unique_set: UniqueSet, lookup: Lookup, row: Row, model: ModelFacts) -> Candidate:
    nullable_none = [
        f
        for f in unique_set.fields
        if f in lookup.plain
        and model.fields.get(f) is not None
        and model.fields[f].null
        and (
            lookup.plain[f].literal is None
            or (model.backend.vendor == "Oracle" and lookup.plain[f].literal == "")
        )
    ]
    if nullable_none and unique_set.nulls_distinct is not False:
        return Candidate(unique_set, DGC004, ", ".join(nullable_none))
    if unique_set.condition is not None:
        truth = evaluate(unique_set.condition, row) if unique_set.condition_readable else None
        if truth is not True:
            return Candidate(unique_set, DGC002, "false" if truth is False else "unknown")
    if unique_set.deferred:
        return Candidate(unique_set, DGC003)
    return Candidate(unique_set, None)


# ------------------------------------------------------------------------------ DGC005 / DGC006


def _overrides(call: CallSite, target: Target, lookup: Lookup) -> list[Finding]:
    repeated = []
    for field, written in lookup.create.items():
        looked = lookup.plain.get(field)
        if looked is None:
            continue
        same = written.code == looked.code or (
            written.is_literal and looked.is_literal and written.literal == looked.literal
        )
        if not same:
            repeated.append(field)
    if not repeated:
        return []
    update = call.method in CREATE_DEFAULTS_METHODS and lookup.create_arg == "defaults"
    text = dgc005.message(_call_text(call, target), repeated, lookup.create_arg or "", update)
    return [Finding(DGC005, text)]


def _chain_filters(call: CallSite, target: Target, row: Row, dropped_keys: bool) -> list[Finding]:
    """DGC006: conditions of the get() that the created row is not shown to meet."""
    unmet: list[str] = []
    for chain_filter in target.filters:
        args = chain_filter.args
        truth = None
        if not (args.positional or args.star_args or args.star_kwargs) and args.kwargs:
            pairs = [(k, v.literal) for k, v in args.kwargs]
            codes = {k: v.code for k, v in args.kwargs}
            truth = evaluate_kwargs(pairs, row, codes)
            if chain_filter.method == "exclude" and truth is not None:
                truth = not truth
        if truth is not True:
            text = chain_filter.implicit or f".{chain_filter.method}({_args_text(args)})"
            unmet.append(f"{chain_filter.origin}'s {text}" if chain_filter.origin else text)
    # Lookup keys the INSERT drops (`color__iexact`) narrow the get() the same way.
    dropped = [
        (k, v)
        for k, v in call.args.kwargs
        if dropped_keys and k not in ("defaults", "create_defaults") and "__" in k
    ]
    for key, value in dropped:
        if evaluate_kwargs([(key, value.literal)], row, {key: value.code}) is not True:
            unmet.append(f"{key}={shorten(value.code, 30)}")
    if not unmet:
        return []
    return [Finding(DGC006, dgc006.message(call.method, unmet))]


# ------------------------------------------------------------------------------------- messages


def _call_text(call: CallSite, target: Target) -> str:
    receiver = call.receiver_code
    if len(receiver) > 40 or "\n" in receiver:
        receiver = target.display + ("..." if target.filters else "")
    return f"{receiver}.{call.method}()"


def _args_text(args: CallArgs) -> str:
    parts = [v.code for v in args.positional] + [f"{k}={v.code}" for k, v in args.kwargs]
    text = ", ".join(parts)
    return text if len(text) <= 40 else text[:37] + "..."


def _looked_up(lookup: Lookup) -> tuple[str, ...]:
    return (*lookup.adds, *lookup.plain, *lookup.filter_only)


def _unique_fields(model: ModelFacts) -> list[str]:
    """Single fields the user could look up by instead."""
    return [
        s.fields[0]
        for s in model.unique_sets
        if len(s.fields) == 1
        and s.condition is None
        and not s.deferred
        and not s.functional
        and not s.unenforced_reason
        and s.fields[0] in model.fields
    ]


def constraint_fix(
    model: ModelFacts,
    fields: tuple[str, ...],
    *,
    nulls_distinct: bool | None = None,
    condition: tuple[tuple[str, Any], ...] = (),
) -> ConstraintFix | None:
    """The UniqueConstraint over ``fields`` (partial when ``condition``), declared on the model
    whose table has them all (a multi-table child's constraint cannot name its parents' fields)."""
    own = model.concrete_label or model.label
    named = (*fields, *(key.split("__")[0] for key, _ in condition))
    owners = {(model.fields[f].owner or own) if f in model.fields else None for f in named}
    owner = owners.pop() if len(owners) == 1 else None
    if not fields or owner is None or not model.managed:
        return None
    limit = MAX_NAME_ORACLE if model.backend.vendor == "Oracle" else MAX_NAME
    name = constraint_name(owner, fields, limit, condition)
    return ConstraintFix(owner, fields, name, nulls_distinct, condition)


def _pinned_literals(lookup: Lookup) -> tuple[tuple[str, Any], ...]:
    """Lookup fields set to a plain literal (``status="new"``): a partial constraint can take
    them as its condition."""
    return tuple(
        (name, value.literal)
        for name, value in lookup.plain.items()
        # (a value defaults also sets is DGC005's: the created row would not meet the condition)
        if type(value.literal) in (str, int, bool) and name not in lookup.create
    )


def _partial_fix(model: ModelFacts, lookup: Lookup) -> ConstraintFix | None:
    """A field pinned to a literal (status="new") is the condition of a partial constraint over
    the other looked-up fields: an unconditional (customer, status) would also forbid a
    customer's second paid order. None where the backend creates no partial index."""
    pinned = _pinned_literals(lookup)
    written = (*lookup.adds, *lookup.plain)
    rest = tuple(f for f in written if f and f not in dict(pinned))
    if not (pinned and rest and model.backend.partial):
        return None
    return constraint_fix(model, rest, condition=pinned)


def _uncovered(
    call: CallSite,
    target: Target,
    lookup: Lookup,
    unenforced: list[UniqueSet],
    computed: tuple[str, ...] = (),
) -> Finding:
    model = target.model
    label = model.concrete_label or model.label
    written = tuple(f for f in (*lookup.adds, *lookup.plain) if f)
    partial = _partial_fix(model, lookup)
    fix = constraint_fix(model, written)
    fixes = []
    for offered in (partial, fix):
        if offered is not None:
            where = "" if offered.model == label else f" on {offered.model}"
            kind = (
                ""
                if partial is None
                else ("a partial " if offered is partial else "an unconditional ")
            )
            fixes.append(f"add {kind}{offered.code()}{where} ({offered.business_rule()})")
    unique = [f for f in _unique_fields(model) if f not in written]
    text = dgc001.message(
        _call_text(call, target),
        (*_looked_up(lookup), *computed),
        label,
        method=call.method,
        dropped=lookup.filter_only,
        unenforced=[(u.describe(), u.unenforced_reason or "") for u in unenforced],
        unmanaged=not model.managed,
        fixes=fixes,
        unique=unique,
    )
    return Finding(DGC001, text, partial or fix)


def _empty_lookup(call: CallSite, target: Target, lookup: Lookup) -> list[Finding]:
    """No lookup at all: the get() matches any row, so only a unique set the created row fills
    with non-NULL values that concurrent calls share (constants, or what ``defaults`` writes)
    stops a second insert; Django's re-read after the IntegrityError then finds the one row."""
    model = target.model
    row = _created_row(lookup, model)
    for unique_set in model.unique_sets:
        if (
            unique_set.condition is not None
            or unique_set.deferred
            or unique_set.functional
            or unique_set.unenforced_reason is not None
        ):
            continue
        cells = [row.cell(name) for name in unique_set.fields]
        # A constant, or a value the call writes (concurrent calls may well write the same).
        if all(c.literal is not None and (c.literal is not UNKNOWN or c.code) for c in cells):
            return []
    label = model.concrete_label or model.label
    text = dgc001.empty_message(_call_text(call, target), label, method=call.method)
    return [Finding(DGC001, text)]


def _null_remedy(
    model: ModelFacts, s: UniqueSet, nullable: list[str]
) -> tuple[str, ConstraintFix | None]:
    """DGC004's fix, by what the model's database can do with NULLs in a unique constraint."""
    backend = model.backend
    rest = tuple(f for f in s.fields if f not in nullable)
    where_null = tuple((f"{f}__isnull", True) for f in nullable)
    partial = (
        constraint_fix(model, rest, condition=where_null) if rest and backend.partial else None
    )
    names = ", ".join(nullable)
    if backend.nulls_distinct:
        fix = constraint_fix(model, s.fields, nulls_distinct=False)
        remedy = f", or use {fix.code()} (Django 5.0+, PostgreSQL 15+)" if fix else ""
        if partial is not None:
            remedy += f", or (before those) add the partial {partial.code()}"
        return remedy, fix or partial
    if partial is not None:
        return (
            f", or add the partial {partial.code()}, one row per {fields_text(rest)} among "
            f"those whose {names} is NULL ({backend.vendor} has no nulls_distinct)",
            partial,
        )
    lacks = (
        "has no nulls_distinct"
        if backend.partial
        else "creates neither nulls_distinct nor conditional unique constraints"
    )
    return f", or make {names} NOT NULL (null=False with a default); {backend.vendor} {lacks}", None


def _defect(call: CallSite, target: Target, best: Candidate, lookup: Lookup) -> Finding:
    s = best.unique_set
    model = target.model
    head = _call_text(call, target)
    if best.code == DGC004:
        remedy, fix = _null_remedy(model, s, best.detail.split(", "))
        return Finding(DGC004, dgc004.message(head, best.detail, s.describe(), remedy), fix)
    if best.code == DGC002:
        condition = s.condition.text if s.condition is not None else "?"
        if best.detail == "false":
            why = "the created row does not satisfy it"
        elif not s.condition_readable:
            why = "the condition uses expressions this linter cannot evaluate"
        else:
            why = "the created row is not shown to satisfy it"
        partial = _partial_fix(model, lookup)
        fix = constraint_fix(model, s.fields)
        remedy = ""
        if partial is not None:
            remedy += f", or add the partial {partial.code()} ({partial.business_rule()})"
        if fix is not None:
            remedy += f", or add an unconditional {fix.code()} ({fix.business_rule()})"
        text = dgc002.message(head, s.describe(), condition, why, remedy)
        return Finding(DGC002, text, partial or fix)
    own = call.method in CREATE_DEFAULTS_METHODS
    return Finding(DGC003, dgc003.message(head, s.describe(), call.method, own_transaction=own))
