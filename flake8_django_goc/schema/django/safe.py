"""Reading a live project without side effects: type checks that never evaluate lazy objects,
and the warnings that name what could not be read."""

from __future__ import annotations

import enum
from typing import Any

from flake8_django_goc.schema import UNKNOWN

PRIMITIVES = (bool, int, float, str, type(None))


def is_a(value: Any, types: type | tuple[type, ...]) -> bool:
    """``isinstance`` by the real type only: never asks ``value.__class__``, which evaluates a
    lazy object (``admin.site``, ``gettext_lazy()``, ``SimpleLazyObject``)."""
    return issubclass(type(value), types)


def primitive(value: Any) -> Any:
    """``value`` as a plain bool, int, float, str or None (a ``TextChoices`` member becomes its
    value), else UNKNOWN. The Schema holds only these, so that a Schema read back from the
    cache compares exactly as the one just built (JSON keeps no subclass)."""
    if is_a(value, enum.Enum):
        value = value.value
    kind = type(value)
    if kind in PRIMITIVES:
        return value
    for base in PRIMITIVES[1:-1]:  # int, float, str subclasses (bool has none)
        if issubclass(kind, base):
            return base(value) if base is not str else str.__str__(value)
    return UNKNOWN


class Warnings:
    """What could not be read, each named once, in the order found."""

    def __init__(self) -> None:
        self._seen: dict[str, None] = {}

    def add(self, text: str) -> None:
        self._seen.setdefault(text, None)

    def items(self) -> tuple[str, ...]:
        return tuple(self._seen)
