"""DGC011: the created row holds a unique value that the get() before it did not look for.

get_or_create() SELECTs with its lookup (and the filters before it), then INSERTs. When a unique
set of the row is written from ``defaults``/``create_defaults`` or a constant field default, or
the SELECT is narrowed by conditions outside the unique set (a filter, a filtering manager, an
M2M relation), a row that already holds the unique value but does not match the SELECT makes the
INSERT fail; the retry get() misses that row too, and the IntegrityError escapes. No race needed.
"""

from __future__ import annotations

import re

from flake8_django_goc.find.records import CallSite
from flake8_django_goc.judge.row import Row, evaluate
from flake8_django_goc.judge.verdicts import (
    Lookup,
    _args_text,
    _call_text,
    _created_row,
    _lookup,
    judge,
)
from flake8_django_goc.resolve.target import ChainFilter, Target
from flake8_django_goc.rules import DGC006, DGC011, Finding, fields_text
from flake8_django_goc.schema import ModelFacts, UniqueSet

# Values that do not repeat in practice.
_RANDOM = re.compile(
    r"\buuid\.uuid[1-5]\(|\buuid[1-5]\(|\bsecrets\.token_\w+\(|\btoken_(?:hex|urlsafe|bytes)\("
    r"|\bget_random_string\("
)


def judge_call(call: CallSite, target: Target) -> list[Finding]:
    """The get_or_create-family verdict: coverage and the rest (verdicts.judge), then DGC011."""
    findings = judge(call, target)
    args = call.args
    if args.positional or args.star_args or args.star_kwargs or args.changed:
        return findings  # not judged (DGC101 says why for **kwargs)
    lookup = _lookup(call, target)
    if not lookup.plain and not lookup.filter_only and not lookup.adds:
        return findings
    row = _created_row(lookup, target.model)
    dgc006 = any(f.code == DGC006 for f in findings)
    return findings + collisions(call, target, lookup, row, dgc006)


def collisions(
    call: CallSite, target: Target, lookup: Lookup, row: Row, dgc006: bool
) -> list[Finding]:
    model = target.model
    if lookup.create_opaque:
        return []  # a non-literal defaults dict: what is written is not known
    pinned = set(lookup.plain) | set(lookup.adds)
    unique_codes = {
        lookup.plain[s.fields[0]].code
        for s in model.unique_sets
        if len(s.fields) == 1 and s.fields[0] in lookup.plain and _plain(s)
    }
    for unique_set in model.unique_sets:
        if not _usable(unique_set, model, lookup, row):
            continue
        written = _written(unique_set, model, lookup, pinned, unique_codes)
        if written is None:
            continue
        outside = [k for k in (*lookup.adds, *lookup.plain) if k not in unique_set.fields]
        outside += list(lookup.filter_only)
        hidden = _hiding(target, unique_set, model)
        if written and (outside or hidden):
            return [_from_create(call, target, lookup, unique_set, written, outside, hidden)]
        if not written and hidden and not dgc006:
            return [_from_filters(call, target, unique_set, hidden)]
    return []


def _plain(s: UniqueSet) -> bool:
    return s.unenforced_reason is None and s.condition is None and not s.functional


def _usable(s: UniqueSet, model: ModelFacts, lookup: Lookup, row: Row) -> bool:
    """An enforced unique set that applies to the created row at INSERT time."""
    if s.unenforced_reason is not None or s.functional or s.deferred:
        return False
    if s.condition is not None and (
        not s.condition_readable or evaluate(s.condition, row) is not True
    ):
        return False
    if s.source == "primary key":
        fields = [model.fields.get(f) for f in s.fields]
        auto = all(f is not None and f.auto for f in fields)
        return not (auto and not any(f in lookup.create for f in s.fields))
    return True


def _written(
    s: UniqueSet, model: ModelFacts, lookup: Lookup, pinned: set[str], unique_codes: set[str]
) -> dict[str, str] | None:
    """Where the row gets the fields of ``s`` the lookup does not pin; None if one may not
    collide (not written, NULL, random, or the lookup's own value of a unique field)."""
    written: dict[str, str] = {}
    for name in s.fields:
        if name in pinned:
            continue
        facts = model.fields.get(name)
        if name in lookup.create:
            value = lookup.create[name]
            if value.literal is None or _RANDOM.search(value.code) or value.code in unique_codes:
                return None
            written[name] = f"{lookup.create_arg}"
        elif facts is not None and facts.fixed_default and facts.default is not None:
            written[name] = f"its default {facts.default!r}"
        else:
            return None
    return written


def _hiding(target: Target, s: UniqueSet, model: ModelFacts) -> list[str]:
    """The SELECT's conditions outside the lookup whose fields are not all in ``s``."""
    found = [_filter_text(f) for f in target.filters if not _within(f, s, model)]
    if target.related and target.through is not None:
        found.append(f"the {target.manager} relation (only related rows are looked at)")
    return found


def _within(chain_filter: ChainFilter, s: UniqueSet, model: ModelFacts) -> bool:
    args = chain_filter.args
    if args.positional or args.star_args or args.star_kwargs or args.changed or not args.kwargs:
        return False
    for key, _ in args.kwargs:
        names = model.field_for_key(key.partition("__")[0])
        if names is None or not set(names) <= set(s.fields):
            return False
    return True


def _filter_text(chain_filter: ChainFilter) -> str:
    text = chain_filter.implicit or f".{chain_filter.method}({_args_text(chain_filter.args)})"
    return f"{chain_filter.origin}'s {text}" if chain_filter.origin else text


def _from_create(
    call: CallSite,
    target: Target,
    lookup: Lookup,
    s: UniqueSet,
    written: dict[str, str],
    outside: list[str],
    hidden: list[str],
) -> Finding:
    sources = ", ".join(f"{name} from {how}" for name, how in written.items())
    misses = []
    if outside:
        misses.append(f"looks up by {', '.join(outside)}")
    if hidden:
        misses.append(f"looks only at rows of {', '.join(hidden)}")
    names = fields_text(tuple(written))
    return Finding(
        DGC011,
        f"{_call_text(call, target)} writes {sources} on create, but {' and '.join(misses)}: "
        f"an existing row with the same {names} that the get() does not match makes the INSERT "
        f"fail on {s.describe()}, the retry get() misses it too, and the IntegrityError escapes "
        f"(no race needed). Fix: look up by {', '.join(s.fields)}, or catch IntegrityError.",
    )


def _from_filters(call: CallSite, target: Target, s: UniqueSet, hidden: list[str]) -> Finding:
    return Finding(
        DGC011,
        f"{_call_text(call, target)} looks only at rows of {', '.join(hidden)}, but "
        f"{s.describe()} holds for the rows it hides as well: a hidden row with the same "
        f"{', '.join(s.fields)} makes the INSERT fail, the narrowed retry get() misses it, and "
        f"the IntegrityError escapes (no race needed). Fix: look up by {', '.join(s.fields)} "
        "without the narrowing and check the rest afterwards, or catch IntegrityError.",
    )
