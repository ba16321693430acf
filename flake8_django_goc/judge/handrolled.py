"""Judge hand-written get-or-create pairs (DGC008/DGC009) and Python-only uniqueness checks
(DGC010). Pure: no Django, no libcst.

Both sides of a pair are resolved like a get_or_create() receiver (resolve/receivers.py), in the
scope of the call that inserts. The coverage verdict is the one get_or_create() gets
(judge/verdicts.py ``coverage``), for the fields the create writes with the values the check
looked up.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass

from flake8_django_goc.find.records import (
    CallArgs,
    CallSite,
    Check,
    Handling,
    HandRolled,
    Pair,
    PyCheck,
    Scope,
    Step,
    Validator,
    Value,
)
from flake8_django_goc.judge.locks import serialised
from flake8_django_goc.judge.row import Cell, Row
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
from flake8_django_goc.schema import UNKNOWN, ModelFacts, Schema, UniqueSet
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


def _keys(model: ModelFacts, items: list[tuple[str, Value]], schema: Schema | None = None) -> _Keys:
    plain: dict[str, Value] = {}
    iexact: dict[str, Value] = {}
    other: list[str] = []
    for key, value in items:
        field, _, rest = key.partition("__")
        names = model.field_for_key(field)
        if names is None or len(names) != 1:
            other.append(key)
        elif not rest or rest == "exact" or _pk_of_relation(model, names[0], rest, schema):
            # `fk__pk=v` / `fk__id=v` compare the foreign key's own column (no join): `fk_id = v`.
            plain[names[0]] = value
        elif rest == "iexact":
            iexact[names[0]] = value
        elif rest == "isnull" and value.is_literal and value.literal is True:
            plain[names[0]] = Value("None", None)  # `f__isnull=True` is `f IS NULL`, as `f=None`
        else:
            other.append(key)
    return _Keys(plain, iexact, tuple(other))


def _pk_of_relation(model: ModelFacts, name: str, rest: str, schema: Schema | None) -> bool:
    """Whether ``name__<rest>`` names a unique column of the related row: one-to-one with the
    foreign key's own value, so uniqueness over it is uniqueness over the foreign key."""
    facts = model.fields.get(name)
    if facts is None or not facts.is_relation or facts.related_label is None:
        return False
    if rest == "pk":
        return True
    if rest != "id":
        return False
    related = schema.models.get(facts.related_label) if schema is not None else None
    return related is not None and related.pk == ("id",)


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


def _written(target: Target, call: CallSite, opaque_ok: bool = False) -> dict[str, Value] | None:
    if call.args.star_kwargs and not opaque_ok:
        return None
    keys = _keys(target.model, list(call.args.kwargs))
    written = dict(keys.plain)
    written.update((f, Value(target.owner or "<owner>")) for f in target.adds)
    return written


# ------------------------------------------------------------------------------- DGC008/DGC009


def _one_to_one(
    check: Check, model: ModelFacts, scope: Scope, target_of: TargetOf
) -> list[tuple[str, Value]] | None:
    """``owner.profile`` read in a try that catches ``Profile.DoesNotExist``: the lookup is
    ``<relation>=owner`` for the one unique relation of Profile to the owner's model. When the
    owner's model is not known (``user = user or User()``), the accessor must be the default
    name of the reverse accessor (``profile`` for Profile) of Profile's only unique relation."""
    assert check.owner is not None
    chain = (*check.owner, Step("attr", "__class__"), Step("attr", "_default_manager"))
    resolved = target_of("get", chain, CallArgs(), scope)
    owned = resolved.target if resolved is not None else None
    relations = [
        f
        for f in model.fields.values()
        if f.is_relation and f.unique and not f.primary_key and f.related_label is not None
    ]
    named = [f for f in relations if f.reverse_accessor == check.accessor]
    if owned is not None:
        owner = owned.model
        labels = {owner.label, _label(owner), *owner.parents}
        relations = [f for f in named or relations if f.related_label in labels]
    elif named:
        relations = named  # the accessor the code reads is this relation's
    elif check.accessor != model.object_name.lower():
        return None
    if len(relations) != 1:
        return None
    return [(relations[0].name, Value(check.owner_code))]


