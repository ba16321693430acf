"""Resolve a call's receiver to the model(s) it works on. No libcst, no Django.

A tiny abstract interpreter over receiver chains: names are looked up in the import table, the
enclosing scopes' bindings (parameters and their annotations, assignments, loop variables, class
attributes), ``self``/``cls``; then attributes and calls move between a few kinds of values:
a model class, a model instance, rows (a manager or queryset), a get_or_create pair.
Anything it cannot follow is ``Unresolved`` with a reason.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
from dataclasses import dataclass

from flake8_django_goc.find.expressions import steps as expression_steps
from flake8_django_goc.find.records import (
    Binding,
    CallArgs,
    CallSite,
    Frame,
    ImportBinding,
    ModuleFacts,
    Scope,
    Step,
    Value,
)
from flake8_django_goc.resolve.target import (
    Candidates,
    ChainFilter,
    Resolution,
    Resolved,
    Target,
    Unresolved,
)
from flake8_django_goc.schema import BY_ARGUMENT, UNKNOWN, ModelFacts, RelationFacts, Schema
from flake8_django_goc.schema.orm import CHAIN_METHODS, INSTANCE_METHODS, METHODS
from flake8_django_goc.text import shorten

MAX_DEPTH = 12


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
    # Not imported during setup (views, tests, scripts): the nearest enclosing package that was
    # imported names it (shop/views/orders.py under an imported shop/__init__.py or models.py),
    # whatever the current directory (src layouts, `flake8 src`).
    directory, filename = os.path.split(path)
    stem = os.path.splitext(filename)[0]
    parts = [] if is_package else [stem]
    while True:
        for sibling in ("__init__.py", "models.py", "apps.py"):
            package = schema.module_by_file.get(os.path.join(directory, sibling))
            if package is None:
                continue
            if sibling != "__init__.py":
                package = package.rpartition(".")[0]
            if package and all(p.isidentifier() for p in parts):
                return ".".join([package, *reversed(parts)])
        if not os.path.isfile(os.path.join(directory, "__init__.py")):
            break
        directory, name = os.path.split(directory)
        parts.append(name)
    # Else from the current directory, as Django's manage.py puts the project root on sys.path.
    rel = os.path.relpath(path, os.getcwd())
    if rel.startswith("..") or not rel.endswith(".py"):
        return None
    names = rel[:-3].split(os.sep)
    if is_package:
        names = names[:-1]
    return ".".join(names) if names and all(p.isidentifier() for p in names) else None


# ----------------------------------------------------------------------------- abstract values


@dataclass(frozen=True)
class _ModelClass:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class _Instance:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class _Rows:
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class _Pair:
    labels: tuple[str, ...]


@dataclass(frozen=True)
class _ClassSelf:
    """``self`` in a class that is not a model or manager (a view, an admin, a form)."""

    frame: Frame


@dataclass(frozen=True)
class _Meta:
    """``self.Meta`` of a form or serializer (its ``model``), ``instance._meta`` of a model."""

    model: _ModelClass


@dataclass(frozen=True)
class _Func:
    name: str  # "get_user_model", "get_model", "type", "super", "factory:<label>"


@dataclass(frozen=True)
class _Apps:
    pass


@dataclass(frozen=True)
class _Path:
    """A module (or anything else) imported under a dotted path: ``shop.models``."""

    path: str


@dataclass(frozen=True)
class _Request:
    """An HTTP request: ``request.user`` is an instance of AUTH_USER_MODEL."""


_Val = (
    _ModelClass | _Instance | _Rows | _Pair | _ClassSelf | _Meta | _Func | _Apps | _Request | _Path
)


class _Fail(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ----------------------------------------------------------------------------------- resolution


def _registry_call(steps: tuple[Step, ...]) -> int | None:
    """The index of ``.get_model`` in ``<anything>.apps.get_model("app", "Model")`` with
    literal arguments: a migration state's app registry, whatever holds it (its historical
    models have the tables and constraints of the migration state, judged as today's)."""
    for i in range(len(steps) - 2, 0, -1):
        step, call = steps[i], steps[i + 1]
        if step.kind == "attr" and step.name == "get_model" and call.kind == "call":
            before = steps[i - 1]
            args = call.args
            literal = args is not None and all(
                isinstance(v.literal, str) for v in (*args.positional, *(v for _, v in args.kwargs))
            )
            if before.kind == "attr" and before.name == "apps" and literal:
                return i
    return None


def _module_classes(ctx: ModuleContext) -> set[str]:
    return {f"{ctx.name}.{qualname}" for qualname in ctx.facts.classes}


