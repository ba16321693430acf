"""Advice that fits the project: every fix names only what the model's database can do, every
constraint offered for DGC001/DGC002 says which business rule it asserts, and a lookup that pins
a field to a literal is offered the partial constraint first.

The judge on hand-built Schemas (as test_judge.py), the fix-models edit in process (as
test_fix_models.py); the whole command and the race on PostgreSQL are in test_fix_models.py and
the case files (case_partial_fix.py).
"""

from __future__ import annotations

import dataclasses
import textwrap

import pytest
from flake8_run import FORMAT, parse_reports, run_flake8
from test_fix_models import edit
from test_judge import CAMPAIGN, NAME, OWNER, STATUS, model

from flake8_django_goc.find.calls import find_calls
from flake8_django_goc.judge.verdicts import judge
from flake8_django_goc.resolve.receivers import ModuleContext, Target, resolve
from flake8_django_goc.rules import ConstraintFix, Finding, constraint_name
from flake8_django_goc.schema import (
    BackendFacts,
    Condition,
    ModelFacts,
    Schema,
    UniqueSet,
)

POSTGRESQL = BackendFacts(vendor="PostgreSQL")
SQLITE = BackendFacts(vendor="SQLite", deferrable=False, nulls_distinct=False, covering=False)
MYSQL = BackendFacts(
    vendor="MySQL/MariaDB",
    covering=False,
    partial=False,
    functional=False,
    deferrable=False,
    nulls_distinct=False,
)
ORACLE = BackendFacts(vendor="Oracle", partial=False, nulls_distinct=False, covering=False)


def findings(thing: ModelFacts, call: str) -> list[Finding]:
    schema = Schema(models={thing.label: thing}, by_path={"app.models.Thing": thing.label})
    facts, (site,) = find_calls(f"from app.models import Thing\n{call}\n")
    target = resolve(site, ModuleContext(facts, "app.views"), schema)
    assert isinstance(target, Target), target
    return judge(site, target)


def one(thing: ModelFacts, call: str) -> Finding:
    (finding,) = findings(thing, call)
    return finding


def with_fix(thing: ModelFacts, fix: ConstraintFix) -> ModelFacts:
    """The model once the fix is applied, as Django would read it."""
    condition = None
    if fix.condition:
        text = "Q(" + ", ".join(f"{k}={v!r}" for k, v in fix.condition) + ")"
        condition = Condition("AND", False, fix.condition, text)
    added = UniqueSet(
        fix.fields,
        "UniqueConstraint",
        name=fix.name,
        condition=condition,
        nulls_distinct=fix.nulls_distinct,
        unenforced_reason=None if not fix.condition or thing.backend.partial else "unsupported",
    )
    return model(
        *(f for name, f in thing.fields.items() if name != "id"),
        sets=(*thing.unique_sets[1:], added),
        backend=thing.backend,
    )


ORDER_CALL = "Thing.objects.get_or_create(owner=u, status='new')"


# ---------------------------------------------------------------- a field pinned to a literal


@pytest.mark.parametrize("backend", [POSTGRESQL, SQLITE])
def test_a_literal_in_the_lookup_is_offered_the_partial_constraint_first(
    backend: BackendFacts,
) -> None:
    thing = model(OWNER, STATUS, backend=backend)
    finding = one(thing, ORDER_CALL)
    assert finding.code == "DGC001" and finding.fix is not None
    fix = finding.fix
    assert (fix.fields, fix.condition) == (("owner",), (("status", "new"),))
    partial = (
        'models.UniqueConstraint(fields=["owner"], condition=models.Q(status="new"), '
        'name="app_thing_owner_status_new_uniq")'
    )
    plain = (
        'models.UniqueConstraint(fields=["owner", "status"], name="app_thing_owner_status_uniq")'
    )
    assert fix.code() == partial
    message = finding.message
    assert message.index(partial) < message.index(plain)  # the unconditional one stays second
    assert (
        'this makes (owner) unique for every row with status="new": check that it is the '
        "business rule" in message
    )
    assert (
        "this makes (owner, status) unique for every row: check that it is the business rule"
        in (message)
    )
    # The judge reads the constraint it proposed as covering the call.
    assert findings(with_fix(thing, fix), ORDER_CALL) == []


def test_mysql_is_offered_only_the_unconditional_constraint() -> None:
    thing = model(OWNER, STATUS, backend=MYSQL)
    finding = one(thing, ORDER_CALL)
    assert finding.fix is not None
    assert (finding.fix.fields, finding.fix.condition) == (("owner", "status"), ())
    assert "condition=" not in finding.message
    assert "this makes (owner, status) unique for every row: check that" in finding.message
    assert findings(with_fix(thing, finding.fix), ORDER_CALL) == []


