"""Load the project's Django models and reduce ``_meta`` to a Schema.

The only module that imports Django. ``load_schema`` runs ``django.setup()`` once per process and
turns every failure into a ``SetupError`` with a one-paragraph explanation and a hint.
"""

from __future__ import annotations

import functools
import gc
import importlib
import os
import sys
from typing import Any

from .isolation import isolation_findings
from .schema import (
    UNKNOWN,
    BackendFacts,
    Condition,
    FieldFacts,
    ManagerFacts,
    ModelFacts,
    RelationFacts,
    Schema,
    UniqueSet,
)

_PRIMITIVES = (bool, int, float, str, type(None))


class SetupError(Exception):
    """Django could not be set up; the message says why and what to do."""


def first_line(exc: BaseException) -> str:
    """``Type: first line of the message``, for one-paragraph errors."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def setup_django(settings_module: str) -> None:
    """Import the settings and run django.setup(), with the current directory importable."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        import django
    except ImportError as exc:
        raise SetupError(
            f"Django is not importable ({first_line(exc)}). Install flake8-django-goc into the "
            "virtual environment of the project you lint, next to Django."
        ) from None
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    try:
        importlib.import_module(settings_module)
    except BaseException as exc:  # settings may raise anything, even SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SetupError(
            f"cannot import the Django settings module {settings_module!r}: {first_line(exc)}. "
            "Run flake8 from the project root (where manage.py is) or pass the right dotted path "
            "with --django-settings-module (or `django-settings-module =` in setup.cfg, tox.ini "
            "or .flake8)."
        ) from None
    try:
        django.setup()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SetupError(
            f"django.setup() failed for settings {settings_module!r}: {first_line(exc)}. "
            "The project must import cleanly (as for `python manage.py check`) in the environment "
            "flake8 runs in: check INSTALLED_APPS, the models modules and the required environment "
            "variables."
        ) from None


