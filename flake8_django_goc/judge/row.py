"""The row ``get_or_create`` would INSERT, and three-valued evaluation of conditions on it.

Pure logic: used for conditional constraints (DGC002) and for filters before the call (DGC006).
``None`` as a result means "cannot tell".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flake8_django_goc.schema import UNKNOWN, Condition, ModelFacts

Truth = bool | None


@dataclass(frozen=True)
class Cell:
    """What we know of one column of the created row."""

    literal: Any = UNKNOWN  # the value, when it is a plain literal
    code: str | None = None  # source text that produced it, when written from the call
    not_null: bool = False  # known not to be NULL (a related manager's FK)


@dataclass(frozen=True)
class Row:
    model: ModelFacts
    cells: dict[str, Cell]
    # Fields whose values we do not know because defaults is not a literal dict.
    opaque_defaults: bool = False

    def cell(self, field: str) -> Cell:
        if field in self.cells:
            return self.cells[field]
        if self.opaque_defaults:
            return Cell()
        facts = self.model.fields.get(field)
        return Cell(facts.default) if facts is not None else Cell()


def evaluate(condition: Condition, row: Row) -> Truth:
    results = [
        evaluate(child, row) if isinstance(child, Condition) else leaf(child[0], child[1], row)
        for child in condition.children
    ]
    value = _all(results) if condition.connector == "AND" else _any(results)
    return _not(value) if condition.negated else value


def evaluate_kwargs(pairs: Iterable[tuple[str, Any]], row: Row, code_of: dict[str, str]) -> Truth:
    """filter(**kwargs) on the created row; code_of maps a key to its argument's source text."""
    return _all(leaf(key, value, row, code_of.get(key)) for key, value in pairs)


def leaf(key: str, value: Any, row: Row, value_code: str | None = None) -> Truth:
    field, _, lookup = key.partition("__")
    lookup = lookup or "exact"
    names = row.model.field_for_key(field)
    if names is None or len(names) != 1 or "__" in lookup:
        return None  # a relation path or a custom lookup: cannot evaluate
    cell = row.cell(names[0])
    if lookup in ("exact", "iexact") and value_code is not None and cell.code == value_code:
        return True  # the same expression is written and filtered on
    if value_code is not None and cell.code and _same_transform(lookup, value_code, cell.code):
        return True  # key__md5=MD5(Value(k)) on a row written with key=k
    if lookup == "isnull" and isinstance(value, bool):
        if cell.not_null:
            return not value
        if cell.literal is UNKNOWN:
            return None
        return (cell.literal is None) is value
    if cell.literal is UNKNOWN or value is UNKNOWN:
        return None
    actual = cell.literal
    try:
        if lookup == "exact":
            return actual == value
        if lookup == "in":
            return actual in value
        if actual is None:
            return False  # comparisons with NULL are never true in SQL
        if lookup == "iexact" and isinstance(actual, str) and isinstance(value, str):
            return actual.lower() == value.lower()
        if lookup in _COMPARE:
            return bool(_COMPARE[lookup](actual, value))
    except TypeError:
        return None
    return None


_CALL = re.compile(r"^(?:\w+\.)*(?P<name>\w+)\((?P<inner>.*)\)$", re.DOTALL)


def _same_transform(lookup: str, value_code: str, written: str) -> bool:
    """A transform lookup compared with the same transform of the written value:
    ``key__md5=MD5(Value(k))`` or ``name__lower=Lower(name)`` when the row gets ``key=k``."""
    if lookup in _COMPARE or lookup in ("exact", "iexact", "in", "isnull"):
        return False
    call = _CALL.match(value_code.strip())
    if call is None or call.group("name").lower() != lookup.lower():
        return False
    inner = call.group("inner").strip()
    wrapped = _CALL.match(inner)
    if wrapped is not None and wrapped.group("name") == "Value":
        inner = wrapped.group("inner").strip()
    return inner == written.strip()


_COMPARE = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _all(values: Iterable[Truth]) -> Truth:
    result: Truth = True
    for v in values:
        if v is False:
            return False
        if v is None:
            result = None
    return result


def _any(values: Iterable[Truth]) -> Truth:
    result: Truth = False
    for v in values:
        if v is True:
            return True
        if v is None:
            result = None
    return result


def _not(value: Truth) -> Truth:
    return None if value is None else not value
