"""The import map: the dotted paths each model class is importable under; files; constants.

Read from the modules already imported, by their real types only: evaluating a lazy object
(``admin.site`` in a project without the admin app, ``gettext_lazy()`` strings) or a lazily
loaded module would run project code, import modules or raise; none of that may happen here.
"""

from __future__ import annotations

import functools
import os
import sys
from types import FunctionType, ModuleType
from typing import Any

from flake8_django_goc.schema import BY_ARGUMENT
from flake8_django_goc.schema.django.models import label_of
from flake8_django_goc.schema.django.safe import PRIMITIVES, Warnings, is_a, primitive
from flake8_django_goc.schema.django.setup import first_line


def import_paths(
    model_classes: list[Any], warnings: Warnings | None = None
) -> tuple[dict[str, str], dict[str, str], dict[str, Any], dict[str, str]]:
    """Dotted paths each model class can be imported under, each module's file, constants, and
    the functions that return a model class (``get_waffle_flag_model()``)."""
    from django.db.models import Choices

    warnings = warnings if warnings is not None else Warnings()
    labels = {m: label_of(m) for m in model_classes}
    by_path = {f"{m.__module__}.{m.__qualname__}": label for m, label in labels.items()}
    module_files: dict[str, str] = {}
    constants: dict[str, Any] = {}
    factories: dict[str, str] = {}
    by_lower = {label.lower(): label for label in labels.values()}
    for model in labels:
        path = f"{model.__module__}.{model.__qualname__}"
        try:
            _class_constants(path, model, constants, Choices)
        except Exception as exc:
            warnings.add(
                f"cannot read the constants of {path} ({first_line(exc)}); lookups written with "
                "them are judged as unknown values. Please report this to flake8-django-goc"
            )
    for name, module in list(sys.modules.items()):
        namespace = _namespace(module)
        if namespace is None:
            continue
        file = namespace.get("__file__")
        if type(file) is str and file.endswith(".py"):
            module_files[name] = os.path.realpath(file)
        for attr, value in list(namespace.items()):
            if type(value) is FunctionType and value.__module__ == name:
                try:
                    label = _returned_model(value, labels)
                    names = value.__code__.co_names
                    if label is None and ("get_model" in names or "get_user_model" in names):
                        label = _factory_label(value, name, by_lower)
                except Exception:  # an odd function is no model getter; never the run's end
                    label = None
                if label is not None:
                    factories[f"{name}.{attr}"] = label
                continue
            if type(value) is str and value.lower() in by_lower:
                constants.setdefault(f"{name}.{attr}", value)  # FILER_IMAGE_MODEL = "filer.Image"
                continue
            if not is_a(value, type):  # real classes only; a lazy object's type is its own
                continue
            try:
                if value in labels:
                    by_path.setdefault(f"{name}.{attr}", labels[value])
                elif issubclass(value, Choices) and value is not Choices:
                    _choices_members(f"{name}.{attr}", value, constants)
            except Exception:
                continue  # a class with an odd metaclass is neither a model nor Choices
    return by_path, module_files, constants, factories


def _returned_model(function: FunctionType, labels: dict[Any, str]) -> str | None:
    """``def get_flag_model() -> type[AbstractBaseFlag]`` with one model of that class: it.
    A string annotation is resolved in the function's globals by name only."""
    import typing

    annotation = function.__annotations__.get("return")  # read, never evaluated
    base: object = None
    if type(annotation) is str:
        inner = annotation.strip()
        for prefix in ("type[", "Type[", "typing.Type["):
            if inner.startswith(prefix) and inner.endswith("]"):
                name = inner[len(prefix) : -1].strip()
                base = function.__globals__.get(name)
                if base is None:  # `if TYPE_CHECKING: from app.models import Base`
                    base = _type_checking_import(function.__module__, name)
    elif annotation is not None and typing.get_origin(annotation) is type:
        args = typing.get_args(annotation)
        base = args[0] if len(args) == 1 else None
    if not is_a(base, type):
        return None
    try:  # a Protocol or an odd metaclass may refuse issubclass(): then it names no model
        found = [label for cls, label in labels.items() if issubclass(cls, base)]  # type: ignore[arg-type]
    except Exception:
        return None
    return found[0] if len(found) == 1 else None


def _type_checking_import(module: str, name: str) -> object:
    """The class a module imports as ``name`` only under ``if TYPE_CHECKING:``, taken from the
    already imported module it names (nothing is imported here); else None."""
    import sys

    imports = _type_checking_imports(module)
    source = imports.get(name)
    if source is None:
        return None
    where, attr = source
    found = sys.modules.get(where)
    namespace = _namespace(found) if found is not None else None
    return namespace.get(attr) if namespace is not None else None


