"""What a project's own get_or_create() does to one call's keyword arguments, read from its
source (``ManagerFacts.override_sources``) without running it.

nautobot's ``IPAddressQuerySet.get_or_create(self, defaults=None, **kwargs)`` reads keys with
``kwargs.get()``/``kwargs.pop()``, adds ``kwargs["parent"]`` only ``if parent is None and host
is not None and mask_length is not None``, and ends in ``return super().get_or_create(
defaults=defaults, **kwargs)``. For a call whose keys decide every condition that changes the
arguments, the keyword arguments Django's get_or_create() receives are known, and the call is
judged with them. Anything this reader does not model — a condition it cannot decide around a
change of the arguments, another use of ``kwargs``, a statement of another kind — leaves the
call not judged (DGC102), as before.
"""

from __future__ import annotations

import ast
import dataclasses
import functools

from flake8_django_goc.find.records import CallArgs, CallSite, Value
from flake8_django_goc.schema import UNKNOWN


@dataclasses.dataclass(frozen=True)
class _Known:
    """A local's value as far as ``is None`` goes: None, not None, or not known (``None``)."""

    is_none: bool | None


_NOT_KNOWN = _Known(None)


class _GiveUp(Exception):
    pass


@functools.lru_cache(maxsize=256)
def _parse(source: str) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    function = tree.body[0] if tree.body else None
    return function if isinstance(function, ast.FunctionDef) else None


def arguments_through(source: str, method: str, call: CallSite) -> CallArgs | None:
    """The keyword arguments the override passes on to Django's ``method``, or None."""
    function = _parse(source)
    args = call.args
    if function is None or function.name != method or call.method != method:
        return None
    if args.positional or args.star_args or args.star_kwargs or args.changed:
        return None
    params = function.args
    named = [a.arg for a in (*params.posonlyargs, *params.args, *params.kwonlyargs)][1:]
    if params.kwarg is None or params.vararg is not None or any(n != "defaults" for n in named):
        return None
    reader = _Reader(params.kwarg.arg, method, call)
    try:
        passed = reader.run(function.body)
    except _GiveUp:
        return None
    return passed