def _add_own_attributes(
    written: dict[str, Value],
    items: list[tuple[str, Value]],
    model: ModelFacts,
    instance: str,
    changed: tuple[str, ...],
) -> None:
    """A looked-up ``f=x.f`` is what ``x.save()`` writes for f, whatever x was made with,
    unless the code set x.f after the check."""
    for key, value in items:
        field, _, lookup = key.partition("__")
        names = model.field_for_key(field) if lookup in ("", "exact", "iexact") else None
        if names is None or len(names) != 1:
            continue
        facts = model.fields.get(names[0])
        attributes = {names[0], key}
        if facts is not None:
            attributes.add(facts.attname)
        if model.pk == names:
            attributes.add("pk")
        if attributes & set(changed):
            continue
        if _norm(value.code) in {f"{instance}.{a}" for a in attributes}:
            written[names[0]] = value


def _copies_the_looked_up(pair: Pair) -> bool:
    instance = pair.instance
    if instance is None or pair.receiver[-2:-1] != (Step("attr", "__class__"),):
        return False
    own = f"{instance}."
    return any(_norm(v.code).startswith(own) for _, v in pair.check.kwargs.kwargs)


def _passes_own_key(target: Target, args: CallArgs) -> bool:
    """Whether a related manager's create() is also given the field the manager writes."""
    keys = {k.partition("__")[0] for k, _ in args.kwargs}
    for name in target.adds:
        facts = target.model.fields.get(name)
        if name in keys or (facts is not None and facts.attname in keys):
            return True
    return False


def _agreed(findings: list[Finding | None], each: bool) -> Finding | None:
    """One verdict over candidate targets: any finding where each candidate is a real path (a
    manager class shared by models), else the verdict all of them agree on."""
    if each:
        return next((f for f in findings if f is not None), None)
    codes = {f.code if f is not None else None for f in findings}
    return findings[0] if len(codes) == 1 else None


def _judge_pair(pair: Pair, scope: Scope, target_of: TargetOf, schema: Schema) -> Finding | None:
    check = pair.check
    created = target_of(pair.create_method, pair.receiver, pair.written, scope)
    if not check.receiver:
        # `hasattr(user, "profile")` names no model: the insert's, if it has that accessor.
        checked = created
    else:
        checked = target_of(check.method, check.receiver, check.kwargs, scope)
    if created is None and checked is not None and _copies_the_looked_up(pair):
        # `x.pk = None; x.save()` of an x whose type is not known, after a check that looked
        # up x's own attributes (`get(name=x.name)`): a copy of a row of the checked model.
        created = dataclasses.replace(
            checked, call=dataclasses.replace(checked.call, args=pair.written)
        )
    if checked is None or created is None:
        return None
    combos = [
        (c, r)
        for c in checked.targets
        for r in created.targets
        if _label(c.model) == _label(r.model)
        # one owner expression is one object: the same model's related manager on both sides
        and not (c.owner and c.owner == r.owner and c.via and r.via and c.via != r.via)
    ]
    if len(combos) > 1:
        # `patient.enrollments.create(program=p)`: not the program's related manager, which
        # would write the program itself.
        combos = [c for c in combos if not _passes_own_key(c[1], created.call.args)] or combos
    if not combos:
        return None  # a check on one model, a create of another
    findings = [
        _judge_pair_on(pair, scope, (c, checked.call), (r, created.call), target_of, schema)
        for c, r in combos
    ]
    return _agreed(findings, checked.each or created.each)


