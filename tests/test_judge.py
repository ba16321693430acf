"""The judge on hand-built Schema objects: no Django, no database."""

from __future__ import annotations

from flake8_django_goc.find.calls import find_calls
from flake8_django_goc.judge.verdicts import judge
from flake8_django_goc.resolve.receivers import ModuleContext, Target, resolve
from flake8_django_goc.schema import (
    UNKNOWN,
    BackendFacts,
    Condition,
    FieldFacts,
    ManagerFacts,
    ModelFacts,
    Schema,
    UniqueSet,
)

OBJECTS = (ManagerFacts("objects", "django.db.models.manager.Manager"),)


def model(
    *fields: FieldFacts, sets: tuple[UniqueSet, ...] = (), backend: BackendFacts | None = None
) -> ModelFacts:
    all_fields = (FieldFacts("id", "id", primary_key=True, unique=True), *fields)
    return ModelFacts(
        label="app.Thing",
        object_name="Thing",
        module="app.models",
        qualname="Thing",
        fields={f.name: f for f in all_fields},
        unique_sets=(UniqueSet(("id",), "primary key"), *sets),
        managers=OBJECTS,
        backend=backend or BackendFacts(vendor="PostgreSQL"),
    )


def codes(thing: ModelFacts, call: str) -> list[str]:
    schema = Schema(models={thing.label: thing}, by_path={"app.models.Thing": thing.label})
    facts, calls = find_calls(f"from app.models import Thing\n{call}\n")
    (site,) = calls
    target = resolve(site, ModuleContext(facts, "app.views"), schema)
    assert isinstance(target, Target), target
    return sorted(f.code for f in judge(site, target))


NAME = FieldFacts("name", "name", default="")
UNIQUE_NAME = FieldFacts("name", "name", unique=True, default="")
OWNER = FieldFacts("owner", "owner_id", is_relation=True, related_label="auth.User")
STATUS = FieldFacts("status", "status", default="open")
ACTIVE = FieldFacts("active", "active", default=True)
CAMPAIGN = FieldFacts("campaign", "campaign", null=True)


def test_unique_field_covers_and_plain_field_does_not() -> None:
    thing = model(UNIQUE_NAME, sets=(UniqueSet(("name",), "unique=True"),))
    assert codes(thing, "Thing.objects.get_or_create(name='a')") == []
    assert codes(thing, "Thing.objects.get_or_create(name='a', status='x')") == []
    assert codes(model(NAME), "Thing.objects.get_or_create(name='a')") == ["DGC001"]


def test_pk_and_attname_normalise() -> None:
    together = UniqueSet(("owner", "name"), "unique_together")
    thing = model(NAME, OWNER, sets=(together,))
    assert codes(thing, "Thing.objects.get_or_create(pk=1)") == []
    assert codes(thing, "Thing.objects.get_or_create(owner_id=1, name='a')") == []
    assert codes(thing, "Thing.objects.get_or_create(owner=u)") == ["DGC001"]


def test_double_underscore_keys_are_not_written() -> None:
    thing = model(UNIQUE_NAME, sets=(UniqueSet(("name",), "unique=True"),))
    assert codes(thing, "Thing.objects.get_or_create(name__iexact='a')") == ["DGC001"]
    assert codes(thing, "Thing.objects.get_or_create(name__exact='a')") == ["DGC001"]


def test_defaults_never_make_a_lookup_safe() -> None:
    thing = model(UNIQUE_NAME, STATUS, sets=(UniqueSet(("name",), "unique=True"),))
    assert codes(thing, "Thing.objects.get_or_create(status='x', defaults={'name': 'a'})") == [
        "DGC001"
    ]


def test_star_star_literal_dict_expands_and_dynamic_is_opt_in() -> None:
    thing = model(UNIQUE_NAME, sets=(UniqueSet(("name",), "unique=True"),))
    assert codes(thing, "Thing.objects.get_or_create(**{'name': 'a'})") == []
    assert codes(model(NAME), "Thing.objects.get_or_create(**{'name': 'a'})") == ["DGC001"]
    assert codes(model(NAME), "Thing.objects.get_or_create(**kwargs)") == ["DGC101"]


def test_positional_calls_are_silent() -> None:
    assert codes(model(NAME), "Thing.objects.get_or_create({'name': 'a'}, name='b')") == []


