"""Reading a live project without side effects: type checks that never evaluate lazy objects,
and the warnings that name what could not be read."""

from __future__ import annotations

from typing import Any

PRIMITIVES = (bool, int, float, str, type(None))


def is_a(value: Any, types: type | tuple[type, ...]) -> bool:
    """``isinstance`` by the real type only: never asks ``value.__class__``, which evaluates a
    lazy object (``admin.site``, ``gettext_lazy()``, ``SimpleLazyObject``)."""
    return issubclass(type(value), types)


class Warnings:
    """What could not be read, each named once, in the order found."""

    def __init__(self) -> None:
        self._seen: dict[str, None] = {}

    def add(self, text: str) -> None:
        self._seen.setdefault(text, None)

    def items(self) -> tuple[str, ...]:
        return tuple(self._seen)
