"""What resolve hands to judge: the rows a call works on (``Target``), or why not.

Plain records, no logic beyond describing a chain step; judge reads them, resolve builds them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from flake8_django_goc.find.records import CallArgs, CallSite, Scope, Step, Value
from flake8_django_goc.schema import ModelFacts
from flake8_django_goc.schema.orm import FILTER_METHODS


@dataclass(frozen=True)
class ChainFilter:
    method: str  # "filter", "exclude", "complex_filter"
    args: CallArgs
    # Set for a related manager's own filter that a chained method turned into a plain filter.
    implicit: str | None = None
    origin: str | None = None  # where a filter the user did not write comes from


@dataclass(frozen=True)
class Target:
    """The rows a call works on: a model through one of its managers or a related manager."""

    model: ModelFacts
    manager: str
    filters: tuple[ChainFilter, ...] = ()
    # Fields the receiver itself writes on create (the FK of a related manager).
    adds: tuple[str, ...] = ()
    related: bool = False  # a related manager (reverse FK, M2M, generic relation)
    through: str | None = None  # an M2M manager's through model
    owner: str | None = None  # source text of a related manager's instance (`ctx.customer`)
    via: str | None = None  # label of the model whose related manager this is
    # `super().get_or_create()` in a manager or queryset: Django's own method runs, whatever
    # the project's class reimplements.
    django_method: bool = False
    # Lookup keys an overridden get_or_create() of the manager adds.
    extra_lookup: tuple[tuple[str, Value], ...] = ()

    @property
    def display(self) -> str:
        return f"{self.model.object_name}.{self.manager}"

    def chained(self, method: str, args: CallArgs) -> Target:
        """The target after ``.method(args)``: a related manager becomes a plain queryset."""
        filters = self.filters
        if self.related:
            # Only RelatedManager.get_or_create() writes the relation; after .all()/.filter()...
            # the relation is a filter of the queryset the created row meets only if the lookup
            # writes the same instance (customer=ctx.customer).
            implicit = f".{self.manager}.{method}()"
            kwargs = tuple((f, Value(self.owner or "<owner>")) for f in self.adds)
            filters = (*filters, ChainFilter("filter", CallArgs(kwargs), implicit))
        if method in FILTER_METHODS:
            filters = (*filters, ChainFilter(method, args))
        return dataclasses.replace(self, filters=filters, adds=(), related=False)


@dataclass(frozen=True)
class Candidates:
    """Several possible targets. ``each``: judge every one (a manager class shared by models);
    otherwise report only when all agree (an accessor name matching several models)."""

    targets: tuple[Target, ...]
    each: bool


@dataclass(frozen=True)
class Unresolved:
    reason: str
    # The receiver is known, and is no manager or queryset: a model class or instance, or a
    # class of the module, whose get_or_create() is the project's own method (DGC102).
    own_method: bool = False


Resolution = Target | Candidates | Unresolved


@dataclass(frozen=True)
class Resolved:
    """A receiver the hand-written finder recorded, resolved: the call as resolve rewrote it
    and its target, or the candidate targets (``each`` as in ``Candidates``)."""

    call: CallSite
    targets: tuple[Target, ...]
    each: bool = False

    @property
    def target(self) -> Target | None:
        return self.targets[0] if len(self.targets) == 1 else None


# How judge asks resolve about a receiver it found by hand (DGC008-DGC010) without importing
# resolve: (method, receiver, arguments, scope) -> what it resolved to, or None when the
# receiver is not tied to a model.
TargetOf = Callable[[str, tuple[Step, ...], CallArgs, Scope], Resolved | None]
