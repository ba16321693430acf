"""DGC003: deferred-constraint."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import (
    ATOMIC_REQUESTS,
    DEFERRABLE,
    GET_OR_CREATE,
    TICKET_20581,
    UPDATE_OR_CREATE,
)

RULE = Rule(
    code="DGC003",
    summary="covered only by a deferred unique constraint (error surfaces at COMMIT)",
    name="deferred-constraint",
    what="""
        Checks calls covered only by a unique constraint created
        `deferrable=Deferrable.DEFERRED` (`DEFERRABLE INITIALLY DEFERRED`).
    """,
    why="""
        `get_or_create()` relies on the losing INSERT raising `IntegrityError` inside its
        savepoint. A deferred constraint is checked at COMMIT instead:

        ```text
        request A and B (inside transaction.atomic()): SELECT -> no row; INSERT -> accepted
        get_or_create() returns (obj, True) to both; the view carries on with its row
        COMMIT of B -> IntegrityError, outside get_or_create(): the request fails with a 500
        ```

        That happens under `transaction.atomic()` and `ATOMIC_REQUESTS`.
        `update_or_create()` always opens its own transaction, so it hits the trap even
        outside `atomic()`.
    """,
    example="""
        class Reservation(models.Model):
            room = models.CharField(max_length=10)
            night = models.DateField()

            class Meta:
                constraints = [
                    models.UniqueConstraint(
                        fields=["room", "night"],
                        name="one_booking_per_night",
                        deferrable=models.Deferrable.DEFERRED,
                    ),
                ]


        with transaction.atomic():
            booking, created = Reservation.objects.get_or_create(room="101", night=day)
    """,
    use_instead="""
        class Reservation(models.Model):
            room = models.CharField(max_length=10)
            night = models.DateField()

            class Meta:
                constraints = [
                    models.UniqueConstraint(
                        fields=["room", "night"],
                        name="one_booking_per_night",
                        deferrable=models.Deferrable.IMMEDIATE,
                    ),
                ]
    """,
    notes="""
        If other code needs the deferred check (swapping two values in one transaction),
        keep it deferrable but `IMMEDIATE` and run `SET CONSTRAINTS ... DEFERRED` where it
        is needed. Deferrable constraints exist on PostgreSQL and Oracle only.
    """,
    references=(GET_OR_CREATE, UPDATE_OR_CREATE, DEFERRABLE, ATOMIC_REQUESTS, TICKET_20581),
    race=True,
)


def message(call: str, unique_set: str, method: str, *, own_transaction: bool) -> str:
    """``own_transaction``: update_or_create(), which opens a transaction of its own."""
    when = (
        f"{method}() runs in its own transaction, so even outside transaction.atomic() "
        if own_transaction
        else "inside transaction.atomic() or ATOMIC_REQUESTS "
    )
    return (
        f"{call} is covered only by the deferrable {unique_set} (Deferrable.DEFERRED): {when}the "
        f"IntegrityError is raised at COMMIT, after {method}() stopped catching it. Fix: make it "
        "Deferrable.IMMEDIATE or drop deferrable."
    )
