"""Resolve a call's receiver to the model (and manager) it works on. No libcst, no Django.

Handles ``Model.<manager>`` and ``Model.<manager>.<queryset method>(...)...`` where ``Model`` is
bound by an import or defined in the module. Anything else is ``Unresolved`` with a reason.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass

from .calls import CallArgs, CallSite, ImportBinding, ModuleFacts, Step, Value
from .schema import ModelFacts, Schema

# Queryset/manager methods that return a queryset of the same model (get_or_create keeps working).
CHAIN_METHODS = frozenset(
    {
        "all",
        "alias",
        "annotate",
        "complex_filter",
        "db_manager",
        "defer",
        "distinct",
        "exclude",
        "extra",
        "filter",
        "get_queryset",
        "none",
        "only",
        "order_by",
        "prefetch_related",
        "reverse",
        "select_for_update",
        "select_related",
        "using",
    }
)
# Chain methods whose arguments restrict the get() but are not written on create (DGC006).
FILTER_METHODS = frozenset({"filter", "exclude", "complex_filter"})


@dataclass(frozen=True)
class ChainFilter:
    method: str  # "filter", "exclude", "complex_filter"
    args: CallArgs


@dataclass(frozen=True)
class Target:
    model: ModelFacts
    manager: str
    filters: tuple[ChainFilter, ...] = ()
    # Fields the receiver itself writes on create (the FK of a related manager).
    adds: tuple[str, ...] = ()

    @property
    def display(self) -> str:
        return f"{self.model.object_name}.{self.manager}"


@dataclass(frozen=True)
class Unresolved:
    reason: str


@dataclass(frozen=True)
class ModuleContext:
    """What resolve knows about the file being checked."""

    facts: ModuleFacts
    name: str | None  # dotted module name, when known
    is_package: bool = False


def module_context(facts: ModuleFacts, filename: str, schema: Schema) -> ModuleContext:
    path = os.path.realpath(filename)
    is_package = os.path.basename(path) == "__init__.py"
    return ModuleContext(facts, _module_name(path, schema, is_package), is_package)


def _module_name(path: str, schema: Schema, is_package: bool) -> str | None:
    known = schema.module_by_file.get(path)
    if known:
        return known
    # Not imported during setup (views, scripts): name it from the current directory, as Django's
    # manage.py puts the project root first on sys.path.
    rel = os.path.relpath(path, os.getcwd())
    if rel.startswith("..") or not rel.endswith(".py"):
        return None
    parts = rel[:-3].split(os.sep)
    if is_package:
        parts = parts[:-1]
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def resolve(call: CallSite, ctx: ModuleContext, schema: Schema) -> Target | Unresolved:
    steps = call.receiver
    names = _leading_names(steps)
    if not names:
        return Unresolved("the receiver does not start with a name")
    base = _qualify(names[0], ctx)
    if base is None:
        return Unresolved(f"{names[0]!r} is not an imported name or a class of this module")
    for end in range(1, len(names) + 1):
        path = ".".join([base, *names[1:end]])
        model = schema.model_for_path(path)
        if model is not None:
            return _after_model(model, steps[end:])
    return Unresolved(f"{'.'.join(names)} is not a Django model manager")


def _leading_names(steps: tuple[Step, ...]) -> list[str]:
    names: list[str] = []
    for i, step in enumerate(steps):
        if (i == 0 and step.kind == "name") or (i > 0 and step.kind == "attr"):
            names.append(step.name)
        else:
            break
    return names


def _qualify(name: str, ctx: ModuleContext) -> str | None:
    binding = ctx.facts.imports.get(name)
    if binding is not None:
        return _binding_path(binding, ctx)
    if name in ctx.facts.classes and ctx.name:
        return f"{ctx.name}.{name}"
    return None


def _binding_path(binding: ImportBinding, ctx: ModuleContext) -> str | None:
    module = binding.module
    if binding.level:
        if not ctx.name:
            return None
        package = ctx.name.split(".")
        if not ctx.is_package:
            package = package[:-1]
        if binding.level > 1:
            package = package[: -(binding.level - 1)] if binding.level - 1 <= len(package) else []
        if not package:
            return None
        module = ".".join([*package, module]) if module else ".".join(package)
    return f"{module}.{binding.attr}" if binding.attr else module


def _after_model(model: ModelFacts, rest: tuple[Step, ...]) -> Target | Unresolved:
    if not rest or rest[0].kind != "attr":
        return Unresolved(f"{model.label} is used directly, not through a manager")
    manager = rest[0].name
    if manager not in model.manager_names():
        return Unresolved(f"{model.label}.{manager} is not a manager of the model")
    filters: list[ChainFilter] = []
    i = 1
    while i < len(rest):
        step = rest[i]
        if step.kind != "attr" or i + 1 >= len(rest) or rest[i + 1].kind != "call":
            return Unresolved(f"unsupported receiver after {model.object_name}.{manager}")
        if step.name not in CHAIN_METHODS:
            return Unresolved(
                f"{step.name}() on {model.object_name}.{manager} is not a known queryset method"
            )
        args = rest[i + 1].args or CallArgs()
        if step.name in FILTER_METHODS:
            filters.append(ChainFilter(step.name, args))
        i += 2
    return Target(model, manager, tuple(filters))


# ------------------------------------------------------------------------------------ constants

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def with_constants(call: CallSite, ctx: ModuleContext, schema: Schema) -> CallSite:
    """The call with values like ``Order.Status.PAID`` or ``Basket.OPEN`` replaced by literals."""
    if not schema.constants:
        return call

    def value(v: Value) -> Value:
        if v.items is not None:
            items = tuple((k, value(item)) for k, item in v.items)
            return dataclasses.replace(v, items=items)
        if v.is_literal or not _DOTTED.fullmatch(v.code):
            return v
        literal = constant(v.code, ctx, schema)
        return v if literal is None else dataclasses.replace(v, literal=literal)

    def args(a: CallArgs) -> CallArgs:
        return dataclasses.replace(a, kwargs=tuple((k, value(v)) for k, v in a.kwargs))

    receiver = tuple(
        dataclasses.replace(s, args=args(s.args)) if s.args is not None else s
        for s in call.receiver
    )
    return dataclasses.replace(call, args=args(call.args), receiver=receiver)


def constant(code: str, ctx: ModuleContext, schema: Schema) -> object | None:
    first, *rest = code.split(".")
    base = _qualify(first, ctx)
    if base is None:
        return None
    path = ".".join([base, *rest])
    if path in schema.constants:
        return schema.constants[path]
    # A model imported under another path (a re-export): use its canonical path.
    parts = path.split(".")
    for end in range(len(parts) - 1, 0, -1):
        model = schema.model_for_path(".".join(parts[:end]))
        if model is not None:
            canonical = ".".join([model.module, model.qualname, *parts[end:]])
            return schema.constants.get(canonical)
    return None
