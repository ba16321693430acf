"""DGC102: a get_or_create() the project reimplements on the manager or queryset is not judged.

The Schema records, per manager, the family methods its project classes define with logic of
their own (``ManagerFacts.overrides``, read at setup); a call through one is the project's API.
"""

from __future__ import annotations

import dataclasses

from flake8_django_goc.find.records import CallSite, Value
from flake8_django_goc.judge.override import arguments_through
from flake8_django_goc.judge.verdicts import call_lookup, coverage
from flake8_django_goc.resolve.target import Target
from flake8_django_goc.rules import DGC102, Finding, dgc102
from flake8_django_goc.schema import ManagerFacts
from flake8_django_goc.schema.orm import METHODS
from flake8_django_goc.text import shorten

# Django's update_or_create() and the async twins go through get_or_create().
_THROUGH = {
    "get_or_create": METHODS,
    "update_or_create": frozenset({"update_or_create", "aupdate_or_create"}),
    "aget_or_create": frozenset({"aget_or_create"}),
    "aupdate_or_create": frozenset({"aupdate_or_create"}),
}


def reimplemented(call: CallSite, target: Target) -> Finding | None:
    if target.django_method:
        return None  # super().get_or_create(): Django's own, judged as usual
    manager = _manager(target)
    for own in manager.overrides if manager is not None else ():
        if call.method in _THROUGH.get(own, ()):
            receiver = shorten(call.receiver_code)
            return Finding(DGC102, dgc102.message(f"{receiver}.{call.method}()", own))
    if manager is not None and manager.translated:
        return _translated(call, target, manager)
    return None


def passed_through(call: CallSite, target: Target) -> CallSite | None:
    """The call as the project's own get_or_create() hands it to Django's, when its source
    says so for this call's keys (judge/override.py); None when not known."""
    if target.django_method:
        return None
    manager = _manager(target)
    if manager is None:
        return None
    sources = dict(manager.override_sources)
    for own in manager.overrides:
        if call.method not in _THROUGH.get(own, ()):
            continue
        source = sources.get(own)
        args = arguments_through(source, own, call) if source is not None else None
        return dataclasses.replace(call, args=args) if args is not None else None
    return None


def _manager(target: Target) -> ManagerFacts | None:
    model = target.model
    name = target.manager
    if target.related or name == "_default_manager":
        name = model.default_manager  # a related manager is built from the default manager
    return next((m for m in model.managers if m.name == name), None)


def _translated(call: CallSite, target: Target, manager: ManagerFacts) -> Finding | None:
    """A lookup key that names no field but that the queryset's own get()/filter() takes out
    (``prefix=`` for network and prefix_length): judged as usual when the lookup is covered
    without it, or stays uncovered with every field its translation names; otherwise only the
    project's translation decides, and the call is not judged (DGC102)."""
    model = target.model
    by_key = {key: (where, writes) for key, where, writes in manager.translated}
    hits = []
    for key, _ in call.args.kwargs:
        base = key.split("__")[0]
        skip = key in ("defaults", "create_defaults") or model.field_for_key(base) is not None
        if not skip and base in by_key:
            hits.append((key, *by_key[base]))
    if not hits:
        return None
    lookup = call_lookup(call, target)
    if coverage(model, lookup).protected:
        return None
    plain = dict(lookup.plain)
    unknown = None
    for key, where, writes in hits:
        if writes is None:
            unknown = (key, where)
            break
        for written in writes:
            for name in model.field_for_key(written) or ():
                plain.setdefault(name, Value(f"<{key}>", not_null=True))
    keys = {k for k, _, _ in hits}
    if unknown is None:
        dropped = tuple(k for k in lookup.filter_only if k not in keys)
        translated = dataclasses.replace(lookup, plain=plain, filter_only=dropped)
        if not coverage(model, translated).protected:
            return None  # uncovered whatever the translation writes: judged as usual
    key, where, writes = (*unknown, None) if unknown else hits[0]
    receiver = shorten(call.receiver_code)
    text = dgc102.translated_message(f"{receiver}.{call.method}()", key, where, writes)
    return Finding(DGC102, text)