def _judge_pair_on(
    pair: Pair,
    scope: Scope,
    checked: tuple[Target, CallSite],
    created: tuple[Target, CallSite],
    target_of: TargetOf,
    schema: Schema,
) -> Finding | None:
    check = pair.check
    (check_target, check_call), (create_target, create_call) = checked, created
    model = create_target.model  # the check's too: _judge_pair pairs targets of one model
    if check.owner is not None:
        items = _one_to_one(check, check_target.model, scope, target_of)
    else:
        items = _looked_up(check_target, check_call)
    # `create(user=u, **extra)`: Python refuses a second `user`, so the keywords written are
    # certain; what `extra` adds is not (it may fill another unique set, the primary key
    # included, or a condition's field): only a covered verdict stands.
    opaque = bool(create_call.args.star_kwargs)
    written = _written(create_target, create_call, opaque_ok=True)
    if items is None or written is None:
        return None
    if pair.instance is not None:
        _add_own_attributes(written, items, model, pair.instance, pair.changed)
    keys = _keys(model, items, schema)
    head = _create_text(pair, create_target)
    where = f"the check on line {check.line} ({check.text})"
    looked = {**keys.iexact, **keys.plain}
    for f, v in looked.items():
        if f in written and not _same(written[f], v):
            if not _same_row(model, f, v, written[f], scope):
                return None  # the create writes another row than the one looked for
            written[f] = v
        elif f not in written and _default_is(model, f, v) and not opaque:
            written[f] = v  # `filter(active=True)` then a create that leaves active's default
    if not looked or any(f not in written for f in looked):
        # No get-or-create of the looked-up row as such; still two rows when nothing can stop
        # the second insert.
        if opaque:
            return None  # the hidden values may fill a unique set, the primary key included
        return _never_stopped(pair, head, where, model, keys, items, written)
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
    if keys.iexact and (found.best is None or found.best.code in (DGC002, DGC004)):
        # `name__iexact=x` then create(name=x) under a case-sensitive unique name: two requests
        # with the same x collide (the IntegrityError of DGC009); case variants do not.
        exact = dataclasses.replace(lookup, plain={**keys.iexact, **keys.plain}, iexact={})
        as_exact = coverage(model, exact)
        if as_exact.best is not None and as_exact.best.code not in (DGC002, DGC004):
            found = as_exact
    fields = tuple(keys.plain) or tuple(keys.iexact)
    if found.best is None or found.best.code in (DGC002, DGC004):
        if keys.other and _narrower_check_covered(model, keys, schema):
            return None  # what the other keys select may be what a constraint covers
        if opaque:
            return None  # the hidden values may fill a unique set (`id: 1`): DGC009, not DGC008
        collides = _collides_anyway(model, written, looked)
        if collides is not None:  # both INSERTs fill another unique set alike: no twin
            return _collision(pair, head, where, collides)
        return _uncovered_pair(pair, head, where, model, fields, found)
    handling = pair.handling
    handled = _handled(handling)
    if found.best.code == DGC003 and not (handled and not handling.enclosing_atomic):
        # Outside a transaction of this function the deferred check runs at the COMMIT that
        # ends the insert's own statement or atomic() block, inside the handler's try.
        return Finding(
            DGC009,
            f"{head} inserts the row {where} did not find; {found.best.unique_set.describe()} "
            "stops a concurrent duplicate only at COMMIT (Deferrable.DEFERRED), where the "
            "IntegrityError escapes every handler: a 500. Fix: make it Deferrable.IMMEDIATE and "
            f"use {_suggest(pair)}.",
        )
    if opaque and found.best.unique_set.condition is not None:
        return None  # the hidden values may fall outside the condition
    describe = found.best.unique_set.describe()
    if not handled:
        fix = (
            f"use {_suggest(pair)}, or wrap the insert in `with transaction.atomic():` inside "
            "`try: ... except IntegrityError:` and re-read the row"
        )
        if pair.refuses:
            fix = (
                "wrap the insert in `with transaction.atomic():` inside `try: ... except "
                "IntegrityError:` and raise there what the check raises"
            )
        return Finding(
            DGC009,
            f"{head} inserts the row {where} did not find; {describe} stops a concurrent "
            "duplicate, so the request that loses the race gets an IntegrityError nothing here "
            f"catches: a 500. Fix: {fix}.",
        )
    if handling.outer_atomic and not handling.own_atomic:
        return Finding(
            DGC009,
            f"{head} is caught by the except on line {handling.handler_line}, but runs inside "
            "the transaction.atomic() of this function without a savepoint of its own: the "
            "IntegrityError breaks the whole transaction (PostgreSQL: 'current transaction is "
            "aborted'), so the handler's next query raises TransactionManagementError. Fix: "
            "wrap the insert in its own "
            f"`with transaction.atomic():` inside the try, or use {_suggest(pair)}.",
        )
    return None