def resolve(call: CallSite, ctx: ModuleContext, schema: Schema) -> Resolution:
    interpreter = _Interpreter(ctx, schema, call.scope, call.order)
    try:
        value = interpreter.chain(call.receiver)
    except _Fail as fail:
        reason = fail.reason
    else:
        if isinstance(value, _Rows):
            if len(value.targets) == 1:
                return value.targets[0]
            return Candidates(value.targets, each=True)
        if isinstance(value, (_ModelClass, _Instance)):
            kind = "class" if isinstance(value, _ModelClass) else "instance"
            labels = ", ".join(value.labels)
            return Unresolved(
                f"{shorten(call.receiver_code)} is a model {kind} ({labels}), so its "
                f"{call.method}() is the project's own method, not the QuerySet method",
                own_method=True,
            )
        if isinstance(value, _Path) and value.path in _module_classes(ctx):
            # A class object: the family methods live on manager and queryset instances, so
            # Cls.get_or_create() is a classmethod of the project's (a serializer mixin's).
            return Unresolved(
                f"{shorten(call.receiver_code)} is a class of this module, not a manager or "
                f"queryset, so its {call.method}() is the project's own method",
                own_method=True,
            )
        reason = f"{shorten(call.receiver_code)} is not a Django manager or queryset"
    fallback = interpreter.accessor_fallback(call.receiver)
    if fallback is None:
        # `spare = room.beds.filter(...)`, then `spare.exists()`: the owner of the chain the
        # name holds is not known either.
        expanded = _expand_first_name(call)
        if expanded is not None:
            fallback = interpreter.accessor_fallback(expanded)
    return fallback if fallback is not None else Unresolved(reason)


def _expand_first_name(call: CallSite) -> tuple[Step, ...] | None:
    """The receiver with its first name replaced by the chain the function last bound to it."""
    head = call.receiver[0] if call.receiver else None
    function = _innermost_function(call.scope)
    if head is None or head.kind != "name" or function is None:
        return None
    binding = function.lookup(head.name, call.order)
    if binding is None or binding.kind != "assign" or binding.index is not None:
        return None
    if not binding.value or binding.value[0].kind != "name" or binding.value[0].name == head.name:
        return None
    return (*binding.value, *call.receiver[1:])