def test_an_empty_lookup_needs_a_unique_set_every_created_row_fills_alike() -> None:
    # No lookup: the get() matches any row; the pk (numbered per row) never stops a second one.
    assert codes(model(NAME), "Thing.objects.get_or_create()") == ["DGC001"]
    assert codes(model(NAME), "Thing.objects.update_or_create(defaults={'name': 'a'})") == [
        "DGC001"
    ]
    # A unique field every created row fills with the same value: the second INSERT conflicts.
    name_set = (UniqueSet(("name",), "unique=True"),)
    assert codes(model(UNIQUE_NAME, sets=name_set), "Thing.objects.get_or_create()") == []
    assert (
        codes(
            model(UNIQUE_NAME, sets=name_set), "Thing.objects.get_or_create(defaults={'name': n})"
        )
        == []
    )
    assert codes(
        model(UNIQUE_NAME, sets=name_set), "Thing.objects.get_or_create(defaults={'name': None})"
    ) == ["DGC001"]
    no_default = FieldFacts("name", "name", unique=True, default=UNKNOWN)  # a callable default
    assert codes(model(no_default, sets=name_set), "Thing.objects.get_or_create()") == ["DGC001"]


def test_conditional_constraint_evaluated_on_created_row() -> None:
    condition = Condition("AND", False, (("active", True),), "Q(active=True)")
    partial = UniqueSet(("owner",), "UniqueConstraint", name="one_active", condition=condition)
    thing = model(OWNER, ACTIVE, sets=(partial,))
    assert codes(thing, "Thing.objects.get_or_create(owner=u)") == []  # default True
    assert codes(thing, "Thing.objects.get_or_create(owner=u, active=True)") == []
    assert codes(thing, "Thing.objects.get_or_create(owner=u, defaults={'active': False})") == [
        "DGC002"
    ]
    assert codes(thing, "Thing.objects.get_or_create(owner=u, active=flag)") == ["DGC002"]
    assert codes(thing, "Thing.objects.get_or_create(owner=u, defaults=values)") == ["DGC002"]


def test_negated_or_and_in_conditions() -> None:
    condition = Condition(
        "OR", True, (("status__in", ("closed", "void")), ("active", False)), "~Q(...)"
    )
    partial = UniqueSet(("owner",), "UniqueConstraint", name="c", condition=condition)
    thing = model(OWNER, ACTIVE, STATUS, sets=(partial,))
    assert codes(thing, "Thing.objects.get_or_create(owner=u)") == []
    assert codes(thing, "Thing.objects.get_or_create(owner=u, status='void')") == ["DGC002"]


def test_unreadable_condition_is_not_shown() -> None:
    condition = Condition("AND", False, (("active", True),), "Q(...)")
    partial = UniqueSet(
        ("owner",), "UniqueConstraint", name="c", condition=condition, condition_readable=False
    )
    assert codes(model(OWNER, ACTIVE, sets=(partial,)), "Thing.objects.get_or_create(owner=u)") == [
        "DGC002"
    ]


def test_deferred_constraint() -> None:
    deferred = UniqueSet(("name",), "UniqueConstraint", name="d", deferred=True)
    assert codes(model(NAME, sets=(deferred,)), "Thing.objects.get_or_create(name='a')") == [
        "DGC003"
    ]


def test_nulls() -> None:
    together = UniqueSet(("name", "campaign"), "unique_together")
    thing = model(NAME, CAMPAIGN, sets=(together,))
    assert codes(thing, "Thing.objects.get_or_create(name='a', campaign=None)") == ["DGC004"]
    assert codes(thing, "Thing.objects.get_or_create(name='a', campaign='x')") == []
    not_distinct = UniqueSet(
        ("name", "campaign"), "UniqueConstraint", name="n", nulls_distinct=False
    )
    thing = model(NAME, CAMPAIGN, sets=(not_distinct,))
    assert codes(thing, "Thing.objects.get_or_create(name='a', campaign=None)") == []


def test_backend_that_skips_the_constraint() -> None:
    condition = Condition("AND", False, (("active", True),), "Q(active=True)")
    partial = UniqueSet(
        ("owner",),
        "UniqueConstraint",
        name="c",
        condition=condition,
        unenforced_reason="MySQL/MariaDB does not create conditional (partial) unique constraints",
    )
    thing = model(OWNER, ACTIVE, sets=(partial,))
    schema = Schema(models={thing.label: thing}, by_path={"app.models.Thing": thing.label})
    facts, (site,) = find_calls(
        "from app.models import Thing\nThing.objects.get_or_create(owner=u)"
    )
    target = resolve(site, ModuleContext(facts, "app.views"), schema)
    assert isinstance(target, Target)
    (finding,) = judge(site, target)
    assert finding.code == "DGC001"
    assert "does not create conditional" in finding.message