def test_a_partial_constraint_on_postgresql_covers_and_mysql_skips_it() -> None:
    fix = one(model(OWNER, STATUS), ORDER_CALL).fix
    assert fix is not None
    on_mysql = with_fix(model(OWNER, STATUS, backend=MYSQL), fix)
    assert [f.code for f in findings(on_mysql, ORDER_CALL)] == ["DGC001"]


def test_a_filter_only_key_does_not_silently_narrow_the_constraint() -> None:
    """`owner=u, status__in=[...]`: the INSERT writes owner only; the only constraint that makes
    the call safe is owner alone, and the message says what that asserts."""
    finding = one(model(OWNER, STATUS), "Thing.objects.get_or_create(owner=u, status__in=['a'])")
    assert finding.fix is not None and finding.fix.fields == ("owner",)
    assert not finding.fix.condition
    assert (
        "(this makes (owner) unique for every row: check that it is the business rule)"
        in finding.message
    )


def test_only_literals_are_conditions() -> None:
    call = "Thing.objects.get_or_create(owner=u, status=s, name='a')"
    fix = one(model(OWNER, STATUS, NAME), call).fix
    assert fix is not None and fix.fields == ("owner", "status")
    assert fix.condition == (("name", "a"),)
    all_literal = one(model(STATUS, NAME), "Thing.objects.get_or_create(status='a', name='b')")
    assert all_literal.fix is not None and all_literal.fix.condition == ()


def test_dgc002_states_the_business_rule_of_its_unconditional_fix() -> None:
    active_only = UniqueSet(
        ("owner",),
        "UniqueConstraint",
        name="one_active",
        condition=Condition("AND", False, (("status", "open"),), "Q(status='open')"),
    )
    finding = one(
        model(OWNER, STATUS, sets=(active_only,)),
        "Thing.objects.get_or_create(owner=u, status='void')",
    )
    assert finding.code == "DGC002" and finding.fix is not None
    # The lookup's own literal first, as for DGC001; the unconditional set second.
    assert finding.fix.condition == (("status", "void"),)
    partial_rule = 'this makes (owner) unique for every row with status="void": check that'
    plain_rule = "this makes (owner) unique for every row: check that it is the business rule"
    assert finding.message.index(partial_rule) < finding.message.index(plain_rule)
    on_mysql = model(OWNER, STATUS, sets=(active_only,), backend=MYSQL)
    # (on MySQL the conditional constraint itself is not created: DGC001, unconditional fix)
    mysql = one(on_mysql, "Thing.objects.get_or_create(owner=u, status='void')")
    assert mysql.fix is not None and mysql.fix.condition == ()


# ---------------------------------------------------------------- DGC004 by what NULLs can do

COUPON = UniqueSet(("name", "campaign"), "unique_together")
NULL_CALL = "Thing.objects.get_or_create(name='a', campaign=None)"


def test_dgc004_on_postgresql_offers_nulls_distinct_then_the_partial_constraint() -> None:
    finding = one(model(NAME, CAMPAIGN, sets=(COUPON,)), NULL_CALL)
    assert finding.code == "DGC004" and finding.fix is not None
    assert finding.fix.nulls_distinct is False
    assert "nulls_distinct=False" in finding.message
    assert 'fields=["name"], condition=models.Q(campaign__isnull=True)' in finding.message


@pytest.mark.parametrize("backend", [SQLITE])
def test_dgc004_where_partial_indexes_exist_but_not_nulls_distinct(backend: BackendFacts) -> None:
    thing = model(NAME, CAMPAIGN, sets=(COUPON,), backend=backend)
    finding = one(thing, NULL_CALL)
    assert finding.code == "DGC004" and finding.fix is not None
    assert "nulls_distinct" not in finding.fix.code()
    assert "nulls_distinct=False" not in finding.message
    assert finding.fix.code() == (
        'models.UniqueConstraint(fields=["name"], condition=models.Q(campaign__isnull=True), '
        'name="app_thing_name_campaign_null_true_uniq")'
    )
    assert finding.fix.code() in finding.message
    assert findings(with_fix(thing, finding.fix), NULL_CALL) == []


@pytest.mark.parametrize("backend", [MYSQL, ORACLE])
def test_dgc004_without_nulls_distinct_or_partial_indexes(backend: BackendFacts) -> None:
    finding = one(model(NAME, CAMPAIGN, sets=(COUPON,), backend=backend), NULL_CALL)
    assert finding.code == "DGC004" and finding.fix is None
    assert "nulls_distinct=False" not in finding.message and "condition=" not in finding.message
    assert "Fix: look up a non-null value, or make campaign NOT NULL" in finding.message