def build_schema(settings_module: str) -> Schema:
    """Set up Django and read every model's facts.

    The cyclic garbage collector is paused meanwhile and Django's objects are then frozen
    (gc.freeze): otherwise every collection rescans the whole loaded project, which made reading
    and caching Wagtail's models several times slower, and slows the rest of the run too."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build_schema(settings_module)
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def _build_schema(settings_module: str) -> Schema:
    setup_django(settings_module)
    import django
    from django.apps import apps

    try:
        model_classes = apps.get_models(include_auto_created=True)
        backends: dict[str, BackendFacts] = {}
        models = {
            m._meta.label: _model_facts(m, backends) for m in model_classes if not m._meta.abstract
        }
        by_path, module_files, constants = _import_paths(model_classes)
    except SetupError:
        raise
    except Exception as exc:
        raise SetupError(
            f"reading the models of {settings_module!r} failed: {first_line(exc)}. "
            "Please report this to flake8-django-goc with the model definition."
        ) from None
    from django.conf import settings

    user_model = getattr(settings, "AUTH_USER_MODEL", None)
    return Schema(
        models=models,
        user_model=user_model if user_model in models else None,
        by_path=by_path,
        module_files=module_files,
        constants=constants,
        django_version=django.get_version(),
        settings_module=settings_module,
        settings_findings=tuple(isolation_findings(settings_module)),
    )


# ---------------------------------------------------------------------------------------- models


def _label(model: Any) -> str:
    return str(model._meta.label)


def _parents(opts: Any) -> tuple[Any, ...]:
    # Django 5.1 added all_parents; get_parent_list() is deprecated since.
    parents = getattr(opts, "all_parents", None)
    return tuple(parents) if parents is not None else tuple(opts.get_parent_list())


def _model_facts(model: Any, backends: dict[str, BackendFacts]) -> ModelFacts:
    opts = model._meta
    concrete = opts.concrete_model
    copts = concrete._meta
    fields = {f.name: _field_facts(f) for f in copts.concrete_fields}
    pk_names = _pk_names(copts)
    unique_sets: list[UniqueSet] = []
    backend = _backend_for(concrete, backends)
    for owner in (concrete, *_parents(copts)):
        origin = None if owner is concrete else _label(owner)
        unique_sets.extend(_unique_sets(owner, origin, backend))
    module = sys.modules.get(model.__module__)
    file = getattr(module, "__file__", None)
    return ModelFacts(
        label=_label(model),
        object_name=opts.object_name,
        module=model.__module__,
        qualname=model.__qualname__,
        fields=fields,
        unique_sets=tuple(unique_sets),
        pk=pk_names,
        concrete_label=_label(concrete) if opts.proxy else None,
        managed=bool(copts.managed),
        managers=tuple(_manager_facts(m) for m in opts.managers),
        default_manager=opts.default_manager.name if opts.default_manager else "objects",
        relations=_relations(model),
        parents=tuple(_label(p) for p in _parents(copts)),
        backend=backend,
        file=os.path.realpath(file) if file else None,
        mro=tuple(
            f"{k.__module__}.{k.__qualname__}"
            for k in model.__mro__
            if k is not object and not k.__module__.startswith("django.")
        ),
    )


def _pk_names(opts: Any) -> tuple[str, ...]:
    pk = opts.pk
    composite = getattr(pk, "field_names", None)  # CompositePrimaryKey, Django 5.2+
    return tuple(composite) if composite else (pk.name,)


def _field_facts(f: Any) -> FieldFacts:
    return FieldFacts(
        name=f.name,
        attname=f.attname,
        null=bool(f.null),
        primary_key=bool(f.primary_key),
        unique=bool(f.unique),
        is_relation=bool(f.is_relation),
        related_label=_label(f.related_model) if f.is_relation and f.related_model else None,
        default=_created_default(f),
        owner=_label(f.model._meta.concrete_model) if getattr(f, "model", None) else None,
    )


def _created_default(f: Any) -> Any:
    """The value Django writes for a field nobody set, if it is a plain literal."""
    if f.has_default():
        return f.default if isinstance(f.default, _PRIMITIVES) else UNKNOWN
    from django.db.models.fields import NOT_PROVIDED

    db_default = getattr(f, "db_default", NOT_PROVIDED)  # Django 5.0+
    if db_default is not NOT_PROVIDED:
        value = getattr(db_default, "value", UNKNOWN)  # Value(x)
        return value if isinstance(value, _PRIMITIVES) else UNKNOWN
    if f.primary_key:
        return UNKNOWN  # generated by the database
    try:
        value = f.get_default()
    except Exception:
        return UNKNOWN
    return value if isinstance(value, _PRIMITIVES) else UNKNOWN


def _unique_sets(owner: Any, origin: str | None, backend: BackendFacts) -> list[UniqueSet]:
    """Uniqueness guarantees declared on ``owner``'s own table."""
    opts = owner._meta
    sets = [UniqueSet(_pk_names(opts), "primary key", origin=origin)]
    for f in opts.local_concrete_fields:
        if f.unique and not f.primary_key:
            source = "OneToOneField" if f.one_to_one else "unique=True"
            sets.append(UniqueSet((f.name,), source, origin=origin))
    if not opts.managed:
        # Django creates no constraint for unmanaged tables; only the pk is a safe assumption.
        return sets[:1]
    for names in opts.unique_together:
        fields = tuple(opts.get_field(n).name for n in names)
        sets.append(UniqueSet(fields, "unique_together", origin=origin))
    from django.db.models import UniqueConstraint

    for constraint in opts.constraints:
        if isinstance(constraint, UniqueConstraint):
            sets.append(_constraint_set(opts, constraint, origin, backend))
    return sets


def _constraint_set(opts: Any, c: Any, origin: str | None, backend: BackendFacts) -> UniqueSet:
    from django.db.models import Deferrable

    expressions = getattr(c, "expressions", ())
    if expressions:
        fields, ci_fields = _expression_fields(expressions)
        fields, ci_fields = _field_names(opts, fields), _field_names(opts, ci_fields)
        expr_text: str | None = ", ".join(_expression_text(e) for e in expressions)
    else:
        fields = tuple(opts.get_field(n).name for n in c.fields)
        ci_fields, expr_text = (), None
    condition, readable = (None, True)
    if c.condition is not None:
        condition, readable = _condition(c.condition)
    nulls_distinct = getattr(c, "nulls_distinct", None)
    deferred = c.deferrable == Deferrable.DEFERRED
    reasons = []
    if c.condition is not None and not backend.partial:
        reasons.append("conditional (partial) unique constraints")
    if expressions and not backend.functional:
        reasons.append("functional unique constraints")
    if c.deferrable is not None and not backend.deferrable:
        reasons.append("deferrable unique constraints")
    if getattr(c, "include", None) and not backend.covering:
        reasons.append("unique constraints with include=")
    if nulls_distinct is not None and not backend.nulls_distinct:
        reasons.append("nulls_distinct on unique constraints")
    unenforced = None
    if reasons:
        # Django's _unique_supported() skips the whole constraint when any part is unsupported.
        unenforced = f"{backend.vendor} does not create {' or '.join(reasons)}"
        if backend.note:
            unenforced += f" ({backend.note})"
    return UniqueSet(
        fields,
        "UniqueConstraint",
        name=c.name,
        origin=origin,
        condition=condition,
        condition_readable=readable,
        deferred=deferred,
        nulls_distinct=nulls_distinct,
        expressions=expr_text,
        ci_fields=ci_fields,
        unenforced_reason=unenforced,
    )


