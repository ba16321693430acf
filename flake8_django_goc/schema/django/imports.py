"""The import map: the dotted paths each model class is importable under; files; constants."""

from __future__ import annotations

import os
import sys
from typing import Any

from flake8_django_goc.schema.django.models import PRIMITIVES, label_of


def import_paths(
    model_classes: list[Any],
) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """Dotted paths each model class can be imported under, each module's file, and constants."""
    from django.db.models import Choices

    labels = {m: label_of(m) for m in model_classes}
    by_path = {f"{m.__module__}.{m.__qualname__}": label for m, label in labels.items()}
    module_files: dict[str, str] = {}
    constants: dict[str, Any] = {}
    for model in labels:
        _class_constants(f"{model.__module__}.{model.__qualname__}", model, constants, Choices)
    for name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        file = namespace.get("__file__")
        if isinstance(file, str) and file.endswith(".py"):
            module_files[name] = os.path.realpath(file)
        for attr, value in list(namespace.items()):
            if not isinstance(value, type):
                continue
            if value in labels:
                by_path.setdefault(f"{name}.{attr}", labels[value])
            elif issubclass(value, Choices) and value is not Choices:
                _choices_members(f"{name}.{attr}", value, constants)
    return by_path, module_files, constants


def _class_constants(path: str, cls: type, out: dict[str, Any], choices: type) -> None:
    """Literal attributes a model class defines (or inherits from abstract bases)."""
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("django."):
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("__"):
                continue
            if isinstance(value, PRIMITIVES) and not isinstance(value, type(None)):
                out[f"{path}.{attr}"] = value
            elif isinstance(value, type) and issubclass(value, choices):
                _choices_members(f"{path}.{attr}", value, out)


def _choices_members(path: str, choices: Any, out: dict[str, Any]) -> None:
    for member in choices:
        if isinstance(member.value, PRIMITIVES):
            out[f"{path}.{member.name}"] = member.value
