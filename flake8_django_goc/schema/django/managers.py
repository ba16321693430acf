"""Managers and querysets: what an overriding manager adds, and custom methods' filters.

Read from the manager classes' source with ``ast`` (``inspect.getsource``), never executed.
"""

from __future__ import annotations

import functools
from typing import Any

from flake8_django_goc.schema import UNKNOWN, ManagerFacts
from flake8_django_goc.schema.django.safe import Warnings, is_a, primitive
from flake8_django_goc.schema.orm import CHAIN_METHODS, METHODS


def manager_facts(manager: Any, warnings: Warnings | None = None) -> ManagerFacts:
    cls = type(manager)
    qs = getattr(manager, "_queryset_class", None)
    classes = [k for k in (*cls.__mro__, *(qs.__mro__ if qs else ())) if _is_project_class(k)]
    warnings = warnings if warnings is not None else Warnings()
    own = _own_logic(classes, warnings)
    return ManagerFacts(
        name=manager.name,
        class_path=f"{cls.__module__}.{cls.__qualname__}",
        queryset_path=f"{qs.__module__}.{qs.__qualname__}" if qs else None,
        lookup=_override_kwargs(manager, classes, "get_or_create", warnings),
        filters=_override_kwargs(manager, classes, "get_queryset", warnings, via="filter"),
        methods=_queryset_methods(manager, classes, warnings),
        class_mro=tuple(dict.fromkeys(f"{k.__module__}.{k.__qualname__}" for k in classes)),
        overrides=tuple(method for method, _ in own),
        override_sources=tuple((m, source) for m, source in own if source is not None),
        translated=_translated_keys(
            [k for k in (qs.__mro__ if qs else ()) if _is_project_class(k)], warnings
        ),
    )


def _translated_keys(
    classes: list[type], warnings: Warnings
) -> tuple[tuple[str, str, tuple[str, ...] | None], ...]:
    """Keys a project queryset's get()/filter() consumes by name: a parameter of its own
    (``def filter(self, *args, address=None, **kwargs)``) or ``kwargs.pop("prefix")`` /
    ``kwargs.get(...)`` / ``kwargs[...]`` of its ``**kwargs``. Django's get_or_create() runs
    ``self.get(**kwargs)``, which runs ``self.filter()``: such a key never reaches Django as
    written. With it, the fields the translation names: string keys of dict literals and
    keyword names of calls whose values use the key (or a name computed from it), else None."""
    found: dict[str, tuple[str, str, tuple[str, ...] | None]] = {}
    for cls in classes:
        for method in ("get", "filter"):
            function = vars(cls).get(method)
            if function is None:
                continue
            tree = _tree(function, cls, warnings)
            definition = tree.body[0] if tree is not None and tree.body else None
            if definition is None or not hasattr(definition, "args"):
                continue
            where = f"{cls.__module__}.{cls.__qualname__}.{method}"
            for key, writes in _consumed(definition).items():
                found.setdefault(key, (key, where, writes))
    return tuple(found[k] for k in sorted(found))


def _consumed(function: Any) -> dict[str, tuple[str, ...] | None]:
    import ast

    params = function.args
    named = [a.arg for a in (*params.posonlyargs, *params.args, *params.kwonlyargs)][1:]
    kwargs = params.kwarg.arg if params.kwarg is not None else None
    keys: dict[str, str] = {name: name for name in named}  # key -> the local that holds it
    for node in ast.walk(function):
        key = None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("pop", "get")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == kwargs
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            key = node.args[0].value
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and node.value.id == kwargs
            and isinstance(node.slice, ast.Constant)
        ):
            key = node.slice.value
        if isinstance(key, str):
            keys.setdefault(key, key)
    assigned = _assignments(function)
    result: dict[str, tuple[str, ...] | None] = {}
    for key in keys:
        holders = {key}
        for targets, value in assigned:  # names computed from the key, in source order
            used = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
            mentions_key = any(
                isinstance(n, ast.Constant) and n.value == key for n in ast.walk(value)
            )
            if used & holders or mentions_key:
                holders |= targets - ({kwargs} if kwargs else set())
        writes: set[str] = set()
        for node in ast.walk(function):
            if isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(k, ast.Constant)
                        and isinstance(k.value, str)
                        and _uses(v, holders)
                    ):
                        writes.add(k.value)
            elif isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg is not None and _uses(keyword.value, holders):
                        writes.add(keyword.arg)
        result[key] = tuple(sorted(writes)) if writes else None
    return result


