"""The ast -> record converters shared by the hand-written finder and the scope builder.

Receiver chains become ``Step`` tuples and arguments ``Value``/``CallArgs``, the same vocabulary
the libcst finder produces, so resolve and judge never see a syntax tree.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from flake8_django_goc.find.records import CallArgs, Step, Value
from flake8_django_goc.schema import UNKNOWN

# Local names bound once to a dict literal and never changed: ``**params`` reads as the literal.
Dicts = Mapping[str, ast.Dict]


def steps(node: ast.expr, dicts: Dicts | None = None) -> tuple[Step, ...] | None:
    """The receiver chain of ``node`` in the finder's Step vocabulary; None if not a chain."""
    out: list[Step] = []

    def walk(n: ast.expr) -> bool:
        if isinstance(n, ast.Await):
            return walk(n.value)
        if isinstance(n, ast.Name):
            out.append(Step("name", n.id))
            return True
        if isinstance(n, ast.Attribute):
            if not walk(n.value):
                return False
            out.append(Step("attr", n.attr))
            return True
        if isinstance(n, ast.Call):
            if not walk(n.func):
                return False
            out.append(Step("call", args=call_args(n, dicts)))
            return True
        if isinstance(n, ast.Subscript):
            if not walk(n.value):
                return False
            index = n.slice
            ok = isinstance(index, ast.Constant) and isinstance(index.value, int)
            out.append(Step("index", str(index.value) if ok else "?"))  # type: ignore[attr-defined]
            return True
        return False

    return tuple(out) if walk(node) else None


def value(node: ast.expr) -> Value:
    code = ast.unparse(node)
    literal: Any = UNKNOWN
    if isinstance(node, ast.Name):
        literal = {"None": None, "True": True, "False": False}.get(node.id, UNKNOWN)
    elif isinstance(node, (ast.Constant, ast.UnaryOp, ast.Tuple, ast.List, ast.Set)):
        try:
            literal = ast.literal_eval(node)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            literal = UNKNOWN
        if isinstance(literal, (list, set)):
            literal = tuple(literal)
    items: tuple[tuple[str, Value], ...] | None = None
    complete = True
    if isinstance(node, ast.Dict):
        entries = []
        for key, item in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                entries.append((key.value, value(item)))
            else:
                complete = False
        items = tuple(entries)
    return Value(code, literal, items, complete)


def call_args(node: ast.Call, dicts: Dicts | None = None) -> CallArgs:
    kwargs: list[tuple[str, Value]] = []
    star_kwargs: list[Value] = []
    for keyword in node.keywords:
        given = keyword.value
        if keyword.arg is None and dicts is not None and isinstance(given, ast.Name):
            literal = dicts.get(given.id)
            if literal is not None and literal.lineno <= given.lineno:
                given = literal  # read after the assignment
        v = value(given)
        if keyword.arg is not None:
            kwargs.append((keyword.arg, v))
        elif v.items is not None and v.items_complete:
            kwargs.extend(v.items)
        else:
            star_kwargs.append(v)
    positional = tuple(value(a) for a in node.args if not isinstance(a, ast.Starred))
    star_args = tuple(value(a.value) for a in node.args if isinstance(a, ast.Starred))
    return CallArgs(tuple(kwargs), positional, star_args, tuple(star_kwargs))
