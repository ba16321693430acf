"""DGC001: uncovered-lookup."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import (
    CONSTRAINTS,
    GET_OR_CREATE,
    TICKET_12579,
    TICKET_30199,
    UPDATE_OR_CREATE,
)

RULE = Rule(
    code="DGC001",
    summary="lookup not covered by any database-enforced uniqueness",
    name="uncovered-lookup",
    fixable=True,
    what="""
        Checks `get_or_create()`, `update_or_create()` and their async forms
        (`aget_or_create()`, `aupdate_or_create()`) whose lookup no database uniqueness
        guarantee covers: no primary key, `unique=True` field, `OneToOneField`,
        `unique_together` or `UniqueConstraint` has all its fields among the values the call
        writes.

        Only plain keyword arguments count: on create Django writes the keys without `__`
        (`title__iexact=...` narrows the SELECT but is not written), and `defaults` never make
        a lookup safe. A constraint the model's database does not create (a partial
        constraint on MySQL, say) does not count either.
    """,
    why="""
        `get_or_create()` is a SELECT followed by an INSERT. Two concurrent requests (two
        workers, a double click) can both miss and both insert:

        ```text
        request A: SELECT ... WHERE customer_id=7 AND status='new'   -> no row
        request B: SELECT ... WHERE customer_id=7 AND status='new'   -> no row
        request A: INSERT (7, 'new');  request B: INSERT (7, 'new')  -> two rows
        ```

        Only a unique constraint turns the second INSERT into an `IntegrityError`, which
        Django catches and answers with the first request's row. Without one the table
        silently collects duplicates, and every later `get_or_create()` or `get()` with that
        lookup raises `MultipleObjectsReturned`: a 500 for that customer from then on.
    """,
    example="""
        class Order(models.Model):
            customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
            status = models.CharField(max_length=20, default="new")


        order, created = Order.objects.get_or_create(customer=customer, status="new")
    """,
    use_instead="""
        class Order(models.Model):
            customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
            status = models.CharField(max_length=20, default="new")

            class Meta:
                constraints = [
                    # At most one new order per customer; paid ones are not limited.
                    models.UniqueConstraint(
                        fields=["customer"],
                        condition=models.Q(status="new"),
                        name="shop_order_customer_status_new_uniq",
                    ),
                ]


        order, created = Order.objects.get_or_create(customer=customer, status="new")
    """,
    notes="""
        The fix follows the lookup and the model's database. A field the lookup pins to a
        literal (`status="new"`) becomes the condition of a partial constraint over the other
        fields, offered first where the database creates partial unique indexes (PostgreSQL,
        SQLite): an unconditional `(customer, status)` would also forbid a customer's second
        paid order. The unconditional constraint over every written field is the alternative,
        and the only one on MySQL, MariaDB and Oracle. Keys the INSERT does not write
        (`status__in=[...]`) are not in it, so the constraint may be narrower than the lookup.

        Every constraint offered says what it asserts ("this makes (customer) unique for every
        row with status="new": check that it is the business rule"): a unique constraint
        changes what the table accepts, so confirm it, or change the call instead. Or look the
        row up by a field that is already unique, and put the other values in `defaults`.
        Before migrating a new constraint, remove the duplicates the table already holds
        (`fix-models` prints the query that finds them, filtered by a partial constraint's
        condition).

        A call with no lookup at all (`Settings.objects.get_or_create()`, a singleton) matches
        any row: on an empty table two concurrent calls both insert. It is reported unless a
        unique field is filled alike by every created row (a constant default, or what
        `defaults` writes), whose second INSERT fails and is answered with the first row. Give
        the one row a fixed key instead: `get_or_create(pk=1)`.
    """,
    references=(GET_OR_CREATE, UPDATE_OR_CREATE, CONSTRAINTS, TICKET_12579, TICKET_30199),
    race=True,
)


def message(
    call: str,
    looked_up: tuple[str, ...],
    label: str,
    *,
    method: str,
    dropped: tuple[str, ...],
    unenforced: list[tuple[str, str]],
    unmanaged: bool,
    fixes: list[str],
    unique: list[str],
) -> str:
    """``dropped``: lookup keys the INSERT does not write; ``unenforced``: (set, why the database
    lacks it) for sets that would cover; ``fixes``: the constraints judge offers, as text."""
    parts = [
        f"{call} looks up ({', '.join(looked_up)}) but no unique constraint on {label} covers "
        "them: concurrent calls can insert duplicate rows."
    ]
    if dropped:
        parts.append(
            f"{method}() writes only plain keyword arguments to the created row, "
            f"not {', '.join(dropped)}."
        )
    parts += [f"{what} would, but {why}." for what, why in unenforced]
    if unmanaged:
        parts.append(
            f"{label} is unmanaged (managed = False): Django creates no constraint for it."
        )
    offers = [*fixes, *([f"look up by a unique field ({', '.join(unique[:3])})"] if unique else [])]
    if offers:
        parts.append("Fix: " + " or ".join(offers) + ".")
    return " ".join(parts)


def empty_message(call: str, label: str, *, method: str) -> str:
    """A call with no lookup at all (``Singleton.objects.get_or_create()``)."""
    return (
        f"{call} looks up no field, so any row of {label} matches: on an empty table concurrent "
        f"calls both insert, and every later {method}() or get() raises "
        f"MultipleObjectsReturned. Fix: give the one row a fixed primary key, {method}(pk=1), "
        "or a field with a constant default and unique=True."
    )
