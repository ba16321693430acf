"""The partial constraint DGC001 offers first (``condition=Q(status="new")``) on real PostgreSQL:
it is exactly the fixture's ``shop.Checkout`` constraint, the race over status="new" is proved by
the race harness (cases/case_partial_fix.py), and here: rows of other statuses stay free, which
the unconditional (customer, status) would not allow for a customer's second paid checkout."""

from __future__ import annotations

import pytest
from race import reset_database

from flake8_django_goc.find.calls import find_calls
from flake8_django_goc.judge.verdicts import judge
from flake8_django_goc.resolve.receivers import ModuleContext, Target, resolve
from flake8_django_goc.schema import ModelFacts, Schema


@pytest.mark.usefixtures("django_project")
def test_the_fixture_constraint_is_the_fix_dgc001_offers() -> None:
    from django.db.models import Q
    from shop.models import Checkout  # type: ignore[import-not-found]

    from flake8_django_goc.schema.django.models import model_facts

    facts = model_facts(Checkout, {})
    # The same model without its constraint: what does the judge propose?
    bare = ModelFacts(
        **{**facts.__dict__, "unique_sets": tuple(s for s in facts.unique_sets if not s.name)}
    )
    schema = Schema(models={bare.label: bare}, by_path={"shop.models.Checkout": bare.label})
    source = "from shop.models import Checkout\n"
    source += 'Checkout.objects.get_or_create(customer=c, status="new")\n'
    module, (site,) = find_calls(source)
    target = resolve(site, ModuleContext(module, "shop.views"), schema)
    assert isinstance(target, Target)
    (finding,) = judge(site, target)
    assert finding.code == "DGC001" and finding.fix is not None
    (constraint,) = Checkout._meta.constraints
    assert (finding.fix.fields, finding.fix.name) == (tuple(constraint.fields), constraint.name)
    assert Q(**dict(finding.fix.condition)) == constraint.condition
    assert constraint.name in {s.name for s in facts.unique_sets}


@pytest.mark.usefixtures("django_project")
def test_other_statuses_of_one_customer_can_be_inserted() -> None:
    from cases.support import ctx  # type: ignore[import-not-found]
    from django.db import IntegrityError, transaction
    from shop.models import Checkout

    reset_database()
    Checkout.objects.create(customer=ctx.customer, status="new")
    Checkout.objects.create(customer=ctx.customer, status="paid")
    Checkout.objects.create(customer=ctx.customer, status="paid")  # a second paid one: allowed
    Checkout.objects.create(customer=ctx.other_customer, status="new")
    assert Checkout.objects.filter(customer=ctx.customer, status="paid").count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Checkout.objects.create(customer=ctx.customer, status="new")  # the constraint holds