def _assignments(function: Any) -> list[tuple[set[str], Any]]:
    import ast

    found = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            names = {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            found.append((names, node.value))
    return sorted(found, key=lambda item: getattr(item[1], "lineno", 0))


def _uses(node: Any, names: set[str]) -> bool:
    import ast

    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _own_logic(classes: list[type], warnings: Warnings) -> tuple[tuple[str, str | None], ...]:
    """The get_or_create-family methods a project class reimplements: anything but one
    ``return super().<method>(...)`` (or ``self.get_queryset().<method>(...)``) pass-through,
    whose literal keyword arguments ``_override_kwargs`` reads. Such a method decides for
    itself what it looks up and writes (nautobot's ``PrefixQuerySet.get_or_create(prefix=...)``
    splits a prefix into two columns), so calls through it are not judged as Django's."""
    import ast

    found = []
    for method in sorted(METHODS):
        cls = next((c for c in classes if method in vars(c)), None)
        if cls is None:
            continue
        tree = _tree(vars(cls)[method], cls, warnings)
        if tree is None:
            continue  # unreadable (named in the warnings): judged as Django's, as the warning says
        function = tree.body[0] if tree.body else None
        body = [
            s
            for s in getattr(function, "body", [])
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        ]
        call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Return) else None
        passes_on = (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == method
            and _is_own_rows(call.func.value)
            and isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
            and _passes_arguments_on(function.args, call)
        )
        if not passes_on:
            source = ast.unparse(function) if function is not None else None
            found.append((method, source))
    return tuple(found)


def _passes_arguments_on(params: Any, call: Any) -> bool:
    """``def get_or_create(self, defaults=None, **kwargs): return super().get_or_create(...,
    defaults=defaults, **kwargs)``: the caller's keywords reach Django unchanged (literal ones
    may be added). A named parameter of its own (``label``) means the method translates."""
    import ast

    named = [a.arg for a in (*params.posonlyargs, *params.args, *params.kwonlyargs)][1:]
    if params.kwarg is None or any(name not in ("defaults", "create_defaults") for name in named):
        return False
    passed = {k.value.id for k in call.keywords if k.arg is None and isinstance(k.value, ast.Name)}
    return params.kwarg.arg in passed


def _tree(function: Any, cls: type, warnings: Warnings) -> Any:
    tree, error = _function_tree(function)
    if error is not None:
        warnings.add(
            f"cannot read the source of {cls.__module__}.{cls.__qualname__}."
            f"{getattr(function, '__name__', '?')} ({error}); what it adds to the lookup or the "
            "filters is not known, so calls through it are judged without it"
        )
    return tree


def _queryset_methods(manager: Any, classes: list[type], warnings: Warnings) -> tuple:
    """Custom methods whose body is one ``return self.<chain>()`` of queryset methods."""
    import ast
    import inspect

    from flake8_django_goc.schema.orm import CHAIN_METHODS, FILTER_METHODS

    found: dict[str, tuple[tuple[str, str, Any], ...]] = {}
    for cls in reversed(classes):  # subclasses override their bases
        for name, function in vars(cls).items():
            if name.startswith("_") or not inspect.isfunction(function):
                continue
            found.pop(name, None)
            tree = _tree(function, cls, warnings)
            if tree is None:
                continue
            body = tree.body[0].body if tree.body and hasattr(tree.body[0], "body") else []
            body = [
                s
                for s in body
                if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            ]
            if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
                continue
            filters: list[tuple[str, str, Any]] = []
            node = body[0].value
            while (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CHAIN_METHODS
                and not _is_own_rows(node)
            ):
                if node.func.attr in FILTER_METHODS:
                    for keyword in node.keywords:
                        value = _static_value(keyword.value, manager, function)
                        filters.append((node.func.attr, keyword.arg or "**", value))
                    if node.args:
                        filters.append((node.func.attr, "<Q>", UNKNOWN))
                node = node.func.value
            if _is_own_rows(node) or (isinstance(node, ast.Name) and node.id == "self"):
                found[name] = tuple(reversed(filters))
    return tuple(sorted(found.items()))


def _is_project_class(cls: type) -> bool:
    return cls is not object and not cls.__module__.startswith(("django.", "builtins"))