class _Interpreter:
    def __init__(self, ctx: ModuleContext, schema: Schema, scope: tuple[Frame, ...], order: int):
        self.ctx = ctx
        self.schema = schema
        self.scope = scope
        self.order = order
        self.depth = 0

    # -- chains --------------------------------------------------------------------------------
    def chain(self, steps: tuple[Step, ...], scope: tuple[Frame, ...] | None = None) -> _Val:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Fail("the receiver's definition is too deeply nested")
            if not steps or steps[0].kind != "name":
                raise _Fail("the receiver does not start with a name")
            start = _registry_call(steps)
            if start is not None:  # self.old_state.apps.get_model("app", "Model")
                value: _Val = _Apps()
                i = start
            else:
                value = self.name(steps[0].name, scope if scope is not None else self.scope)
                i = 1
            while i < len(steps):
                value, i = self.step(value, steps, i)
            return value
        finally:
            self.depth -= 1

    def step(self, value: _Val, steps: tuple[Step, ...], i: int) -> tuple[_Val, int]:
        step = steps[i]
        called = i + 1 < len(steps) and steps[i + 1].kind == "call"
        if step.kind == "attr" and called:
            args = steps[i + 1].args or CallArgs()
            return self.method(value, step.name, args), i + 2
        if step.kind == "attr":
            if isinstance(value, _Instance):
                return self.instance_attr(value, step.name, _steps_code(steps[:i])), i + 1
            return self.attr(value, step.name), i + 1
        if step.kind == "call":
            return self.called(value, step.args or CallArgs()), i + 1
        if step.kind == "index" and isinstance(value, _Pair) and step.name == "0":
            return _Instance(value.labels), i + 1
        raise _Fail("unsupported expression in the receiver")

    # -- names ---------------------------------------------------------------------------------
    def name(self, name: str, scope: tuple[Frame, ...]) -> _Val:
        order = self.order
        # Python scoping: the innermost function, then enclosing functions, then the module;
        # class bodies are not visible from their methods.
        frames = [f for f in reversed(scope) if f.kind != "class"] or [scope[0]]
        for frame in frames:
            binding = frame.lookup(name, order)
            if binding is not None:
                if name in ("self", "cls") and binding.value is None and not binding.annotation:
                    return self.self_value(name, scope, frame)
                if binding.value is None and name in ("instance", "sender"):
                    sender = self.signal_sender(frame)
                    if sender is not None:  # a signal receiver: sender is the model class
                        return _Instance(sender.labels) if name == "instance" else sender
                return self.binding_value(binding, scope, frame)
        return self.global_name(name)

    def signal_sender(self, function: Frame) -> _ModelClass | None:
        """The model a signal receiver is connected for: ``@receiver(post_save, sender=M)`` or a
        module-level ``post_save.connect(handler, sender=M)``."""
        if function.kind != "function":
            return None
        senders = [self.ctx.facts.connected.get(function.name)]
        for decorator in function.bases:
            try:
                node = ast.parse(decorator.strip(), mode="eval").body
            except SyntaxError:
                continue
            if isinstance(node, ast.Call) and (_dotted_ast(node.func) or "").endswith("receiver"):
                senders += [ast.unparse(k.value) for k in node.keywords if k.arg == "sender"]
        for code in senders:
            if code is None or not _DOTTED_NAME.fullmatch(code):
                continue
            try:
                value = self.chain(
                    tuple(
                        Step("name" if i == 0 else "attr", part)
                        for i, part in enumerate(code.split("."))
                    ),
                    self.scope[:1],
                )
            except _Fail:
                continue
            if isinstance(value, _ModelClass):
                return value
        return None

    def binding_value(
        self, binding: Binding, scope: tuple[Frame, ...], frame: Frame | None = None
    ) -> _Val:
        if binding.kind == "proxy" and binding.value is not None:
            base = self.chain(binding.value, scope)
            if isinstance(base, _ModelClass):
                return base  # a proxy model: the concrete model's rows and constraints
            raise _Fail(f"{binding.name!r} is a proxy of something that is not a model")
        if binding.annotation:
            try:
                return self.annotation(binding.annotation)
            except _Fail:
                if binding.value is None and not self.is_apps_parameter(binding, frame):
                    raise
        if binding.value is None:
            if binding.name == "request":
                return _Request()
            if binding.name == "apps" or self.is_apps_parameter(binding, frame):
                return _Apps()  # RunPython(forwards): def forwards(apps, schema_editor)
            told = self.told_by_callers(binding, scope, frame)
            if told is not None:
                return told
            raise _Fail(f"the type of {binding.name!r} is not known (add a type annotation)")
        # Evaluate what was assigned as of the binding's position.
        saved = self.order
        self.order = binding.order
        try:
            value = self.chain(binding.value, scope)
        finally:
            self.order = saved
        if binding.kind == "for":
            if isinstance(value, _Rows):
                return _Instance(_labels(value))
            raise _Fail(f"{binding.name!r} loops over something that is not a queryset")
        if binding.index is not None:
            if isinstance(value, _Pair) and binding.index == 0:
                return _Instance(value.labels)
            raise _Fail(f"{binding.name!r} is unpacked from something this linter cannot follow")
        return value

    def told_by_callers(
        self, binding: Binding, scope: tuple[Frame, ...], frame: Frame | None
    ) -> _ModelClass | None:
        """A parameter of a top-level function that every call of it in the module passes the
        same model class for: ``create_prefixes(subnet, Prefix)`` after
        ``Prefix = apps.get_model("ipam", "Prefix")``. None when a call was not seen (its
        body was not parsed, or the name is used otherwise), passes something else, or leaves
        the parameter to its default."""
        facts = self.ctx.facts
        if binding.order != -1 or frame is None or frame.kind != "function":
            return None
        if len(scope) < 2 or scope[1] is not frame:
            return None  # a method or a nested function: its callers are not plain calls
        calls = [c for c in facts.local_calls if c.callee == frame.name]
        if not calls or facts.local_call_counts.get(frame.name) != len(calls):
            return None
        params = [b.name for b in frame.bindings if b.order == -1]
        index = params.index(binding.name)
        labels: set[tuple[str, ...]] = set()
        for call in calls:
            if call.unpacked:
                return None
            steps = dict(call.keywords).get(binding.name)
            if steps is None and index < len(call.positional):
                steps = call.positional[index]
            if not steps or frame in call.scope:
                return None  # the default, an expression, or a recursive call
            caller = _Interpreter(self.ctx, self.schema, call.scope, call.order)
            caller.depth = self.depth + 1
            try:
                value = caller.chain(steps)
            except _Fail:
                return None
            if not isinstance(value, _ModelClass):
                return None
            labels.add(value.labels)
        return _ModelClass(labels.pop()) if len(labels) == 1 else None

    @staticmethod
    def is_apps_parameter(binding: Binding, frame: Frame | None) -> bool:
        """The app registry a RunPython function gets first: ``apps`` (also annotated
        ``apps: StateApps``), or any first parameter followed by ``schema_editor``."""
        if binding.order != -1:
            return False
        if binding.annotation and binding.annotation.split(".")[-1] in ("StateApps", "Apps"):
            return True
        params = [b.name for b in frame.bindings if b.order == -1] if frame else []
        return len(params) >= 2 and params[0] == binding.name and params[1] == "schema_editor"

    def self_value(self, name: str, scope: tuple[Frame, ...], function: Frame) -> _Val:
        position = scope.index(function)
        if position == 0 or scope[position - 1].kind != "class":
            raise _Fail(f"{name!r} is not a method's first parameter")
        class_frame = scope[position - 1]
        as_class = "classmethod" in function.bases or name == "cls"
        path = self.class_path(scope[:position])
        if path is None:
            return _ClassSelf(class_frame)
        users = self.schema.by_manager_class.get(path)
        if users:  # self inside a Manager/QuerySet subclass: its rows, for each model using it
            return _Rows(tuple(Target(self.schema.models[m], name) for m, name in users))
        # A model class, or an abstract base / mixin of models: self is an instance of each.
        labels = tuple(self.schema.by_base.get(path, ()))
        if labels:
            return _ModelClass(labels) if as_class else _Instance(labels)
        return _ClassSelf(class_frame)

    def class_path(self, scope: tuple[Frame, ...]) -> str | None:
        if not self.ctx.name:
            return None
        names = [f.name for f in scope if f.kind == "class"]
        if len(names) != len(scope) - 1:  # a class inside a function
            return None
        return ".".join([self.ctx.name, *names])

    def global_name(self, name: str) -> _Val:
        path = _qualify(name, self.ctx)
        if path is None:
            if name == "get_model":
                return _Func("get_model")
            if name == "apps":  # the registry passed to RunPython functions in migrations
                return _Apps()
            if name == "type":
                return _Func("type")
            if name == "super":
                return _Func("super")
            factory = self.schema.factories.get(f"{self.ctx.name}.{name}")
            if factory is not None:  # a model getter defined in this module
                return _Func(f"factory:{factory}")
            raise _Fail(f"{name!r} is not an imported name or a class of this module")
        return self.path_value(path)

    def path_value(self, path: str) -> _Val:
        label = self.schema.by_path.get(path) or reexported(path, self.schema)
        if label is not None:
            return _ModelClass((label,))
        factory = self.schema.factories.get(path)
        if factory is not None:
            return _Func(f"factory:{factory}")
        if path in ("django.contrib.auth.get_user_model",):
            return _Func("get_user_model")
        if path in _GET_OR_404:
            return _Func("get_object_or_404")
        if path.endswith(".get_model"):
            return _Func("get_model")
        if path == "django.apps.apps":
            return _Apps()
        return _Path(path)

    def annotation(self, code: str) -> _Val:
        try:
            node = ast.parse(code.strip(), mode="eval").body
        except SyntaxError:
            raise _Fail(f"cannot read the annotation {code!r}") from None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return self.annotation(node.value)
        if isinstance(node, ast.Subscript) and (_dotted_ast(node.value) or "").split(".")[-1] in (
            "type",
            "Type",
        ):
            return _ModelClass(self.annotation_labels(node.slice))  # type[Order]: the class
        name = (_dotted_ast(node) or "").split(".")[-1]
        if name.endswith("Request"):  # HttpRequest, WSGIRequest, a project's subclass
            return _Request()
        if name in ("StateApps", "Apps"):
            return _Apps()
        return _Instance(self.annotation_labels(node))

    def annotation_labels(self, node: ast.expr) -> tuple[str, ...]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                return self.annotation_labels(ast.parse(node.value, mode="eval").body)
            except SyntaxError:
                raise _Fail("unreadable string annotation") from None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self.union([node.left, node.right])
        if isinstance(node, ast.Subscript):
            outer = _dotted_ast(node.value)
            if outer and outer.split(".")[-1] in ("Optional", "Union"):
                inner = node.slice
                parts = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
                return self.union(parts)
        dotted = _dotted_ast(node)
        if dotted:
            first, *rest = dotted.split(".")
            base = _qualify(first, self.ctx)
            label = self.schema.by_path.get(".".join([base, *rest])) if base else None
            if label:
                return (label,)
        raise _Fail(f"the annotation {ast.unparse(node)!r} is not a Django model")

    def union(self, parts: list[ast.expr]) -> tuple[str, ...]:
        labels: list[str] = []
        for part in parts:
            if isinstance(part, ast.Constant) and part.value is None:
                continue
            labels.extend(self.annotation_labels(part))
        if not labels:
            raise _Fail("the annotation names no model")
        return tuple(dict.fromkeys(labels))

    # -- attributes and calls ------------------------------------------------------------------
    def attr(self, value: _Val, name: str) -> _Val:
        if isinstance(value, _Path):
            return self.path_value(f"{value.path}.{name}")
        if isinstance(value, _ModelClass) and name != "_meta":
            targets = []
            for label in value.labels:
                model = self.schema.models[label]
                if name not in model.manager_names():
                    raise _Fail(f"{label}.{name} is not a manager of the model")
                targets.append(manager_target(model, name))
            return _Rows(tuple(targets))
        if isinstance(value, _Instance):
            return self.instance_attr(value, name)
        if isinstance(value, _Rows) and name == "model":
            return _ModelClass(_labels(value))
        if isinstance(value, _Rows) and name == "through":
            through = tuple(dict.fromkeys(t.through for t in value.targets if t.through))
            if through and all(t.through for t in value.targets):
                return _ModelClass(through)
        if isinstance(value, (_ModelClass, _Instance)) and name == "_meta":
            return _Meta(_ModelClass(value.labels))
        if isinstance(value, _Meta):
            if name == "model":
                return value.model
            if name in ("default_manager", "base_manager"):
                return _Rows(tuple(self._default_target(label) for label in value.model.labels))
            raise _Fail(f"_meta.{name} cannot be followed here")
        if isinstance(value, _ClassSelf) and name in ("Meta", "_meta"):
            # A ModelForm's or ModelSerializer's `class Meta: model = M`.
            binding = value.frame.lookup("Meta.model", self.order)
            if binding is None:
                raise _Fail(f"self.{name} has no model set in the class's Meta")
            declared = self.binding_value(binding, self.scope[:1])
            if not isinstance(declared, _ModelClass):
                raise _Fail("the Meta's model is not a model class")
            return _Meta(declared)
        if isinstance(value, _ClassSelf):
            binding = value.frame.lookup(name, self.order)
            if binding is None:
                if name == "request":
                    return _Request()
                raise _Fail(f"self.{name} is not set in the class body")
            return self.binding_value(binding, self.scope[:1])
        if isinstance(value, _Request) and name == "user" and self.schema.user_model:
            return _Instance((self.schema.user_model,))
        raise _Fail(f".{name} cannot be followed here")

    def instance_attr(self, value: _Instance, name: str, owner: str | None = None) -> _Val:
        if name == "__class__":
            return _ModelClass(value.labels)
        targets: list[Target] = []
        related: list[str] = []
        for label in value.labels:
            model = self.schema.models[label]
            relation = next((r for r in model.relations if r.accessor == name), None)
            if relation is not None:
                targets.append(self._relation_target(relation, owner))
                continue
            facts = model.fields.get(name)
            if facts is not None and facts.related_label in self.schema.models:
                related.append(facts.related_label)  # order.customer
                continue
            raise _Fail(f"{label} has no related manager or relation {name!r}")
        if targets and related:
            raise _Fail(f"{name!r} means different things on {', '.join(value.labels)}")
        return _Rows(tuple(targets)) if targets else _Instance(tuple(dict.fromkeys(related)))

    def _relation_target(
        self, relation: RelationFacts, owner: str | None = None, via: str | None = None
    ) -> Target:
        model = self.schema.models[relation.target]
        return Target(
            model,
            relation.accessor,
            adds=relation.adds,
            related=True,
            through=relation.through,
            owner=owner,
            via=via,
        )

    def _default_target(self, label: str) -> Target:
        model = self.schema.models[label]
        return manager_target(model, model.default_manager)

    def method(self, value: _Val, name: str, args: CallArgs) -> _Val:
        if isinstance(value, _Rows):
            if name in CHAIN_METHODS:
                # Filters of a chain bound to a name (`booked = M.objects.filter(status=
                # M.Status.BOOKED)`) read constants as the call's own arguments do.
                known = constant_args(args, self.ctx, self.schema, self.scope, self.order)
                return _Rows(tuple(t.chained(name, known) for t in value.targets))
            if name in INSTANCE_METHODS:
                return _Instance(_labels(value))
            if name in METHODS:
                return _Pair(_labels(value))
            custom = [_custom_method(t, name) for t in value.targets]
            if all(t is not None for t in custom):
                return _Rows(tuple(t for t in custom if t is not None))
            raise _Fail(f"{name}() is not a queryset method this linter can follow")
        if isinstance(value, _Apps) and name == "get_model":
            return self.called(_Func("get_model"), args)
        if isinstance(value, _ClassSelf) and name in ("get_queryset", "get_object"):
            binding = value.frame.lookup("queryset", self.order) or value.frame.lookup(
                "model", self.order
            )
            if binding is None:
                raise _Fail(f"self.{name}() has no queryset or model attribute to follow")
            base = self.binding_value(binding, self.scope[:1])
            if isinstance(base, _ModelClass):
                base = _Rows(tuple(self._default_target(label) for label in base.labels))
            if name == "get_object" and isinstance(base, _Rows):
                return _Instance(_labels(base))
            return base
        return self.called(self.attr(value, name), args)

    def called(self, value: _Val, args: CallArgs) -> _Val:
        if isinstance(value, _Func):
            if value.name == "get_user_model":
                if self.schema.user_model is None:
                    raise _Fail("AUTH_USER_MODEL is not a model of this project")
                return _ModelClass((self.schema.user_model,))
            if value.name == "get_model":
                return _ModelClass((self.model_by_name(args),))
            if value.name == f"factory:{BY_ARGUMENT}":  # load_model("app.Model")
                if len(args.positional) != 1 or args.kwargs:
                    raise _Fail("the model getter's argument is not one model name")
                return _ModelClass((self.model_by_name(args),))
            if value.name.startswith("factory:") and not (args.positional or args.kwargs):
                return _ModelClass((value.name.partition(":")[2],))
            if value.name == "super" and not args.positional:
                # super() in a Manager/QuerySet subclass works on the same rows as self.
                inner = self.chain((Step("name", "self"),))
                if isinstance(inner, _Rows):
                    return _Rows(
                        tuple(dataclasses.replace(t, django_method=True) for t in inner.targets)
                    )
            if value.name == "get_object_or_404" and args.positional:
                # get_object_or_404(Team, slug=...) / (Team.objects.filter(...), pk=...): a row
                chain = _expression_steps(args.positional[0].code)
                if chain is None:
                    raise _Fail("the first argument of get_object_or_404() is not a chain")
                found = self.chain(chain)
                if isinstance(found, _ModelClass):
                    return _Instance(found.labels)
                if isinstance(found, _Rows):
                    return _Instance(_labels(found))
                raise _Fail("get_object_or_404() of something that is not a model or queryset")
            if value.name == "type" and len(args.positional) == 1:
                inner = self.chain((Step("name", args.positional[0].code),))
                if isinstance(inner, _Instance):
                    return _ModelClass(inner.labels)
        if isinstance(value, _Path):
            raise _Fail(f"{value.path}() is not something this linter can follow")
        raise _Fail("a call in the receiver cannot be followed")

    def model_by_name(self, args: CallArgs) -> str:
        parts: list[str | None] = [self.text(v) for v in args.positional[:2]]
        for key in ("app_label", "model_name"):
            found = args.get(key)
            if found is not None:
                parts.append(self.text(found))
        if len(parts) == 1 and parts[0] and "." in parts[0]:
            parts = list(parts[0].split(".", 1))
        if len(parts) != 2 or not all(parts):
            raise _Fail("get_model() arguments are not literal")
        label = self.schema.by_lower_label.get(f"{parts[0]}.{parts[1]}".lower())
        if label is None:
            raise _Fail(f"{parts[0]}.{parts[1]} is not a model of this project")
        return label

    def text(self, value: Value) -> str | None:
        if isinstance(value.literal, str):
            return value.literal
        if _DOTTED_NAME.fullmatch(value.code):  # a module constant naming a model
            found = constant(value.code, self.ctx, self.schema)
            if isinstance(found, str):
                return found
        if value.code.endswith("AUTH_USER_MODEL") and self.schema.user_model:
            return self.schema.user_model
        return None

    # -- unknown owners ------------------------------------------------------------------------
    def accessor_fallback(self, steps: tuple[Step, ...]) -> Resolution | None:
        """``x.lines.get_or_create()`` with x unknown: the models with a ``lines`` manager."""
        start = None
        for j in range(1, len(steps)):
            if steps[j].kind != "attr" or steps[j - 1].kind not in ("name", "attr"):
                break
            if steps[j].name in self.schema.by_accessor:
                start = j
        if start is None:
            return None
        found = self.schema.by_accessor[steps[start].name]
        owner = steps[start - 1]
        if owner.kind == "attr" and owner.name == "user" and self.schema.user_model:
            found = [(label, r) for label, r in found if label == self.schema.user_model] or found
        owner_code = _steps_code(steps[:start])
        targets = (self._relation_target(r, owner_code, label) for label, r in found)
        value: _Val = _Rows(tuple(dict.fromkeys(targets)))
        i = start + 1
        try:
            while i < len(steps):
                value, i = self.step(value, steps, i)
        except _Fail:
            return None
        if not isinstance(value, _Rows):
            return None
        if len(value.targets) == 1:
            return value.targets[0]
        return Candidates(value.targets, each=False)


