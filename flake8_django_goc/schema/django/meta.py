"""How a model's ``Meta`` is inherited, read from the live class, for ``fix-models``' edits.

The keys are ``fix_models.MetaHints``' fields: a model without a Meta of its own uses its
abstract parent's (``class_base``, ``class_spread``); a declared Meta without ``constraints`` may
inherit them from its own bases (``meta_base``, ``meta_spread``).
"""

from __future__ import annotations

from typing import Any


def meta_inheritance(label: str) -> dict[str, Any]:
    """Read Meta inheritance from the model class (fix-models runs with Django set up)."""
    try:
        from django.apps import apps

        model = apps.get_model(label)
    except Exception:  # Django not set up (unit tests of the editor): assume none
        return {}
    hints: dict[str, Any] = {}
    # Django pops a model's own Meta; what getattr finds is the abstract parent's a Meta-less
    # class statement would get.
    inherited = getattr(model, "Meta", None)
    if inherited is not None:
        for index, base in enumerate(model.__bases__):
            if getattr(base, "Meta", None) is inherited:
                hints["class_base"] = index
                hints["class_spread"] = bool(getattr(inherited, "constraints", ()))
                break
    meta = getattr(model._meta, "meta", None)  # the Meta Django used, own or inherited
    if meta is not None and "constraints" not in vars(meta):
        for index, base in enumerate(meta.__bases__):
            if getattr(base, "constraints", ()):
                hints["meta_base"], hints["meta_spread"] = index, True
                break
    return hints