def _handled(handling: Handling) -> bool:
    """An IntegrityError handler around the insert that does more than re-raise."""
    return handling.handler_line is not None and not handling.handler_reraises


def _default_is(model: ModelFacts, field: str, looked: Value) -> bool:
    """Whether a created row that does not write ``field`` gets the looked-up literal."""
    facts = model.fields.get(field)
    return (
        facts is not None
        and facts.fixed_default
        and looked.is_literal
        and type(facts.default) is type(looked.literal)
        and facts.default == looked.literal
    )


def _same_row(model: ModelFacts, field: str, looked: Value, written: Value, scope: Scope) -> bool:
    """Two spellings of one foreign key value: ``user`` and ``user.pk`` / ``user.id``, or
    ``group_id`` and ``group`` bound by ``group = Group.objects.get(id=group_id)`` (the
    instance fetched by that primary key)."""
    facts = model.fields.get(field)
    if facts is None or not facts.is_relation:
        return False
    for a, b in ((looked, written), (written, looked)):
        code = _norm(a.code)
        if _norm(b.code) in (f"{code}.pk", f"{code}.id"):
            return True
        fetched = _fetched_by_pk(code, scope)
        if fetched is not None and _norm(fetched) == _norm(b.code):
            return True
    return False


def _fetched_by_pk(name: str, scope: Scope) -> str | None:
    """The primary key value ``name`` was fetched by: ``name = M.objects.get(pk=v)`` -> v."""
    if not name.isidentifier():
        return None
    binding = scope.frames[-1].lookup(name, scope.order) if scope.frames else None
    if binding is None or binding.value is None or binding.kind != "assign":
        return None
    value = binding.value
    if len(value) < 3 or value[-2].kind != "attr" or value[-2].name not in ("get", "aget"):
        return None
    args = value[-1].args
    if value[-1].kind != "call" or args is None or args.positional or len(args.kwargs) != 1:
        return None
    key, found = args.kwargs[0]
    return found.code if key in ("pk", "id") else None


def _narrower_check_covered(model: ModelFacts, keys: _Keys, schema: Schema) -> bool:
    """Whether an enforced unique set lies within the fields the check selects by, counting the
    fields its other keys (``group__name=...``, ``day__gte=...``) go through."""
    fields = set(keys.plain) | set(keys.iexact)
    for key in keys.other:
        names = model.field_for_key(key.partition("__")[0])
        if names is not None:
            fields.update(names)
    return any(not u.unenforced_reason and set(u.fields) <= fields for u in model.unique_sets)


def _fresh(model: ModelFacts, name: str, unique_set: UniqueSet) -> bool:
    """Whether two INSERTs that do not write the field never collide on it: an AutoField, a
    primary key with a callable default (``uuid4``), or NULL where NULLs are distinct. (Another
    callable default may well return the same value twice: ``get_current_domain``.)"""
    facts = model.fields.get(name)
    if facts is None:
        return False
    if facts.auto or (facts.primary_key and facts.default is UNKNOWN):
        return True
    return facts.null and facts.default is None and unique_set.nulls_distinct is not False


def _may_collide(model: ModelFacts, written: dict[str, Value]) -> bool:
    """Whether some enforced unique set could reject the second of two such INSERTs: every
    field of it written, or filled with the same value (a constant default, an empty string)."""
    for unique_set in model.unique_sets:
        if unique_set.unenforced_reason:
            continue
        if all(f in written or not _fresh(model, f, unique_set) for f in unique_set.fields):
            return True
    return False