def test_functional_constraint_and_iexact_written_through_defaults() -> None:
    lower = UniqueSet(
        ("name",), "UniqueConstraint", name="l", expressions="Lower(F(name))", ci_fields=("name",)
    )
    thing = model(NAME, sets=(lower,))
    assert codes(thing, "Thing.objects.get_or_create(name='a')") == []
    assert codes(thing, "Thing.objects.get_or_create(name__iexact=n, defaults={'name': n})") == []
    assert codes(thing, "Thing.objects.get_or_create(name__iexact=n)") == ["DGC001"]
    assert codes(thing, "Thing.objects.get_or_create(name__iexact=n, defaults={'name': m})") == [
        "DGC001"
    ]


def test_defaults_repeating_a_lookup_key() -> None:
    thing = model(UNIQUE_NAME, sets=(UniqueSet(("name",), "unique=True"),))
    assert codes(thing, "Thing.objects.get_or_create(name='a', defaults={'name': 'b'})") == [
        "DGC005"
    ]
    assert codes(thing, "Thing.objects.get_or_create(name=n, defaults={'name': n})") == []
    assert codes(thing, "Thing.objects.update_or_create(name='a', defaults={'name': 'b'})") == [
        "DGC005"
    ]
    # update_or_create with create_defaults: defaults only apply to updates.
    assert (
        codes(
            thing,
            "Thing.objects.update_or_create(name='a', defaults={'name': 'b'}, create_defaults={})",
        )
        == []
    )


def test_filters_before_the_call() -> None:
    thing = model(UNIQUE_NAME, STATUS, sets=(UniqueSet(("name",), "unique=True"),))
    assert codes(thing, "Thing.objects.filter(status='closed').get_or_create(name='a')") == [
        "DGC006"
    ]
    assert codes(thing, "Thing.objects.filter(status='open').get_or_create(name='a')") == []
    assert codes(thing, "Thing.objects.exclude(status='closed').get_or_create(name='a')") == []
    assert codes(thing, "Thing.objects.filter(status=s).get_or_create(name='a', status=s)") == []
    assert codes(model(NAME, STATUS), "Thing.objects.filter(Q(x=1)).get_or_create(name='a')") == [
        "DGC001",
        "DGC006",
    ]


def test_findings_carry_the_constraint_fix() -> None:
    thing = model(NAME, OWNER)
    schema = Schema(models={thing.label: thing}, by_path={"app.models.Thing": thing.label})
    # Not a literal name: a literal would make the partial constraint the fix (test_advice.py).
    source = "from app.models import Thing\nThing.objects.get_or_create(owner=u, name=n)"
    facts, (site,) = find_calls(source)
    target = resolve(site, ModuleContext(facts, "app.views"), schema)
    assert isinstance(target, Target)
    (finding,) = judge(site, target)
    assert finding.fix is not None
    assert finding.fix.code() == (
        'models.UniqueConstraint(fields=["owner", "name"], name="app_thing_owner_name_uniq")'
    )
    assert finding.fix.code() in finding.message


def test_constraint_names_fit_the_backend_limits() -> None:
    from flake8_django_goc.judge.verdicts import constraint_fix

    fields = tuple(
        FieldFacts(f"field_number_{i}", f"field_number_{i}", owner="app.Thing") for i in range(6)
    )
    for backend, limit in (
        (BackendFacts(vendor="PostgreSQL"), 63),
        (BackendFacts(vendor="Oracle"), 30),
    ):
        thing = model(*fields, backend=backend)
        fix = constraint_fix(thing, tuple(f.name for f in fields))
        assert fix is not None and len(fix.name) <= limit and fix.name.endswith("_uniq")
        assert fix.name == constraint_fix(thing, tuple(f.name for f in fields)).name  # stable


def test_no_constraint_fix_across_multi_table_parents() -> None:
    from flake8_django_goc.judge.verdicts import constraint_fix

    parent_field = FieldFacts("name", "name", owner="app.Parent")
    child_field = FieldFacts("kind", "kind", owner="app.Thing")
    thing = model(parent_field, child_field)
    assert constraint_fix(thing, ("name", "kind")) is None
    fix = constraint_fix(thing, ("name",))
    assert fix is not None and fix.model == "app.Parent"