def reexported(path: str, schema: Schema, depth: int = 0) -> str | None:
    """The model a project module not imported at setup re-exports (``shop.helpers.Order`` where
    helpers.py does ``from shop.models import Order``), read statically from its source."""
    module, _, name = path.rpartition(".")
    if not module or depth > 3 or module in schema.module_files:
        return None  # an imported module's namespace is already in by_path
    tree = _module_tree(module, schema)
    if tree is None:
        return None
    package = module if tree[1] else module.rpartition(".")[0]
    for node in tree[0].body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) != name:
                    continue
                base = node.module or ""
                if node.level:
                    parents = package.split(".")
                    parents = parents[: len(parents) - node.level + 1]
                    base = ".".join([*parents, base] if base else parents)
                target = f"{base}.{alias.name}"
                return schema.by_path.get(target) or reexported(target, schema, depth + 1)
    return None


_TREES: dict[tuple[int, str], tuple[ast.Module, bool] | None] = {}


def _module_tree(module: str, schema: Schema) -> tuple[ast.Module, bool] | None:
    key = (id(schema), module)
    if key not in _TREES:
        _TREES[key] = _read_module_tree(module, schema)
    return _TREES[key]


def _read_module_tree(module: str, schema: Schema) -> tuple[ast.Module, bool] | None:
    """The parsed source of a project module, found under its nearest imported package."""
    parent = module.rpartition(".")[0]
    while parent and not schema.module_files.get(parent, "").endswith("__init__.py"):
        parent = parent.rpartition(".")[0]
    if not parent:
        return None
    base = os.path.dirname(schema.module_files[parent])
    rest = module[len(parent) + 1 :].split(".")
    for candidate, is_package in (
        (os.path.join(base, *rest) + ".py", False),
        (os.path.join(base, *rest, "__init__.py"), True),
    ):
        try:
            with open(candidate, "rb") as file:
                return ast.parse(file.read()), is_package
        except (OSError, SyntaxError, ValueError):
            continue
    return None