def _expression_fields(expressions: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Fields referenced by functional constraint expressions, and those only under Lower/Upper."""
    from django.db.models import F
    from django.db.models.expressions import OrderBy
    from django.db.models.functions import Lower, Upper

    fields: list[str] = []
    ci: set[str] = set()
    plain: set[str] = set()

    def walk(expr: Any, under_case: bool) -> None:
        if isinstance(expr, F):
            if expr.name not in fields:
                fields.append(expr.name)
            (ci if under_case else plain).add(expr.name)
            return
        if isinstance(expr, OrderBy):
            walk(expr.expression, under_case)
            return
        case = isinstance(expr, (Lower, Upper))
        for source in getattr(expr, "get_source_expressions", list)():
            walk(source, case)

    for e in expressions:
        walk(e, False)
    return tuple(fields), tuple(sorted(ci - plain))


def _field_names(opts: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    """Normalise attnames (``author_id``) in expressions to field names."""
    out = []
    for name in names:
        try:
            out.append(opts.get_field(name).name)
        except Exception:
            out.append(name)
    return tuple(out)


def _expression_text(expr: Any) -> str:
    text = repr(expr)
    return text if len(text) < 80 else text[:77] + "..."


def _condition(q: Any) -> tuple[Condition, bool]:
    """Reduce a Q to a Condition; readable is False when it holds something we cannot evaluate."""
    from django.db.models import Q
    from django.db.models.expressions import Value

    readable = True

    def convert(node: Any) -> Condition:
        nonlocal readable
        children: list[Condition | tuple[str, Any]] = []
        for child in node.children:
            if isinstance(child, Q):
                children.append(convert(child))
                continue
            if not (isinstance(child, tuple) and len(child) == 2):
                readable = False  # an expression used as a filter (Exact(...), RawSQL...)
                children.append(("<expression>", UNKNOWN))
                continue
            key, value = child
            if isinstance(value, Value):
                value = value.value
            if isinstance(value, (list, tuple, set, frozenset)) and all(
                isinstance(v, _PRIMITIVES) for v in value
            ):
                value = tuple(value)
            elif not isinstance(value, _PRIMITIVES):
                readable = False
                value = UNKNOWN
            children.append((str(key), value))
        return Condition(node.connector, bool(node.negated), tuple(children))

    converted = convert(q)
    return Condition(
        converted.connector, converted.negated, converted.children, _q_text(q)
    ), readable


def _q_text(q: Any) -> str:
    from django.db.models import Q

    parts = []
    for child in q.children:
        if isinstance(child, Q):
            parts.append(_q_text(child))
        elif isinstance(child, tuple) and len(child) == 2:
            parts.append(f"{child[0]}={child[1]!r}")
        else:
            parts.append(repr(child))
    joiner = " | " if q.connector == "OR" else ", "
    inner = joiner.join(parts)
    text = f"Q({inner})" if q.connector == "AND" or len(parts) < 2 else f"({inner})"
    return f"~{text}" if q.negated else text


def _manager_facts(manager: Any) -> ManagerFacts:
    cls = type(manager)
    qs = getattr(manager, "_queryset_class", None)
    classes = [k for k in (*cls.__mro__, *(qs.__mro__ if qs else ())) if _is_project_class(k)]
    return ManagerFacts(
        name=manager.name,
        class_path=f"{cls.__module__}.{cls.__qualname__}",
        queryset_path=f"{qs.__module__}.{qs.__qualname__}" if qs else None,
        lookup=_override_kwargs(manager, classes, "get_or_create"),
        filters=_override_kwargs(manager, classes, "get_queryset", via="filter"),
        methods=_queryset_methods(manager, classes),
        class_mro=tuple(dict.fromkeys(f"{k.__module__}.{k.__qualname__}" for k in classes)),
    )


def _queryset_methods(manager: Any, classes: list[type]) -> tuple:
    """Custom methods whose body is one ``return self.<chain>()`` of queryset methods."""
    import ast
    import inspect

    from .callsite import CHAIN_METHODS, FILTER_METHODS

    found: dict[str, tuple[tuple[str, str, Any], ...]] = {}
    for cls in reversed(classes):  # subclasses override their bases
        for name, function in vars(cls).items():
            if name.startswith("_") or not inspect.isfunction(function):
                continue
            found.pop(name, None)
            tree = _function_tree(function)
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
                        value = _static_value(keyword.value, manager)
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
    manager: Any, classes: list[type], method: str, via: str | None = None
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
        tree = _function_tree(function)
        if tree is None:
            return ()
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            inner = node.func.value
            if via is not None:
                if node.func.attr != via or not isinstance(inner, ast.Call):
                    continue
                if not isinstance(inner.func, ast.Attribute) or inner.func.attr != method:
                    continue
                inner = inner.func.value
            elif node.func.attr != method:
                continue
            if not _is_own_rows(inner):
                continue
            found = []
            for keyword in node.keywords:
                if keyword.arg is not None and keyword.arg != "defaults":
                    value = _static_value(keyword.value, manager)
                    if value is not UNKNOWN:
                        found.append((keyword.arg, value))
            return tuple(found)
        return ()
    return ()


@functools.cache
def _function_tree(function: Any) -> Any:
    """The parsed source of a manager/queryset method; shared by every model using the class."""
    import ast
    import inspect
    import textwrap

    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None


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


def _static_value(node: Any, manager: Any) -> Any:
    """A literal, ``self.ATTR`` of the manager or ``self.model.ATTR`` of its model."""
    import ast

    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        pass
    path = []
    while isinstance(node, ast.Attribute):
        path.append(node.attr)
        node = node.value
    if not (isinstance(node, ast.Name) and node.id == "self") or not path:
        return UNKNOWN
    value: Any = manager
    for attr in reversed(path):
        value = getattr(value, attr, UNKNOWN)
        if value is UNKNOWN:
            return UNKNOWN
    return value if isinstance(value, _PRIMITIVES) else UNKNOWN


def _relations(model: Any) -> tuple[RelationFacts, ...]:
    opts = model._meta
    found: list[RelationFacts] = []
    for f in opts.get_fields():
        if f.auto_created and not f.concrete:  # reverse side of a FK / M2M / one-to-one
            accessor = f.get_accessor_name()
            if not accessor or f.one_to_one or f.related_model is None:
                continue
            if f.one_to_many:
                found.append(
                    RelationFacts(accessor, "reverse_fk", _label(f.related_model), (f.field.name,))
                )
            elif f.many_to_many:
                through = _label(f.through) if getattr(f, "through", None) else None
                found.append(RelationFacts(accessor, "m2m", _label(f.related_model), (), through))
        elif f.many_to_many and not f.auto_created:  # forward M2M (not concrete on 6.1+)
            through = _label(f.remote_field.through) if f.remote_field.through else None
            found.append(RelationFacts(f.name, "m2m", _label(f.related_model), (), through))
    for f in opts.private_fields:
        if type(f).__name__ == "GenericRelation" or hasattr(f, "object_id_field_name"):
            if getattr(f, "related_model", None) is None or not hasattr(
                f, "content_type_field_name"
            ):
                continue
            adds = (f.content_type_field_name, f.object_id_field_name)
            found.append(RelationFacts(f.name, "generic", _label(f.related_model), adds))
    return tuple(found)


# -------------------------------------------------------------------------------------- backends

# What each vendor's schema editor creates (Django's _unique_supported()); no server is contacted,
# so server-version-dependent features take the versions Django currently supports.
_VENDOR_FEATURES = {
    "postgresql": {},
    "sqlite": {"deferrable": False, "nulls_distinct": False, "covering": False},
    "mysql": {
        "covering": False,
        "partial": False,
        "functional": False,
        "deferrable": False,
        "nulls_distinct": False,
        "note": "MariaDB ignores functional unique constraints; MySQL 8.0.13+ enforces them",
    },
    "oracle": {"partial": False, "nulls_distinct": False, "covering": False},
}


def _backend_for(model: Any, cache: dict[str, BackendFacts]) -> BackendFacts:
    from django.db import router

    try:
        alias = router.db_for_write(model) or "default"
    except Exception:
        alias = "default"
    if alias not in cache:
        cache[alias] = backend_facts(alias)
    return cache[alias]


def backend_facts(alias: str) -> BackendFacts:
    from django.conf import settings

    engine = str(settings.DATABASES.get(alias, {}).get("ENGINE", ""))
    vendor = database_vendor(alias, engine)
    features = _VENDOR_FEATURES.get(vendor)
    if features is None:
        return BackendFacts(alias=alias, vendor=vendor or engine or "unknown")
    return BackendFacts(alias=alias, vendor=_VENDOR_NAMES.get(vendor, vendor), **features)


_VENDOR_NAMES = {
    "postgresql": "PostgreSQL",
    "sqlite": "SQLite",
    "mysql": "MySQL/MariaDB",
    "oracle": "Oracle",
}


def database_vendor(alias: str, engine: str) -> str:
    """The backend's vendor ("postgresql", "mysql", ...): asked from the backend, which imports its
    driver; read from the ENGINE path when the driver is not importable. Never connects."""
    from django.db import connections

    try:
        return str(connections[alias].vendor)
    except Exception:
        return _vendor_from_engine(engine)


def _vendor_from_engine(engine: str) -> str:
    lowered = engine.lower()
    for needle, vendor in (
        ("postgis", "postgresql"),
        ("postgres", "postgresql"),
        ("psycopg", "postgresql"),
        ("mysql", "mysql"),
        ("mariadb", "mysql"),
        ("sqlite", "sqlite"),
        ("oracle", "oracle"),
    ):
        if needle in lowered:
            return vendor
    return "unknown"


# ------------------------------------------------------------------------------------ import map


def _import_paths(
    model_classes: list[Any],
) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """Dotted paths each model class can be imported under, each module's file, and constants."""
    from django.db.models import Choices

    labels = {m: _label(m) for m in model_classes}
    by_path = {f"{m.__module__}.{m.__qualname__}": label for m, label in labels.items()}
    module_files: dict[str, str] = {}
    constants: dict[str, Any] = {}
    for model in labels:
        _class_constants(f"{model.__module__}.{model.__qualname__}", model, constants, Choices)
    for name, module in list(sys.modules.items()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        file = namespace.get("__file__")
        if isinstance(file, str) and file.endswith(".py"):
            module_files[name] = os.path.realpath(file)
        for attr, value in list(namespace.items()):
            if not isinstance(value, type):
                continue
            if value in labels:
                by_path.setdefault(f"{name}.{attr}", labels[value])
            elif issubclass(value, Choices) and value is not Choices:
                _choices_members(f"{name}.{attr}", value, constants)
    return by_path, module_files, constants


def _class_constants(path: str, cls: type, out: dict[str, Any], choices: type) -> None:
    """Literal attributes a model class defines (or inherits from abstract bases)."""
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith("django."):
            continue
        for attr, value in vars(klass).items():
            if attr.startswith("__"):
                continue
            if isinstance(value, _PRIMITIVES) and not isinstance(value, type(None)):
                out[f"{path}.{attr}"] = value
            elif isinstance(value, type) and issubclass(value, choices):
                _choices_members(f"{path}.{attr}", value, out)


def _choices_members(path: str, choices: Any, out: dict[str, Any]) -> None:
    for member in choices:
        if isinstance(member.value, _PRIMITIVES):
            out[f"{path}.{member.name}"] = member.value


# ---------------------------------------------------------------------------------- once per run

_loaded: dict[str, Schema] = {}


def load_schema(settings_module: str, use_cache: bool = True) -> Schema:
    """The Schema for ``settings_module``: from the on-disk cache when fresh, else built by
    setting Django up (at most once per process)."""
    if settings_module not in _loaded:
        if _loaded:
            (other,) = _loaded
            raise SetupError(
                f"Django is already set up with {other!r} in this process; it cannot also load "
                f"{settings_module!r}."
            )
        if use_cache and not os.environ.get("FLAKE8_DJANGO_GOC_NO_CACHE"):
            from . import schema_cache

            _loaded[settings_module] = schema_cache.cached(settings_module, build_schema)
            gc.freeze()  # the loaded Schema lives as long as the run: keep it out of collections
        else:
            _loaded[settings_module] = build_schema(settings_module)
    return _loaded[settings_module]
