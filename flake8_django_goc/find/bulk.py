"""What a bulk_create() call is given (DGC012): the objects, when the same function builds them.

``bulk_create([Model(k=v) ...], ignore_conflicts=True)`` can only conflict on a unique set; with
nothing but an auto primary key that the objects do not set, nothing ever does. The judge needs
to know that the objects come from the model's constructor, with which keyword arguments, and
that nothing sets their primary key afterwards. Only read for calls with ``ignore_conflicts``.
"""

from __future__ import annotations

import libcst as cst

from flake8_django_goc.find.records import Constructed, Step
from flake8_django_goc.schema.orm import BULK_METHODS, BULK_OPTIONS


def is_bulk_call(method: str, node: cst.Call) -> bool:
    """bulk_create()/abulk_create() with ignore_conflicts= or update_conflicts= written out (the
    same test as ``positions_from_ast``: both must find the same calls)."""
    return method in BULK_METHODS and any(
        arg.keyword is not None and arg.keyword.value in BULK_OPTIONS for arg in node.args
    )


def constructed(call: cst.Call, function: cst.FunctionDef | None) -> Constructed | None:
    """The constructors behind ``call``'s objects, or None when they are not all known.
    ``function``: the innermost function holding the call (None: at module or class level)."""
    if not any(a.keyword is not None and a.keyword.value == "ignore_conflicts" for a in call.args):
        return None
    objects = next(
        (
            a.value
            for a in call.args
            if (a.keyword is None and not a.star) or (a.keyword and a.keyword.value == "objs")
        ),
        None,
    )
    if objects is None:
        return None
    if function is None:
        return None
    calls = _shape(objects)
    if calls is None and isinstance(objects, cst.Name):
        calls = _built_in(function, objects.value)
    if not calls:
        return None
    constructors = []
    for ctor in calls:
        steps = _callee(ctor.func)
        if steps is None or any(a.keyword is None or a.star for a in ctor.args):
            return None  # a positional argument may be the primary key; ** may hold anything
        constructors.append((steps, tuple(a.keyword.value for a in ctor.args if a.keyword)))
    return Constructed(tuple(constructors), _assigned_attributes(function))


def _shape(node: cst.BaseExpression) -> list[cst.Call] | None:
    """Constructor calls of a literal list/tuple/set or a comprehension; None otherwise."""
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        found = []
        for element in node.elements:
            if not isinstance(element, cst.Element) or not isinstance(element.value, cst.Call):
                return None
            found.append(element.value)
        return found
    if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
        return [node.elt] if isinstance(node.elt, cst.Call) else None
    return None


def _callee(node: cst.BaseExpression) -> tuple[Step, ...] | None:
    if isinstance(node, cst.Name):
        return (Step("name", node.value),)
    if isinstance(node, cst.Attribute):
        base = _callee(node.value)
        return (*base, Step("attr", node.attr.value)) if base is not None else None
    return None


class _Builds(cst.CSTVisitor):
    """Every way ``name`` is filled in the function: ``name = [...]``, ``name.append(M(...))``,
    ``name.extend(...)``, ``name += [...]``; ``ok`` turns False at anything else that binds it."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.calls: list[cst.Call] = []
        self.ok = True

    def _add(self, node: cst.BaseExpression | None, empty_ok: bool = False) -> None:
        if node is None:
            self.ok = False
            return
        if empty_ok and isinstance(node, (cst.List, cst.Tuple)) and not node.elements:
            return
        shape = _shape(node)
        if shape is None:
            self.ok = False
        else:
            self.calls.extend(shape)

    def _binds(self, target: cst.BaseExpression) -> bool:
        if isinstance(target, cst.Name):
            return target.value == self.name
        if isinstance(target, (cst.Tuple, cst.List)):
            return any(self._binds(e.value) for e in target.elements)
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if self._binds(target.target):
                if isinstance(target.target, cst.Name):
                    self._add(node.value, empty_ok=True)
                else:
                    self.ok = False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self._binds(node.target):
            self._add(node.value, empty_ok=True)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self._binds(node.target):
            self._add(node.value)

    def visit_For(self, node: cst.For) -> None:
        if self._binds(node.target):
            self.ok = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == self.name
        ):
            return
        method = func.attr.value
        if method == "append" and len(node.args) == 1 and isinstance(node.args[0].value, cst.Call):
            self.calls.append(node.args[0].value)
        elif method == "extend" and len(node.args) == 1:
            self._add(node.args[0].value)
        elif method in ("insert", "__setitem__") or method.startswith("__i"):
            self.ok = False


def _built_in(function: cst.FunctionDef, name: str) -> list[cst.Call] | None:
    for param in (*function.params.params, *function.params.kwonly_params):
        if param.name.value == name:
            return None  # the caller's objects
    visitor = _Builds(name)
    function.body.visit(visitor)
    return visitor.calls if visitor.ok and visitor.calls else None


class _Attributes(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def _target(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Attribute):
            self.names.add(node.attr.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self._target(element.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target(target.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "setattr":
            self.names.add("*")  # any attribute


def _assigned_attributes(function: cst.FunctionDef) -> frozenset[str]:
    visitor = _Attributes()
    function.body.visit(visitor)
    return frozenset(visitor.names)
