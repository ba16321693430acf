"""Reduce one model's ``_meta`` to ``ModelFacts``: fields, unique sets, relations.

Everything here takes a live model class (Django is set up) and returns plain Schema records.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from flake8_django_goc.schema import (
    UNKNOWN,
    BackendFacts,
    Condition,
    FieldFacts,
    ManagerFacts,
    ModelFacts,
    RelationFacts,
    UniqueSet,
)
from flake8_django_goc.schema.django.backends import backend_for
from flake8_django_goc.schema.django.managers import manager_facts
from flake8_django_goc.schema.django.safe import Warnings, is_a, primitive
from flake8_django_goc.schema.django.setup import first_line


def label_of(model: Any) -> str:
    return str(model._meta.label)


def related_label(f: Any, warnings: Warnings | None) -> str | None:
    """The label of the model a relation points to; None, with a warning, when that model is not
    installed (Django leaves the lazy reference a string: a typo or a missing app)."""
    related = f.related_model
    if related is None:
        return None
    if is_a(related, str):
        owner = getattr(f, "model", None)
        # An M2M's auto-created through model repeats the M2M field's reference: named there.
        if warnings is not None and not (owner is not None and owner._meta.auto_created):
            where = f"{label_of(owner)}.{f.name}" if owner is not None else f.name
            warnings.add(
                f'{where} -> "{related}": the related model is not installed (a typo, or its app '
                "is missing from INSTALLED_APPS; see `python manage.py check`); "
                "that relation is left out"
            )
        return None
    return label_of(related)


def _parents(opts: Any) -> tuple[Any, ...]:
    # Django 5.1 added all_parents; get_parent_list() is deprecated since.
    parents = getattr(opts, "all_parents", None)
    return tuple(parents) if parents is not None else tuple(opts.get_parent_list())


def model_facts(
    model: Any, backends: dict[str, BackendFacts], warnings: Warnings | None = None
) -> ModelFacts:
    warnings = warnings if warnings is not None else Warnings()
    opts = model._meta
    concrete = opts.concrete_model
    copts = concrete._meta
    plain_save = _plain_save(concrete)
    fields = {f.name: _field_facts(f, warnings, plain_save) for f in copts.concrete_fields}
    pk_names = _pk_names(copts)
    unique_sets: list[UniqueSet] = []
    backend = backend_for(concrete, backends)
    for owner in (concrete, *_parents(copts)):
        origin = None if owner is concrete else label_of(owner)
        unique_sets.extend(_unique_sets(owner, origin, backend, warnings))
    module = sys.modules.get(model.__module__)
    file = getattr(module, "__file__", None)
    return ModelFacts(
        label=label_of(model),
        object_name=opts.object_name,
        module=model.__module__,
        qualname=model.__qualname__,
        fields=fields,
        unique_sets=tuple(unique_sets),
        pk=pk_names,
        concrete_label=label_of(concrete) if opts.proxy else None,
        managed=bool(copts.managed),
        managers=_managers(model, warnings),
        default_manager=opts.default_manager.name if opts.default_manager else "objects",
        relations=_relations(model, warnings),
        parents=tuple(label_of(p) for p in _parents(copts)),
        backend=backend,
        file=os.path.realpath(file) if file else None,
        mro=tuple(
            f"{k.__module__}.{k.__qualname__}"
            for k in model.__mro__
            if k is not object and not k.__module__.startswith("django.")
        ),
    )


def _managers(model: Any, warnings: Warnings) -> tuple[ManagerFacts, ...]:
    found = []
    for manager in model._meta.managers:
        try:
            found.append(manager_facts(manager, warnings))
        except Exception as exc:
            cls = type(manager)
            warnings.add(
                f"{label_of(model)}.{getattr(manager, 'name', '?')}: cannot read the manager "
                f"{cls.__module__}.{cls.__qualname__} ({first_line(exc)}); it is left out, so "
                "calls through it are not judged. Please report this to flake8-django-goc"
            )
    return tuple(found)


def _pk_names(opts: Any) -> tuple[str, ...]:
    pk = opts.pk
    composite = getattr(pk, "field_names", None)  # CompositePrimaryKey, Django 5.2+
    return tuple(composite) if composite else (pk.name,)


def _field_facts(f: Any, warnings: Warnings | None = None, plain_save: bool = True) -> FieldFacts:
    from django.db.models import AutoField, Field
    from django.db.models.fields import NOT_PROVIDED

    declared = f.has_default() or getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED
    default = _created_default(f)
    return FieldFacts(
        name=f.name,
        attname=f.attname,
        null=bool(f.null),
        primary_key=bool(f.primary_key),
        unique=bool(f.unique),
        is_relation=bool(f.is_relation),
        related_label=related_label(f, warnings) if f.is_relation else None,
        default=default,
        owner=label_of(f.model._meta.concrete_model) if getattr(f, "model", None) else None,
        auto=isinstance(f, AutoField),  # BigAutoField and SmallAutoField too (AutoFieldMeta)
        fixed_default=bool(
            declared
            and plain_save
            and default is not UNKNOWN
            and type(f).pre_save is Field.pre_save  # not auto_now, AutoSlugField...
        ),
        reverse_accessor=_reverse_accessor(f),
    )


def _reverse_accessor(f: Any) -> str | None:
    """The one-row reverse accessor of a unique relation (``user.profile``), if any."""
    if not (f.is_relation and f.unique and not f.primary_key) or f.remote_field is None:
        return None
    try:
        name = f.remote_field.get_accessor_name()
    except Exception:  # a lazy relation to a model that is not installed
        return None
    return name if isinstance(name, str) else None


def _plain_save(model: Any) -> bool:
    """The model's save() is Django's: no project class computes values there."""
    from django.db.models import Model

    return all(
        "save" not in vars(k) for k in model.__mro__ if k is not Model and issubclass(k, Model)
    )


def _created_default(f: Any) -> Any:
    """The value Django writes for a field nobody set, if it is a plain literal."""
    if f.has_default():
        return primitive(f.default)
    from django.db.models.fields import NOT_PROVIDED

    db_default = getattr(f, "db_default", NOT_PROVIDED)  # Django 5.0+
    if db_default is not NOT_PROVIDED:
        return primitive(getattr(db_default, "value", UNKNOWN))  # Value(x)
    if f.primary_key:
        return UNKNOWN  # generated by the database
    try:
        value = f.get_default()
    except Exception:
        return UNKNOWN
    return primitive(value)


def _unique_sets(
    owner: Any, origin: str | None, backend: BackendFacts, warnings: Warnings
) -> list[UniqueSet]:
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
        try:
            fields = tuple(opts.get_field(n).name for n in names)
        except Exception as exc:  # Django's check (models.E012) reports it; we leave it out
            warnings.add(
                f"{label_of(owner)}: cannot read unique_together {tuple(names)!r} "
                f"({first_line(exc)}); it is left out (see `python manage.py check`)"
            )
            continue
        sets.append(UniqueSet(fields, "unique_together", origin=origin))
    from django.db.models import UniqueConstraint

    for constraint in opts.constraints:
        if is_a(constraint, UniqueConstraint):
            try:
                sets.append(_constraint_set(opts, constraint, origin, backend))
            except Exception as exc:
                name = getattr(constraint, "name", None)
                warnings.add(
                    f"{label_of(owner)}: cannot read UniqueConstraint {name!r} "
                    f"({first_line(exc)}); it is left out, so calls it would cover are "
                    "reported (see `python manage.py check`; if it is valid, please report this "
                    "to flake8-django-goc)"
                )
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
            if is_a(value, Value):
                value = value.value
            if is_a(value, (list, tuple, set, frozenset)):
                items = tuple(primitive(v) for v in value)
                value = UNKNOWN if UNKNOWN in items else items
            else:
                value = primitive(value)
            if value is UNKNOWN:
                readable = False
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


def _relations(model: Any, warnings: Warnings) -> tuple[RelationFacts, ...]:
    opts = model._meta
    found: list[RelationFacts] = []
    for f in opts.get_fields():
        if f.auto_created and not f.concrete:  # reverse side of a FK / M2M / one-to-one
            accessor = f.get_accessor_name()
            target = related_label(f, warnings)
            if not accessor or f.one_to_one or target is None:
                continue
            if f.one_to_many:
                found.append(RelationFacts(accessor, "reverse_fk", target, (f.field.name,)))
            elif f.many_to_many:
                through = _through(getattr(f, "through", None))
                found.append(RelationFacts(accessor, "m2m", target, (), through))
        elif f.many_to_many and not f.auto_created:  # forward M2M (not concrete on 6.1+)
            target = related_label(f, warnings)
            if target is None:
                continue
            through = _through(f.remote_field.through)
            found.append(RelationFacts(f.name, "m2m", target, (), through))
    for f in opts.private_fields:
        if type(f).__name__ == "GenericRelation" or hasattr(f, "object_id_field_name"):
            if getattr(f, "related_model", None) is None or not hasattr(
                f, "content_type_field_name"
            ):
                continue
            target = related_label(f, warnings)
            if target is None:
                continue
            adds = (f.content_type_field_name, f.object_id_field_name)
            found.append(RelationFacts(f.name, "generic", target, adds))
    return tuple(found)


def _through(through: Any) -> str | None:
    # A through model given as a string that names no installed model stays a string.
    return label_of(through) if through is not None and not is_a(through, str) else None