def manager_target(model: ModelFacts, name: str) -> Target:
    """Rows of ``Model.<name>``, with what an overriding manager adds to every call."""
    lookup_name = model.default_manager if name == "_default_manager" else name
    facts = next((m for m in model.managers if m.name == lookup_name), None)
    if facts is None or name == "_base_manager":
        return Target(model, name)
    extra = tuple((k, Value(repr(v), v)) for k, v in facts.lookup)
    filters: tuple[ChainFilter, ...] = ()
    if facts.filters:
        kwargs = tuple((k, Value("?" if v is UNKNOWN else repr(v), v)) for k, v in facts.filters)
        origin = f"{model.object_name}.{name}.get_queryset()"
        filters = (ChainFilter("filter", CallArgs(kwargs), origin=origin),)
    return Target(model, name, filters=filters, extra_lookup=extra)


def _custom_method(target: Target, name: str) -> Target | None:
    """``Stamp.objects.for_kind("x")``: a custom manager/queryset method that returns the same
    rows, with the filters its body applies (read from the source when the Schema was built)."""
    model = target.model
    manager = target.manager if not target.related else model.default_manager
    manager = model.default_manager if manager in ("_default_manager", "_base_manager") else manager
    facts = next((m for m in model.managers if m.name == manager), None)
    body = dict(facts.methods).get(name) if facts is not None else None
    if body is None:
        return None
    chained = target.chained("all", CallArgs())
    origin = f"{model.object_name}.{manager}.{name}()"
    filters = tuple(
        ChainFilter(method, CallArgs(((key, Value(repr(v), v)),)), origin=origin)
        for method, key, v in body
    )
    return dataclasses.replace(chained, filters=(*chained.filters, *filters))