def test_dgc004_of_a_single_nullable_field_on_sqlite_has_no_constraint_to_offer() -> None:
    unique_owner = UniqueSet(("owner",), "unique=True")
    nullable_owner = dataclasses.replace(OWNER, null=True)
    finding = one(
        model(nullable_owner, sets=(unique_owner,), backend=SQLITE),
        "Thing.objects.get_or_create(owner=None)",
    )
    assert finding.code == "DGC004" and finding.fix is None
    assert "nulls_distinct=False" not in finding.message
    assert "make owner NOT NULL (null=False with a default); SQLite has no nulls_distinct" in (
        finding.message
    )


# --------------------------------------------------------------------- fix-models writes it


def partial(condition: tuple[tuple[str, object], ...] = (("kind", "new"),)) -> ConstraintFix:
    fields = ("name",)
    return ConstraintFix(
        "app.Thing",
        fields,
        constraint_name("app.Thing", fields, condition=condition),
        condition=condition,
    )


def test_fix_models_writes_the_condition_through_models() -> None:
    new, statuses = edit(
        """\
        from django.db import models


        class Thing(models.Model):
            name = models.CharField(max_length=10)
        """,
        partial(),
    )
    assert statuses == ["added"]
    assert (
        "            models.UniqueConstraint(\n"
        '                fields=["name"],\n'
        '                condition=models.Q(kind="new"),\n'
        '                name="app_thing_name_kind_new_uniq",\n'
        "            ),\n"
    ) in new
    compile(new, "models.py", "exec")
    again, statuses = edit(new, partial())
    assert statuses == ["present"] and again == new


def test_fix_models_imports_q_next_to_unique_constraint() -> None:
    new, statuses = edit(
        """\
        from django.db.models import CharField, Model


        class Thing(Model):
          name = CharField(max_length=10, default='x')
        """,
        partial((("kind", "it's"),)),
    )
    assert statuses == ["added"]
    assert new.startswith("from django.db.models import CharField, Model, UniqueConstraint, Q\n")
    assert "condition=Q(kind='it\\'s')" in new
    compile(new, "models.py", "exec")


def test_fix_models_uses_an_existing_q_import_and_refuses_a_foreign_q() -> None:
    own = textwrap.dedent("""\
        from django.db.models import Q, UniqueConstraint


        class Thing(Base):
            name = 1
        """)
    new, statuses = edit(own, partial())
    assert statuses == ["added"] and new.startswith(own.split("\n\n")[0] + "\n\n")
    assert 'condition=Q(kind="new")' in new
    foreign = "from django.db.models import UniqueConstraint\nfrom sympy import Q\n\n\n"
    foreign += "class Thing(Base):\n    name = 1\n"
    plain = _plain()
    again, statuses = edit(foreign, partial(), plain)
    assert statuses == ["error", "added"], statuses  # the rest is still added
    assert plain.name in again and "condition=" not in again


def test_an_existing_equal_partial_constraint_is_present() -> None:
    existing = """\
        from django.db import models


        class Thing(models.Model):
            class Meta:
                constraints = [
                    models.UniqueConstraint(
                        fields=["name"], condition=models.Q(kind="new"), name="mine"
                    ),
                ]
        """
    new, statuses = edit(existing, partial())
    assert statuses == ["present"] and new == textwrap.dedent(existing)
    other, statuses = edit(existing, partial((("kind", "old"),)))
    assert statuses == ["added"] and 'condition=models.Q(kind="old")' in other


def _plain() -> ConstraintFix:
    return ConstraintFix("app.Thing", ("name",), constraint_name("app.Thing", ("name",)))


# ------------------------------------------------------------ the same through the real flake8


@pytest.mark.parametrize(
    ("settings", "offered", "absent"),
    [
        (
            "goc_project.settings",
            ["nulls_distinct=False", "condition=models.Q(day__isnull=True)"],
            [],
        ),
        (
            "goc_project.settings_sqlite",
            ['fields=["room"], condition=models.Q(day__isnull=True)', "SQLite has no"],
            ["nulls_distinct=False"],
        ),
        (
            "goc_project.settings_mysql",
            ["make day NOT NULL (null=False with a default); MySQL/MariaDB creates neither"],
            ["nulls_distinct=False", "condition="],
        ),
    ],
)
def test_dgc004_advice_follows_the_settings_backend(
    settings: str, offered: list[str], absent: list[str]
) -> None:
    result = run_flake8(
        *("--select", "DGC", "--format", FORMAT, "--django-settings-module", settings),
        "cases/case_nullable.py",
    )
    (line,) = [r for r in parse_reports(result.stdout) if r.line == 12]  # day=None
    assert line.code == "DGC004", result.stdout + result.stderr
    for text in offered:
        assert text in line.text, line.text
    for text in absent:
        assert text not in line.text, line.text