class _Reader:
    def __init__(self, kwargs: str, method: str, call: CallSite) -> None:
        self.kwargs = kwargs
        self.method = method
        self.defaults = call.args.get("defaults")
        self.keys: dict[str, Value] = {
            k: v for k, v in call.args.kwargs if k not in ("defaults", "create_defaults")
        }
        self.env: dict[str, _Known] = {}

    # -- statements ------------------------------------------------------------------------
    def run(self, body: list[ast.stmt]) -> CallArgs:
        result = self.block(body)
        if result is None:
            raise _GiveUp  # falls off the end, or every path raises
        return result

    def block(self, body: list[ast.stmt]) -> CallArgs | None:
        for statement in body:
            result = self.statement(statement)
            if result is not None:
                return result
        return None

    def statement(self, node: ast.stmt) -> CallArgs | None:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass)):
            return None
        if isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Constant) or not self.uses_kwargs(node.value):
                return None  # a docstring, or a call that does not touch the arguments
            raise _GiveUp
        if isinstance(node, ast.Assign):
            self.assign(node)
            return None
        if isinstance(node, ast.If):
            truth = self.truth(node.test)
            if truth is True:
                return self.block(node.body)
            if truth is False:
                return self.block(node.orelse)
            for branch in (node.body, node.orelse):  # undecided: harmless branches only
                if any(self.changes_arguments(s) for s in branch):
                    raise _GiveUp
            for name in self.assigned(node):
                self.env[name] = _NOT_KNOWN
            return None
        if isinstance(node, ast.Try) and not node.orelse and not node.finalbody:
            if any(not all(isinstance(s, ast.Raise) for s in h.body) for h in node.handlers):
                raise _GiveUp  # a handler that goes on: which path ran is not known
            return self.block(node.body)  # a handler that raises creates no row
        if isinstance(node, ast.Return):
            return self.passed_on(node.value)
        raise _GiveUp

    def assign(self, node: ast.Assign) -> None:
        if len(node.targets) != 1:
            raise _GiveUp
        target = node.targets[0]
        if isinstance(target, ast.Subscript):
            key = self.key_of(target)
            if key is None:
                raise _GiveUp
            code = ast.unparse(node.value)
            self.keys[key] = Value(code, UNKNOWN)  # added to what reaches Django
            return
        if not isinstance(target, ast.Name) or target.id == self.kwargs:
            raise _GiveUp
        self.env[target.id] = self.value(node.value)

    def value(self, node: ast.expr) -> _Known:
        call = node if isinstance(node, ast.Call) else None
        func = call.func if call is not None else None
        if (
            call is not None
            and isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == self.kwargs
            and func.attr in ("get", "pop")
            and call.args
            and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str)
            and not call.keywords
        ):
            key = call.args[0].value
            present = self.keys.get(key)
            if func.attr == "pop":
                self.keys.pop(key, None)
            if present is not None:
                if present.literal is None:
                    return _Known(True)
                return _Known(False) if present.is_literal or present.not_null else _NOT_KNOWN
            default = call.args[1] if len(call.args) > 1 else None
            if default is None or (isinstance(default, ast.Constant) and default.value is None):
                return _Known(True)
            return _Known(False) if isinstance(default, ast.Constant) else _NOT_KNOWN
        if self.uses_kwargs(node):
            raise _GiveUp
        return _NOT_KNOWN

    def passed_on(self, node: ast.expr | None) -> CallArgs:
        """``return super().get_or_create(defaults=defaults, **kwargs)``."""
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == self.method
            and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Name)
            and node.func.value.func.id == "super"
            and not node.args
        ):
            raise _GiveUp
        spread = [k for k in node.keywords if k.arg is None]
        if len(spread) != 1 or not (
            isinstance(spread[0].value, ast.Name) and spread[0].value.id == self.kwargs
        ):
            raise _GiveUp
        kwargs = list(self.keys.items())
        for keyword in node.keywords:
            if keyword.arg is None:
                continue
            if keyword.arg == "defaults":
                if not (isinstance(keyword.value, ast.Name) and keyword.value.id == "defaults"):
                    raise _GiveUp
                if self.defaults is not None:
                    kwargs.append(("defaults", self.defaults))
                continue
            try:
                literal = ast.literal_eval(keyword.value)
            except ValueError:
                raise _GiveUp from None
            kwargs.append((keyword.arg, Value(ast.unparse(keyword.value), literal)))
        return CallArgs(tuple(kwargs))

    # -- expressions -----------------------------------------------------------------------
    def truth(self, node: ast.expr) -> bool | None:
        if isinstance(node, ast.BoolOp):
            values = [self.truth(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return False if False in values else (True if all(values) else None)
            return True if True in values else (False if all(v is False for v in values) else None)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.truth(node.operand)
            return None if inner is None else not inner
        if (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.Is, ast.IsNot))
            and isinstance(node.left, ast.Name)
            and isinstance(node.comparators[0], ast.Constant)
            and node.comparators[0].value is None
        ):
            known = self.env.get(node.left.id, _NOT_KNOWN).is_none
            if known is None:
                return None
            return known if isinstance(node.ops[0], ast.Is) else not known
        if isinstance(node, ast.Name):
            return False if self.env.get(node.id, _NOT_KNOWN).is_none is True else None
        return None

    def key_of(self, node: ast.Subscript) -> str | None:
        if not (isinstance(node.value, ast.Name) and node.value.id == self.kwargs):
            return None
        key = node.slice
        return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None

    def uses_kwargs(self, node: ast.AST) -> bool:
        return any(isinstance(n, ast.Name) and n.id == self.kwargs for n in ast.walk(node))

    def changes_arguments(self, node: ast.stmt) -> bool:
        """Whether a statement may change what reaches Django, or end the method."""
        for inner in ast.walk(node):
            if isinstance(inner, ast.Return):
                return True
            if isinstance(inner, ast.Assign):
                for target in inner.targets:
                    if self.uses_kwargs(target):
                        return True
            elif isinstance(inner, ast.Call) and self.uses_kwargs(inner):
                return True
        return False

    @staticmethod
    def assigned(node: ast.stmt) -> set[str]:
        return {
            n.id
            for inner in ast.walk(node)
            if isinstance(inner, (ast.Assign, ast.AugAssign, ast.AnnAssign))
            for t in (inner.targets if isinstance(inner, ast.Assign) else [inner.target])
            for n in ast.walk(t)
            if isinstance(n, ast.Name)
        }