_GET_OR_404 = frozenset(
    f"django.shortcuts.{name}" for name in ("get_object_or_404", "aget_object_or_404")
)


def _expression_steps(code: str) -> tuple[Step, ...] | None:
    """The receiver chain of an argument's source text (``Team.objects.filter(x=1)``)."""
    try:
        node = ast.parse(code.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError):
        return None
    return expression_steps(node)


def _innermost_function(scope: tuple[Frame, ...]) -> Frame | None:
    return next((f for f in reversed(scope) if f.kind == "function"), None)


def _steps_code(steps: tuple[Step, ...]) -> str | None:
    """Source text of a plain ``name.attr.attr`` prefix."""
    if not steps or any(s.kind not in ("name", "attr") for s in steps):
        return None
    return ".".join(s.name for s in steps)


def _labels(value: _Rows) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.model.label for t in value.targets))


def _dotted_ast(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted_ast(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


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


# ------------------------------------------------------------------------------------ constants

_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def with_constants(call: CallSite, ctx: ModuleContext, schema: Schema) -> CallSite:
    """The call with values like ``Order.Status.PAID`` or ``Basket.OPEN`` replaced by literals."""
    if not schema.constants:
        return call

    def args(a: CallArgs) -> CallArgs:
        return constant_args(a, ctx, schema, call.scope, call.order)

    receiver = tuple(
        dataclasses.replace(s, args=args(s.args)) if s.args is not None else s
        for s in call.receiver
    )
    return dataclasses.replace(call, args=args(call.args), receiver=receiver)


def constant_args(
    args: CallArgs, ctx: ModuleContext, schema: Schema, scope: tuple[Frame, ...], order: int
) -> CallArgs:
    """``args`` with values like ``Order.Status.PAID`` replaced by literals, also through a local
    name last bound to one before ``order`` (``done = Order.Status.DONE``)."""
    if not schema.constants or not args.kwargs:
        return args
    function = _innermost_function(scope)

    def value(v: Value) -> Value:
        if v.items is not None:
            items = tuple((k, value(item)) for k, item in v.items)
            return dataclasses.replace(v, items=items)
        if v.is_literal:
            return v
        code = v.code
        binding = function.lookup(code, order) if function and code.isidentifier() else None
        if binding and binding.kind == "assign" and binding.index is None and binding.value:
            code = _steps_code(binding.value) or code  # `done = Order.Status.DONE`
        if not _DOTTED.fullmatch(code):
            return v
        literal = constant(code, ctx, schema)
        return v if literal is None else dataclasses.replace(v, literal=literal)

    return dataclasses.replace(args, kwargs=tuple((k, value(v)) for k, v in args.kwargs))


def with_known_values(call: CallSite, ctx: ModuleContext, schema: Schema) -> CallSite:
    """The call with what its scope tells about its arguments: ``**lookup`` replaced by the items
    of a dict literal bound to ``lookup`` earlier in the function (and never changed in place),
    and values known never to be NULL marked (a model instance such as ``self`` in a model, or a
    non-null field read from one, ``billing.workspace_id``)."""
    args = call.args
    function = _innermost_function(call.scope)
    if args.star_kwargs and function is not None:
        kwargs, opaque, changed, maybe = list(args.kwargs), [], [], []
        for value in args.star_kwargs:
            binding = function.lookup(value.code, call.order) if value.code.isidentifier() else None
            added = function.known_keys(value.code) if binding is not None else None
            if binding is None or binding.items is None or added is None:
                opaque.append(value)
                continue
            kwargs.extend((k, v) for k, v in binding.items if k not in added)
            if added:  # changed in place by key: those keys may or may not be looked up
                kwargs.extend((k, Value(f"{value.code}[{k!r}]")) for k in sorted(added))
                changed.append(value)
                maybe.extend(sorted(added))
        args = dataclasses.replace(
            args,
            kwargs=tuple(kwargs),
            star_kwargs=tuple(opaque),
            changed=tuple(changed),
            maybe_keys=tuple(maybe),
        )
    if function is not None:
        known = tuple(
            (k, _none_bound(_create_dict(k, v, function, call.order), function, call.order))
            for k, v in args.kwargs
        )
        args = dataclasses.replace(args, kwargs=known)
    interpreter = _Interpreter(ctx, schema, call.scope, call.order)
    marked = tuple((k, _with_not_null(v, interpreter)) for k, v in args.kwargs)
    return dataclasses.replace(call, args=dataclasses.replace(args, kwargs=marked))


_NONE = (Step("name", "None"),)


def _none_bound(value: Value, function: Frame, order: int) -> Value:
    """``parent = None`` as the name's last binding in the function before the call: the call
    looks up NULL (the first turn of ``for name in names: parent, _ = get_or_create(...,
    parent=parent)``)."""
    if value.is_literal or value.items is not None or not value.code.isidentifier():
        return value
    binding = function.lookup(value.code, order)
    if binding is None or binding.kind != "assign" or binding.index is not None:
        return value
    return dataclasses.replace(value, literal=None) if binding.value == _NONE else value


def _create_dict(key: str, value: Value, function: Frame, order: int) -> Value:
    """``defaults=defaults`` where ``defaults = {"active": x}`` earlier in the function: the
    dict's keys, so the created row is known beyond them. Keys set in place later
    (``defaults.update({"owner": u})``, ``defaults["k"] = v``) are added with unknown values;
    any other change in place (``defaults.update(other)``) leaves the dict opaque."""
    if key not in ("defaults", "create_defaults") or value.items is not None:
        return value
    if not value.code.isidentifier():
        return value
    binding = function.lookup(value.code, order)
    added = function.known_keys(value.code)
    if binding is None or binding.items is None or added is None:
        return value
    items = [(k, v) for k, v in binding.items if k not in added]
    items += [(k, Value(f"{value.code}[{k!r}]")) for k in sorted(added)]
    return dataclasses.replace(value, items=tuple(items), items_complete=True)


def _with_not_null(value: Value, interpreter: _Interpreter) -> Value:
    if value.is_literal or value.items is not None or not _DOTTED_NAME.fullmatch(value.code):
        return value
    *owner, attr = value.code.split(".")
    first = owner[0] if owner else attr
    for frame in reversed(interpreter.scope):
        binding = frame.lookup(first, interpreter.order)
        if binding is not None:
            if binding.annotation and (
                "None" in binding.annotation or "Optional" in binding.annotation
            ):
                return value  # declared as possibly None
            break
    try:
        if not owner:
            known = isinstance(interpreter.chain((Step("name", attr),)), _Instance)
        else:
            steps = tuple(Step("name" if i == 0 else "attr", p) for i, p in enumerate(owner))
            instance = interpreter.chain(steps)
            known = isinstance(instance, _Instance) and all(
                _non_null_field(interpreter.schema.models[label], attr) for label in instance.labels
            )
    except _Fail:
        return value
    return dataclasses.replace(value, not_null=True) if known else value


_MAYBE_NONE = frozenset({"first", "afirst", "last", "alast"})


def _non_null_field(model: ModelFacts, key: str) -> bool:
    names = model.field_for_key(key)
    return names is not None and all(n in model.fields and not model.fields[n].null for n in names)


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


def target_in_scope(
    method: str,
    receiver: tuple[Step, ...],
    args: CallArgs,
    scope: Scope,
    ctx: ModuleContext,
    schema: Schema,
) -> Resolved | None:
    """A receiver the hand-written finder recorded, resolved like a call there (``TargetOf``)."""
    call = CallSite(method, 0, 0, receiver, "", args, scope.frames, scope.order, scope.guards)
    call = with_constants(call, ctx, schema)
    resolution = resolve(call, ctx, schema)
    if isinstance(resolution, Target):
        return Resolved(call, (resolution,))
    if isinstance(resolution, Candidates):
        return Resolved(call, resolution.targets, resolution.each)
    return None


def constructed_model(
    call: CallSite, steps: tuple[Step, ...], ctx: ModuleContext, schema: Schema
) -> ModelFacts | None:
    """The model a constructor name stands for, by the receiver resolver (``Name._base_manager``
    resolves exactly when ``Name`` is a model class)."""
    probe = CallSite(
        method="get",
        line=call.line,
        col=call.col,
        receiver=(*steps, Step("attr", "_base_manager")),
        receiver_code=".".join(s.name for s in steps),
        args=call.args,
        scope=call.scope,
        order=call.order,
    )
    resolution = resolve(probe, ctx, schema)
    return resolution.model if isinstance(resolution, Target) else None
