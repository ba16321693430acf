"""The Schema: plain, frozen facts about a project's models.

Built once per process from Django's ``_meta`` (see ``schema.django``); resolve and judge only ever
see these records, so they stay free of Django and unit-testable with hand-built values.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


# A value we could not turn into a plain Python literal (a callable default, an F() expression...).
class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"

    def __reduce__(self) -> str:
        return "UNKNOWN"  # pickles as the module's singleton (records cross process boundaries)


UNKNOWN: Any = _Unknown()

# Schema.factories' value for ``def load_model(name): return apps.get_model(*name.split("."))``:
# the model is the one its argument names ("app_label.Model"), told at each call.
BY_ARGUMENT = "*"


@dataclass(frozen=True)
class FieldFacts:
    name: str
    attname: str
    null: bool = False
    primary_key: bool = False
    unique: bool = False
    is_relation: bool = False
    related_label: str | None = None
    # What a created row gets when neither lookup nor defaults set it (UNKNOWN if callable).
    default: Any = None
    owner: str | None = None  # label of the model whose table has the column (MTI parents)
    auto: bool = False  # an AutoField: the database numbers the rows
    # The created row gets `default` as written in the field's declaration (a literal default=
    # or db_default=, a plain pre_save, no save() override on the model): DGC011.
    fixed_default: bool = False
    # A unique relation's reverse accessor on the related model (`user.profile`), read as a
    # check by `hasattr(user, "profile")` or `try: user.profile except ...DoesNotExist`.
    reverse_accessor: str | None = None


@dataclass(frozen=True)
class Condition:
    """A ``Q`` tree reduced to plain data: leaves are ``(lookup, value)``; value may be UNKNOWN."""

    connector: str = "AND"
    negated: bool = False
    children: tuple[Condition | tuple[str, Any], ...] = ()
    text: str = ""


@dataclass(frozen=True)
class UniqueSet:
    """One database uniqueness guarantee, in the field names of the model it is reported on."""

    fields: tuple[str, ...]
    source: (
        str  # "primary key", "unique=True", "OneToOneField", "unique_together", "UniqueConstraint"
    )
    name: str | None = None  # constraint name, when it has one
    origin: str | None = None  # label of the model that declares it (MTI parent), if not the model
    condition: Condition | None = None
    # Whether the condition could be read at all (a Q with F()/custom lookups cannot).
    condition_readable: bool = True
    deferred: bool = False  # Deferrable.DEFERRED
    nulls_distinct: bool | None = None  # None: backend default (distinct)
    # Functional constraints: fields the expressions reference; ci_fields are those under
    # Lower()/Upper() only, which a `field__iexact` lookup written through defaults can pin.
    expressions: str | None = None
    ci_fields: tuple[str, ...] = ()
    # Backend support: None when enforced, else why the database does not create it.
    unenforced_reason: str | None = None

    @property
    def functional(self) -> bool:
        return self.expressions is not None

    def describe(self) -> str:
        if self.source == "UniqueConstraint":
            what = f"UniqueConstraint {self.name!r}" if self.name else "a UniqueConstraint"
        elif self.source == "unique_together":
            what = f"unique_together {self.fields}"
        else:
            what = f"{self.source} on {', '.join(self.fields)}"
        return f"{what} (on {self.origin})" if self.origin else what


@dataclass(frozen=True)
class ManagerFacts:
    name: str
    class_path: str  # dotted path of the manager class
    queryset_path: str | None = None
    # Literal keyword arguments an overridden get_or_create() adds to the lookup
    # (`super().get_or_create(status="open", **kwargs)`), and literal filters an overridden
    # get_queryset() applies (`super().get_queryset().filter(status="open")`).
    lookup: tuple[tuple[str, Any], ...] = ()
    filters: tuple[tuple[str, Any], ...] = ()
    # Custom manager/queryset methods that return a queryset of the same rows, with the filters
    # they apply as (method, key, value) triples (value UNKNOWN when not a literal):
    # `def for_kind(self, kind): return self.filter(kind=kind)`.
    methods: tuple[tuple[str, tuple[tuple[str, str, Any], ...]], ...] = ()
    # Project classes in the manager's and its queryset's MRO (base managers shared by several
    # leaf managers), so `self` in a base class resolves too.
    class_mro: tuple[str, ...] = ()
    # get_or_create-family methods a project class of the manager or queryset reimplements
    # (more than a pass-through to super()): calls through them are not judged (DGC102).
    overrides: tuple[str, ...] = ()
    # Lookup keys the queryset's own get()/filter() take out of the keyword arguments and
    # translate (nautobot's ``PrefixQuerySet.get(prefix=...)`` into network, prefix_length...):
    # (key, "module.Class.method", fields the translation names, or None when not known).
    translated: tuple[tuple[str, str, tuple[str, ...] | None], ...] = ()
    # The source of each reimplemented family method (as in ``overrides``), for reading what
    # it does to a call's keyword arguments (judge/override.py).
    override_sources: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RelationFacts:
    """A related-manager accessor on a model instance (``basket.lines``, ``book.tags``)."""

    accessor: str
    kind: str  # "reverse_fk", "m2m", "generic"
    target: str  # label of the model the manager returns
    # Fields of the target the manager adds to the created row (the FK, or content type + id).
    adds: tuple[str, ...] = ()
    through: str | None = None  # M2M: label of the through model


@dataclass(frozen=True)
class BackendFacts:
    alias: str = "default"
    vendor: str = "unknown"
    partial: bool = True
    functional: bool = True
    deferrable: bool = True
    nulls_distinct: bool = True
    covering: bool = True  # UniqueConstraint(include=...)
    note: str = ""  # e.g. "MySQL or MariaDB: the server type is not known"


@dataclass(frozen=True, eq=False)  # one record per model: identity is equality (and hashable)
class ModelFacts:
    label: str  # "shop.Order"
    object_name: str
    module: str
    qualname: str
    fields: dict[str, FieldFacts]
    unique_sets: tuple[UniqueSet, ...]
    pk: tuple[str, ...] = ("id",)
    concrete_label: str | None = None  # set on proxies
    managed: bool = True
    managers: tuple[ManagerFacts, ...] = ()
    default_manager: str = "objects"
    relations: tuple[RelationFacts, ...] = ()
    parents: tuple[str, ...] = ()  # MTI parents, nearest first
    backend: BackendFacts = field(default_factory=BackendFacts)
    file: str | None = None
    # Dotted paths of the project classes in its MRO (abstract bases, mixins), itself first.
    mro: tuple[str, ...] = ()

    def field_for_key(self, key: str) -> tuple[str, ...] | None:
        """Field names a plain lookup key names: ``pk`` and attnames normalised; None if unknown."""
        if key == "pk":
            return self.pk
        found = self.fields.get(key)
        if found is not None:
            return (found.name,)
        for facts in self.fields.values():
            if facts.attname == key:
                return (facts.name,)
        return None

    def manager_names(self) -> frozenset[str]:
        return frozenset(m.name for m in self.managers) | {"_default_manager", "_base_manager"}


@dataclass(frozen=True)
class SettingsFinding:
    """A finding in a settings file (not tied to a get_or_create() call): DGC007."""

    path: str  # real path of the settings source file
    line: int  # 1-based
    col: int  # 0-based, as flake8 plugins yield it
    code: str
    message: str

    def text(self) -> str:
        return f"{self.code} {self.message}"


@dataclass
class Schema:
    """All models of a project plus the indexes resolve needs. Built once per process."""

    models: dict[str, ModelFacts]
    # Dotted paths under which a model class can be imported (its module and re-exports).
    by_path: dict[str, str] = field(default_factory=dict)
    # Real file path of each imported module, for naming the module of the file being linted.
    module_files: dict[str, str] = field(default_factory=dict)
    # Literal class attributes and Choices members (`Order.Status.PAID`) by canonical dotted path,
    # so lookups written with constants can be evaluated against conditions.
    constants: dict[str, Any] = field(default_factory=dict)
    # Functions that return a model class, by dotted path: `waffle.get_waffle_flag_model` ->
    # "waffle.Flag" (a single `return apps.get_model(...)` of literals or a setting).
    factories: dict[str, str] = field(default_factory=dict)
    django_version: str = ""
    settings_module: str = ""
    user_model: str | None = None  # settings.AUTH_USER_MODEL, when django.contrib.auth is used
    # DGC007: findings in the settings files themselves (flake8_django_goc.isolation).
    settings_findings: tuple[SettingsFinding, ...] = ()
    # What could not be read (a relation to a model that is not installed, a manager's source...),
    # each a sentence naming it; left out of the facts. Front ends print each once per run.
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.module_by_file = {path: name for name, path in self.module_files.items()}
        self.by_lower_label = {label.lower(): label for label in self.models}
        # Models by a project class in their MRO (abstract bases, mixins), and
        # (model, manager name) pairs by the manager or queryset class the manager uses.
        self.by_base: dict[str, list[str]] = {}
        self.by_manager_class: dict[str, list[tuple[str, str]]] = {}
        for label, model in self.models.items():
            for path in model.mro:
                self.by_base.setdefault(path, []).append(label)
            for manager in model.managers:
                paths = {manager.class_path, manager.queryset_path, *manager.class_mro} - {None}
                for path in sorted(str(p) for p in paths):
                    self.by_manager_class.setdefault(path, []).append((label, manager.name))
        self.by_accessor: dict[str, list[tuple[str, RelationFacts]]] = {}
        for label, model in self.models.items():
            for relation in model.relations:
                self.by_accessor.setdefault(relation.accessor, []).append((label, relation))

    def model_for_path(self, dotted: str) -> ModelFacts | None:
        label = self.by_path.get(dotted)
        return self.models.get(label) if label else None


_SCALARS = (str, int, float, bool, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def to_jsonable(obj: Any) -> Any:
    """Serialise Schema records compactly: tuples as lists, a record as {"@": type, "v": values}
    (positional: a big project's Schema is mostly field names otherwise)."""
    kind = type(obj)
    if kind in _SCALARS:
        return obj
    if obj is UNKNOWN:
        return {"@": "?"}
    if kind is dict:
        return {k: to_jsonable(v) for k, v in obj.items()}
    if kind is tuple or kind is list:
        return [to_jsonable(v) for v in obj]
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(obj))
    if names is not None:
        return {"@": kind.__name__, "v": [to_jsonable(getattr(obj, n)) for n in names]}
    return obj


_TYPES = {
    cls.__name__: cls
    for cls in (
        FieldFacts,
        Condition,
        UniqueSet,
        ManagerFacts,
        RelationFacts,
        BackendFacts,
        SettingsFinding,
    )
} | {"ModelFacts": ModelFacts, "Schema": Schema}


def from_jsonable(data: Any) -> Any:
    kind = type(data)
    if kind is list:
        return tuple(from_jsonable(v) for v in data)
    if kind is dict:
        tag = data.get("@")
        if tag is None:
            return {k: from_jsonable(v) for k, v in data.items()}
        if tag == "?":
            return UNKNOWN
        return _TYPES[tag](*(from_jsonable(v) for v in data["v"]))
    return data


def findings_for_file(findings: Iterable[SettingsFinding], filename: str) -> list[SettingsFinding]:
    """The findings that belong to ``filename`` (as flake8 or the command names it)."""
    findings = list(findings)
    if not findings:
        return []
    try:
        path = os.path.realpath(filename)
    except (OSError, ValueError):
        return []
    return [f for f in findings if f.path == path]
