"""DGC012: bulk_create() conflict handling that the model's unique constraints cannot honour.

- ``update_conflicts=True``: PostgreSQL and SQLite need ``unique_fields`` to be exactly the columns
  of a unique index (``ON CONFLICT (cols) DO UPDATE``); anything else fails on every call. Django
  refuses ``unique_fields`` on MySQL/MariaDB (``ON DUPLICATE KEY UPDATE`` takes no target).
- ``ignore_conflicts=True`` on objects built with the model's constructor, without a primary key,
  when the auto primary key is the model's only uniqueness: nothing can conflict, so the
  duplicates the call was meant to skip are inserted.
"""

from __future__ import annotations

from collections.abc import Callable

from flake8_django_goc.find.records import CallSite, Step
from flake8_django_goc.judge.verdicts import constraint_fix
from flake8_django_goc.resolve.target import Target
from flake8_django_goc.rules import DGC012, Finding, fields_text
from flake8_django_goc.schema import ModelFacts, UniqueSet

Verdict = Callable[[CallSite, Target], list[Finding]]

ON_CONFLICT_ERRORS = {
    "PostgreSQL": "ProgrammingError: there is no unique or exclusion constraint matching the "
    "ON CONFLICT specification",
    "SQLite": "OperationalError: ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE "
    "constraint",
}

# Django's own message (QuerySet._check_bulk_create_options) for unique_fields on MySQL/MariaDB.
MYSQL_UNIQUE_FIELDS = (
    "This database backend does not support updating conflicts with specifying unique fields "
    "that can trigger the upsert."
)


def judge_bulk(
    call: CallSite, target: Target, model_of: Callable[[tuple[Step, ...]], ModelFacts | None]
) -> list[Finding]:
    model = target.model
    if model.parents or not model.managed:
        # Django refuses multi-table children; an unmanaged table's indexes are not known.
        return []
    args = call.args
    update, ignore = args.get("update_conflicts"), args.get("ignore_conflicts")
    if update is not None and update.literal is True:
        found = _update_conflicts(call, target)
        return [found] if found is not None else []
    if ignore is not None and ignore.literal is True and call.objects is not None:
        found = _ignore_conflicts(call, target, model_of)
        return [found] if found is not None else []
    return []


def _head(call: CallSite, target: Target, option: str) -> str:
    receiver = call.receiver_code
    if len(receiver) > 40 or "\n" in receiver:
        receiver = target.display
    return f"{receiver}.{call.method}(..., {option}=True)"


def _update_conflicts(call: CallSite, target: Target) -> Finding | None:
    model = target.model
    given = call.args.get("unique_fields")
    if given is None or not isinstance(given.literal, tuple) or not given.literal:
        return None  # not literal names (or none: Django's own ValueError says so)
    if not all(isinstance(name, str) for name in given.literal):
        return None
    names: list[str] = []
    for key in given.literal:
        fields = model.field_for_key(key)
        if fields is None:
            return None  # Django raises FieldDoesNotExist: its own message is clear
        names.extend(f for f in fields if f not in names)
    wanted = set(names)
    vendor = model.backend.vendor
    head = _head(call, target, "update_conflicts")
    label = model.concrete_label or model.label
    if vendor == "MySQL/MariaDB":
        return Finding(
            DGC012,
            f"{head} passes unique_fields={given.code}, which Django rejects on MySQL/MariaDB "
            f"before any SQL (NotSupportedError: {MYSQL_UNIQUE_FIELDS}): ON DUPLICATE KEY UPDATE "
            "takes no target and fires on any unique index. Fix: drop unique_fields.",
        )
    if vendor not in ON_CONFLICT_ERRORS:
        return None
    exact = [s for s in model.unique_sets if set(s.fields) == wanted and not s.functional]
    if any(_arbiter(s, vendor) for s in exact):
        return None
    why = f"no unique constraint on {label} is exactly {fields_text(names)}"
    for s in exact:
        why += f"; {s.describe()} {_not_arbiter(s, vendor)}"
    usable = [fields_text(s.fields) for s in model.unique_sets if _arbiter(s, vendor)]
    # A constraint on unique_fields is the fix only when they overlap no unique set: a part of
    # one (currency of (currency, day)) means a field was forgotten, not a new rule of the data.
    overlapping = [
        s for s in model.unique_sets if set(s.fields) & wanted and s.source != "primary key"
    ]
    fix = constraint_fix(model, tuple(names)) if not exact and not overlapping else None
    remedies = []
    if usable:
        remedies.append(f"pass the fields of a unique constraint ({', '.join(usable[:3])})")
    if fix is not None:
        remedies.append(f"add {fix.code()}")
    return Finding(
        DGC012,
        f"{head} passes unique_fields={given.code}, but {why}: {vendor} rejects its INSERT ... "
        f"ON CONFLICT on every call ({ON_CONFLICT_ERRORS[vendor]}). "
        f"Fix: {' or '.join(remedies) if remedies else 'name a unique set of the model'}.",
        fix,
    )


def _arbiter(s: UniqueSet, vendor: str) -> bool:
    """Whether ON CONFLICT (fields) can infer ``s``: a plain unique index of those columns."""
    return (
        s.unenforced_reason is None and s.condition is None and not s.functional and not s.deferred
    )


def _not_arbiter(s: UniqueSet, vendor: str) -> str:
    if s.unenforced_reason is not None:
        return f"is not created ({s.unenforced_reason})"
    if s.condition is not None:
        return "is conditional: ON CONFLICT without its WHERE clause cannot use a partial index"
    return f"is deferred, and {vendor} does not use deferrable constraints for ON CONFLICT"


def _ignore_conflicts(
    call: CallSite,
    target: Target,
    model_of: Callable[[tuple[Step, ...]], ModelFacts | None],
) -> Finding | None:
    model = target.model
    objects = call.objects
    if objects is None or len(model.pk) != 1:
        return None
    pk = model.fields.get(model.pk[0])
    if pk is None or not pk.auto:
        return None
    if any(s.unenforced_reason is None for s in model.unique_sets if s.source != "primary key"):
        return None  # another unique set can conflict
    label = model.concrete_label or model.label
    pk_names = {"pk", pk.name, pk.attname, "*"}
    written: list[str] = []
    for steps, keywords in objects.constructors:
        built = model_of(steps)
        if built is None or (built.concrete_label or built.label) != label:
            return None
        if pk_names & set(keywords):
            return None
        written.extend(k for k in keywords if k not in written)
    if pk_names & objects.assigned:
        return None  # a primary key set after construction may conflict
    fields = [f for f in written if model.field_for_key(f)]
    hint = f" (for example on {fields_text(fields)})" if fields else ""
    return Finding(
        DGC012,
        f"{_head(call, target, 'ignore_conflicts')} inserts {model.object_name} objects without "
        f"a primary key, and {label}'s only unique constraint is its auto primary key "
        f"{pk.name}: no row can ever conflict, so the duplicates this is meant to skip are "
        f"inserted. Fix: add a UniqueConstraint on the fields that define a duplicate{hint}.",
    )