def _collides_anyway(
    model: ModelFacts, written: dict[str, Value], looked: dict[str, Value]
) -> UniqueSet | None:
    """The enforced unconditional unique set on which two INSERTs of the looked-up row surely
    collide although the check did not cover it: each of its fields looked up, written as a
    literal (the same in every request), or given a literal default — ``create(hits=3,
    name="x")`` under a unique ``name``. A value computed from the request may differ between
    two requests for the same looked-up row, which then both insert."""

    def same_in_every_request(f: str) -> bool:
        value = looked.get(f) or written.get(f)
        if value is not None:
            null = value.is_literal and value.literal is None  # NULLs never collide
            return not null and (f in looked or value.is_literal)
        facts = model.fields.get(f)
        return facts is not None and facts.fixed_default and facts.default is not None

    return next(
        (
            unique_set
            for unique_set in model.unique_sets
            if not unique_set.unenforced_reason
            and unique_set.condition is None
            and all(same_in_every_request(f) for f in unique_set.fields)
        ),
        None,
    )


def _collision(pair: Pair, head: str, where: str, unique_set: UniqueSet) -> Finding | None:
    """DGC009 for a race the check does not cover but another unique set ends in an
    IntegrityError: every such INSERT writes the same values into it."""
    if _handled(pair.handling):
        return None
    return Finding(
        DGC009,
        f"{head} inserts a row after {where} found none; every such insert writes the same "
        f"values into {unique_set.describe()}, so of two concurrent requests that both miss, "
        "the one that loses the race gets an IntegrityError nothing here catches: a 500. Fix: "
        "wrap the insert in `with transaction.atomic():` inside `try: ... except "
        "IntegrityError:` and re-read the row, or look up by that unique set.",
    )


def _never_stopped(
    pair: Pair,
    head: str,
    where: str,
    model: ModelFacts,
    keys: _Keys,
    items: list[tuple[str, Value]],
    written: dict[str, Value],
) -> Finding | None:
    """DGC008 for a create that writes only part of what the check looked up (the rest is
    derived, in ``save()``), or after a check with no lookup at all (``if not M.objects.exists()``:
    a single row): sound only when no unique set of the model could reject a second INSERT."""
    looked = {**keys.iexact, **keys.plain}
    if items and not any(f in written for f in looked):
        return None  # a check on other fields than the create writes: no get-or-create
    if keys.other:
        return None
    collides = _collides_anyway(model, written, looked)
    if collides is not None:
        return _collision(pair, head, where, collides)
    if _may_collide(model, written):
        return None
    label = _label(model)
    fields = tuple(looked)
    fix = constraint_fix(model, fields) if fields else None
    what = f"covers {fields_text(fields)}" if fields else "keeps the table to one row"
    remedy = f"add {fix.code()} and " if fix is not None else "add a unique constraint and "
    return Finding(
        DGC008,
        f"{head} inserts a row after {where} found none, but no unique constraint on {label} "
        f"{what}, and every unique set it has gets a new value on each INSERT: two concurrent "
        "requests can both miss and both insert, leaving duplicate rows. "
        f"Fix: {remedy}use {_suggest(pair)}.",
        fix,
    )


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
    parts.append(f"Fix: {remedy}use {_suggest(pair)}.")
    return Finding(DGC008, " ".join(parts), fix)


def _suggest(pair: Pair) -> str:
    if pair.refuses:
        return (
            "an insert that refuses the duplicate itself: `with transaction.atomic():` around "
            "it inside `try: ... except IntegrityError:`, raising there what the check raises"
        )
    if pair.check.method in UPDATE_METHODS:
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
    findings = [
        _judge_pycheck_on(c, target, checked.call, scope, target_of, schema)
        for target in checked.targets
    ]
    return _agreed(findings, checked.each)


def _judge_pycheck_on(
    c: Check, target: Target, call: CallSite, scope: Scope, target_of: TargetOf, schema: Schema
) -> Finding | None:
    items = _looked_up(target, call)
    if items == [] and not target.filters and not target.related:
        return _singleton(c, target, scope, target_of)
    if items is None or not _asks_for_a_duplicate(target, call, schema):
        return None
    keys = _keys(target.model, items, schema)
    if keys.other or not (keys.plain or keys.iexact):
        # A range, a join, a membership (`__gte`, `role__name`, `__in`): a rule about a set of
        # rows, which no unique constraint on the row's columns states.
        return None
    what = f"{c.text} followed by raise"
    return _python_only(target.model, keys.plain, what, keys.iexact)