def _override_kwargs(
    manager: Any, classes: list[type], method: str, warnings: Warnings, via: str | None = None
) -> tuple[tuple[str, Any], ...]:
    """Literal kwargs an override passes on, as in django-oscar's basket managers:
    ``return super().get_or_create(status="open", **kwargs)`` (or ``self.get_queryset()...``),
    and with ``via``: ``return super().get_queryset().filter(status=self.status_filter)``.
    Only the first class defining ``method`` counts."""
    import ast

    for cls in classes:
        function = vars(cls).get(method)
        if function is None:
            continue
        tree = _tree(function, cls, warnings)
        if tree is None:
            return ()
        skipped = _branches_not_taken(tree, manager, function)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if id(node) in skipped:
                continue  # `if self.linked_only:` is False for this manager instance
            inner = node.func.value
            if via is not None:
                if node.func.attr != via:
                    continue
                # super().get_queryset().select_related(...).filter(...): past the chain
                while (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Attribute)
                    and inner.func.attr in CHAIN_METHODS
                    and inner.func.attr != method
                ):
                    inner = inner.func.value
                if not isinstance(inner, ast.Call) or not isinstance(inner.func, ast.Attribute):
                    continue
                if inner.func.attr != method:
                    continue
                inner = inner.func.value
            elif node.func.attr != method:
                continue
            if not _is_own_rows(inner):
                continue
            found = []
            for keyword in node.keywords:
                if keyword.arg is not None and keyword.arg != "defaults":
                    value = _static_value(keyword.value, manager, function)
                    # A filter whose value is not known still narrows the get() (DGC006);
                    # a lookup key whose value is not known is left out.
                    if value is not UNKNOWN or via is not None:
                        found.append((keyword.arg, value))
            return tuple(found)
        return ()
    return ()


def _branches_not_taken(tree: Any, manager: Any, function: Any) -> set[int]:
    """The ids of the nodes under an ``if`` branch this manager instance never takes: the test
    reads its own state (``if self.linked_only:``, ``if not self.x:``), which differs between
    ``objects = M()`` and ``all_objects = M(linked_only=False)``. Tests it cannot read leave
    both branches in."""
    import ast

    skipped: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        test, negated = node.test, False
        while isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test, negated = test.operand, not negated
        value = _static_value(test, manager, function)
        if value is UNKNOWN:
            continue
        taken = bool(value) != negated
        for branch in node.orelse if taken else node.body:
            skipped.update(id(n) for n in ast.walk(branch))
    return skipped


@functools.cache
def _function_tree(function: Any) -> tuple[Any, str | None]:
    """The parsed source of a manager/queryset method, shared by every model using the class;
    else None and why (no source file, a source that no longer matches the code...)."""
    import ast
    import inspect
    import textwrap

    from flake8_django_goc.schema.django.setup import first_line

    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function))), None
    except Exception as exc:
        return None, first_line(exc)


def _is_own_rows(node: Any) -> bool:
    """``super()``, ``super(Cls, self)`` or ``self.get_queryset()``."""
    import ast

    if not isinstance(node, ast.Call):
        return False
    if isinstance(node.func, ast.Name) and node.func.id == "super":
        return True
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "get_queryset"
        and isinstance(func.value, ast.Name)
        and func.value.id == "self"
    )


def _static_value(node: Any, manager: Any, function: Any = None) -> Any:
    """A literal, ``self.ATTR`` of the manager or ``self.model.ATTR`` of its model, or a
    constant of the method's module (``Choices.STATIC``, read statically, nothing called)."""
    import ast
    import inspect

    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        pass
    path = []
    while isinstance(node, ast.Attribute):
        path.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or not path:
        return UNKNOWN
    if node.id != "self":
        namespace = getattr(function, "__globals__", None)
        if not isinstance(namespace, dict) or node.id not in namespace:
            return UNKNOWN
        found: Any = namespace[node.id]
        for attr in reversed(path):
            if not is_a(found, type):
                return UNKNOWN  # only class attributes: a module or an instance may be lazy
            try:
                found = inspect.getattr_static(found, attr)
            except AttributeError:
                return UNKNOWN
        constant = getattr(found, "value", found) if _is_enum_member(found) else found
        return primitive(constant)
    value: Any = manager
    for attr in reversed(path):
        value = getattr(value, attr, UNKNOWN)
        if value is UNKNOWN:
            return UNKNOWN
    return primitive(value)


def _is_enum_member(value: Any) -> bool:
    import enum

    return isinstance(value, enum.Enum)
