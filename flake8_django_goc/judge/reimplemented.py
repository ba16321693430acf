"""DGC102: a get_or_create() the project reimplements on the manager or queryset is not judged.

The Schema records, per manager, the family methods its project classes define with logic of
their own (``ManagerFacts.overrides``, read at setup); a call through one is the project's API.
"""

from __future__ import annotations

from flake8_django_goc.find.records import CallSite
from flake8_django_goc.resolve.target import Target
from flake8_django_goc.rules import DGC102, Finding, dgc102
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
    model = target.model
    name = target.manager
    if target.related or name == "_default_manager":
        name = model.default_manager  # a related manager is built from the default manager
    manager = next((m for m in model.managers if m.name == name), None)
    for own in manager.overrides if manager is not None else ():
        if call.method in _THROUGH.get(own, ()):
            receiver = shorten(call.receiver_code)
            return Finding(DGC102, dgc102.message(f"{receiver}.{call.method}()", own))
    return None