def _singleton(check: Check, target: Target, scope: Scope, target_of: TargetOf) -> Finding | None:
    """``if M.objects.exists(): raise`` in a method of M itself (a ``save()``, a before-save
    hook): M is meant to hold one row, which only Python enforces. Elsewhere a check of the
    whole table is a precondition ("no rows yet"), no uniqueness."""
    chain = (Step("name", "self"), Step("attr", "__class__"), Step("attr", "_default_manager"))
    resolved = target_of("get", chain, CallArgs(), scope)
    own = resolved.target if resolved is not None else None
    model = target.model
    if own is None or _label(own.model) != _label(model):
        return None
    for unique_set in model.unique_sets:
        if unique_set.unenforced_reason:
            continue
        defaults = [
            model.fields[f].default if f in model.fields else None for f in unique_set.fields
        ]
        if all(d is not None and d is not UNKNOWN for d in defaults):
            return None  # a unique set every row fills alike (a constant default): enforced
    return Finding(
        DGC010,
        f"{check.text} followed by raise checks in Python that {_label(model)} holds a single "
        "row, but no unique constraint enforces it: two concurrent saves both find the table "
        "empty and both insert. Fix: add a unique constraint every row fills with the same "
        "value (for example a field with one allowed value and unique=True), or create the row "
        "once with get_or_create().",
    )


def _asks_for_a_duplicate(target: Target, call: CallSite, schema: Schema) -> bool:
    """Whether an ``exists()`` check asks "is there another row with these values", the only
    question a unique constraint answers: an equality on at least one value the code names
    (not only the related manager's owner, which asks "has this parent any children", a guard
    before a delete or a consistency test), and no exclude() other than of the row itself
    (``.exclude(pk=self.pk)``). A ``Q`` given to filter() only narrows a duplicate check
    (``remote_url=u`` with overlapping contents): it stays one."""
    named = list(call.args.kwargs)
    of_self = target.owner == "self"  # self.children.exists()
    for chain_filter in target.filters:
        if chain_filter.origin:
            continue
        if chain_filter.implicit is not None and any(
            _norm(v.code) == "self" for _, v in chain_filter.args.kwargs
        ):
            of_self = True
        if chain_filter.method == "exclude":
            if (
                chain_filter.args.positional
                or chain_filter.args.star_kwargs
                or not all(_names_the_pk(target.model, k) for k, _ in chain_filter.args.kwargs)
            ):
                return False
        elif chain_filter.method == "filter":
            if any(_points_at_self(v) for v in chain_filter.args.positional):
                return False  # `filter(Q(version_added=self) | Q(version_removed=self))`
            if chain_filter.implicit is None:
                named.extend(chain_filter.args.kwargs)
        else:
            return False
    # `filter(parent=self)`: the rows that point at the instance being checked, its children,
    # also in a state (`self.versions.filter(complete=False)`: a version still in flight).
    # `filter(parent__isnull=True)` / `filter(parent=None)`: rows without a parent, no duplicate.
    of_self = of_self or any(_norm(v.code) == "self" for _, v in named)
    return any(
        _norm(v.code) not in ("self", "None")
        and not k.endswith("__isnull")
        and not (of_self and v.is_literal and isinstance(v.literal, bool))
        for k, v in named
    )


def _points_at_self(value: Value) -> bool:
    """A ``Q`` whose every comparison is with ``self``: the rows related to the instance whose
    method this is, as ``filter(parent=self)``."""
    compared = re.findall(r"=\s*([\w.]+)", value.code)
    return bool(compared) and value.code.lstrip("(~").startswith("Q(") and set(compared) == {"self"}


def _names_the_pk(model: ModelFacts, key: str) -> bool:
    field, _, rest = key.partition("__")
    return rest in ("", "exact", "in") and model.field_for_key(field) == model.pk