@functools.cache
def _type_checking_imports(module: str) -> dict[str, tuple[str, str]]:
    """``name -> (module, attribute)`` for the ``from M import A [as name]`` statements under a
    module-level ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``), read with ``ast``."""
    import ast
    import importlib.util
    import inspect
    import sys

    try:
        tree = ast.parse(inspect.getsource(sys.modules[module]))
    except Exception:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        test = node.test if isinstance(node, ast.If) else None
        named = isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
        if not (named or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")):
            continue
        for statement in node.body:  # type: ignore[attr-defined]
            if not isinstance(statement, ast.ImportFrom):
                continue
            where = statement.module or ""
            if statement.level:
                package = getattr(sys.modules[module], "__package__", None) or ""
                try:
                    where = importlib.util.resolve_name("." * statement.level + where, package)
                except (ImportError, ValueError):
                    continue
            for alias in statement.names:
                found[alias.asname or alias.name] = (where, alias.name)
    return found


def _factory_label(function: FunctionType, module: str, by_lower: dict[str, str]) -> str | None:
    """``def get_flag_model(): return apps.get_model(settings.FLAG_MODEL)`` (or literal
    ``"app", "Model"`` arguments), defined in ``module``: the model it returns. Read from the
    source with ``ast``; only a settings attribute is looked up, nothing is called."""
    import ast
    import inspect
    import textwrap

    if function.__module__ != module:
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError, ValueError):
        return None
    definition = tree.body[0] if tree.body else None
    body = [  # the docstring and local imports (`from django.apps import apps`) aside
        s
        for s in getattr(definition, "body", [])
        if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        and not isinstance(s, (ast.Import, ast.ImportFrom))
    ]
    call = body[-1].value if body and isinstance(body[-1], ast.Return) else None
    if (
        len(body) == 1
        and isinstance(call, ast.Call)
        and not (call.args or call.keywords)
        and (
            (isinstance(call.func, ast.Name) and call.func.id == "get_user_model")
            or (isinstance(call.func, ast.Attribute) and call.func.attr == "get_user_model")
        )
    ):  # def get_user_model(): from django.contrib.auth import get_user_model; return ...()
        user_model = _setting_or_literal(ast.parse("settings.AUTH_USER_MODEL", mode="eval").body)
        return by_lower.get(user_model.lower()) if isinstance(user_model, str) else None
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "get_model"
        and not call.keywords
    ):
        return None
    if _returns_model_named_by_parameter(definition, body, call):
        return BY_ARGUMENT
    if len(body) != 1:
        return None
    parts = [_setting_or_literal(arg) for arg in call.args]
    if len(parts) == 1 and isinstance(parts[0], str) and "." in parts[0]:
        parts = list(parts[0].split(".", 1))
    if len(parts) != 2 or not all(isinstance(p, str) for p in parts):
        return None
    return by_lower.get(f"{parts[0]}.{parts[1]}".lower())


def _returns_model_named_by_parameter(definition: Any, body: list[Any], call: Any) -> bool:
    """``return apps.get_model(name)`` / ``(*name.split("."))`` of the function's only
    parameter, the statements before it only ``parts = name.split(".")``."""
    import ast

    args: Any = getattr(definition, "args", None)
    if args is None or args.vararg or args.kwarg or args.kwonlyargs or len(call.args) != 1:
        return False
    params = [a.arg for a in (*args.posonlyargs, *args.args)]
    if len(params) != 1:
        return False
    param = params[0]

    def split_of_param(node: Any) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "split"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == param
            and [a.value for a in node.args if isinstance(a, ast.Constant)] == ["."]
        )

    split_names = set()
    for statement in body[:-1]:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and split_of_param(statement.value)
        ):
            return False
        split_names.add(statement.targets[0].id)
    arg = call.args[0]
    if isinstance(arg, ast.Name):
        return arg.id == param
    if isinstance(arg, ast.Starred):
        inner = arg.value
        return split_of_param(inner) or (isinstance(inner, ast.Name) and inner.id in split_names)
    return False


def _setting_or_literal(node: Any) -> object:
    import ast

    if isinstance(node, ast.Constant):
        return node.value
    named = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    if named and node.value.id == "settings":
        from django.conf import settings

        value = getattr(settings, node.attr, None)
        return value if type(value) is str else None
    return None


def _namespace(module: object) -> dict[str, Any] | None:
    """A plain module's ``__dict__``; None for anything else in sys.modules (lazy modules such as
    importlib.util.LazyLoader's load themselves on attribute access)."""
    kind = type(module)
    if not issubclass(kind, ModuleType) or kind.__getattribute__ is not ModuleType.__getattribute__:
        return None
    namespace = vars(module)  # the plain attribute lookup, checked above
    return namespace if type(namespace) is dict else None


def _class_constants(path: str, cls: type, out: dict[str, Any], choices: type) -> None:
    """Literal attributes a model class defines (or inherits from abstract bases)."""
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("django."):
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("__"):
                continue
            if is_a(value, PRIMITIVES) and value is not None:
                out[f"{path}.{attr}"] = primitive(value)
            elif is_a(value, type) and issubclass(value, choices):
                _choices_members(f"{path}.{attr}", value, out)


def _choices_members(path: str, choices: Any, out: dict[str, Any]) -> None:
    for member in choices:
        if is_a(member.value, PRIMITIVES):
            out[f"{path}.{member.name}"] = primitive(member.value)
