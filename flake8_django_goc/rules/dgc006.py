"""DGC006: lookup-not-written."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import GET_OR_CREATE, MANAGER_QUERYSET, UPDATE_OR_CREATE

RULE = Rule(
    code="DGC006",
    summary="a SELECT condition the created row does not meet (filter/exclude, a filtering "
    "manager, a __ lookup key)",
    name="lookup-not-written",
    what="""
        Checks calls whose SELECT has conditions that the created row is not shown to meet:

        - `.filter(...)` / `.exclude(...)` before the call,
        - a manager whose `get_queryset()` filters (`Order.paid.get_or_create(...)`),
        - a related manager after `.all()` or `.filter()`
          (`customer.orders.all().get_or_create(...)`: the foreign key is then only a
          filter, not written),
        - a lookup key with `__` (`color__iexact="red"`) next to a covered lookup.

        Django writes only the plain keyword arguments of the call (and `defaults`).
    """,
    why="""
        The created row does not match the SELECT that looked for it:

        ```text
        call 1: SELECT ... WHERE status='paid' AND number='N-1' -> no row; INSERT status='new'
        call 2: SELECT ... WHERE status='paid' AND number='N-1' -> no row; INSERT again
        ```

        Without a constraint the table fills with duplicates. With one (here on `number`)
        the second INSERT fails, the retry `get()` still cannot see the row, and the
        `IntegrityError` escapes: a 500 on every call after the first.
    """,
    example="""
        order, _ = Order.objects.filter(status="paid").get_or_create(
            customer=customer, number=number
        )
    """,
    use_instead="""
        order, _ = Order.objects.get_or_create(customer=customer, number=number, status="paid")
    """,
    notes="""
        A filter the created row provably meets is fine, e.g.
        `Order.objects.filter(status="new")` when `status` defaults to `"new"`, or when the
        same value is passed as a plain keyword argument.
    """,
    references=(GET_OR_CREATE, UPDATE_OR_CREATE, MANAGER_QUERYSET),
)


def message(method: str, unmet: list[str]) -> str:
    """``unmet``: each condition as the user wrote it (``.filter(status="paid")``)."""
    return (
        f"{method}() looks up with {', '.join(unmet)}, which the created row is not shown to "
        "meet (only plain keyword arguments are written on create): the next call will not find "
        "the row, and the retry after an IntegrityError raises. Fix: pass the values as plain "
        f"{method}() keyword arguments or set them in defaults."
    )