def _judge_validator(
    validator: Validator, scope: Scope, target_of: TargetOf, schema: Schema
) -> Finding | None:
    checked = target_of("all", validator.receiver, CallArgs(), scope)
    if checked is None:
        return None
    findings = [_judge_validator_on(validator, target) for target in checked.targets]
    return _agreed(findings, checked.each)


def _judge_validator_on(validator: Validator, target: Target) -> Finding | None:
    plain: dict[str, Value] = {}
    iexact: dict[str, Value] = {}
    for key in validator.fields:
        name, _, lookup = key.partition("__")
        names = target.model.field_for_key(name)
        if names is None or len(names) != 1:
            return None  # a serializer field that is no model column
        (iexact if lookup == "iexact" else plain)[names[0]] = Value(f"<{name}>")
    return _python_only(target.model, plain, f"{validator.kind}(queryset=...)", iexact)


def _python_only(
    model: ModelFacts, plain: dict[str, Value], what: str, iexact: dict[str, Value] | None = None
) -> Finding | None:
    iexact = iexact or {}
    # A case-insensitive check is enforced by a constraint on Lower()/Upper() of the field: the
    # same value "written" lets coverage() test exactly that. A case-sensitive constraint lets
    # "SAVE10" and "save10" both pass the check and both be saved: it does not enforce it.
    lookup = Lookup(plain, (), dict(iexact), None, False, (), dict(iexact))
    # The row being saved is not known beyond the values checked: a partial constraint
    # enforces the rule only when the check itself selects rows that meet its condition
    # (`filter(user=u, active=True)`), not by a field's default the save may override.
    cells = {f: Cell(v.literal, v.code, v.not_null) for f, v in lookup.plain.items()}
    found = coverage(model, lookup, Row(model, cells, opaque_defaults=True))
    if found.best is not None and found.best.code in (None, DGC003):
        return None  # the database enforces it; the check only gives a nicer message
    # `is_active=False` / `is_default=True` select the rows the rule is about: a condition of
    # the constraint (a partial one), not a column of it.
    flags = tuple(
        (f, v.literal) for f, v in plain.items() if v.is_literal and isinstance(v.literal, bool)
    )
    keyed = [f for f in plain if f not in dict(flags)]
    folded = tuple(f for f in iexact if f not in plain)
    fields = (*keyed, *folded) or tuple(f for f, _ in flags)
    fix = constraint_fix(model, fields, condition=flags)
    remedy = f"add {fix.code()}" if fix is not None else "add a unique constraint"
    if folded and fix is not None:
        remedy = f"add {_folded_constraint(fix, folded)}"
        fix = None  # fix-models writes no expressions: the constraint is added by hand
    extra = "".join(f" {s.describe()} would, but {s.unenforced_reason}." for s in found.unenforced)
    where = " and ".join(f"{f}={v!r}" for f, v in flags)
    if flags and fields == tuple(f for f, _ in flags):
        rule = f"at most one {_label(model)} has {where}"
    elif flags:
        rule = f"no other {_label(model)} with {where} has the same {fields_text(fields)}"
    else:
        rule = f"no other {_label(model)} has the same {fields_text(fields)}"
    return Finding(
        DGC010,
        f"{what} checks in Python that {rule}, but no unique constraint enforces it: two "
        "concurrent requests "
        f"both pass the check and both save.{extra} Fix: {remedy} (keep the check for its "
        "friendlier message).",
        fix,
    )


def _folded_constraint(fix: ConstraintFix, folded: tuple[str, ...]) -> str:
    """The functional UniqueConstraint a case-insensitive check asks for: ``Lower("code")``
    for each folded field, the others by name."""
    parts = [f'Lower("{f}")' if f in folded else f'"{f}"' for f in fix.fields]
    name = fix.name.removesuffix("_uniq") + "_ci_uniq"
    condition = f", condition={fix.condition_code()}" if fix.condition else ""
    return (
        f'models.UniqueConstraint({", ".join(parts)}{condition}, name="{name}") (Lower from '
        "django.db.models.functions)"
    )
