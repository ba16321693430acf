"""DGC005: lookup-overridden-by-defaults."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import GET_OR_CREATE, UPDATE_OR_CREATE

RULE = Rule(
    code="DGC005",
    summary="lookup key repeated in defaults/create_defaults",
    name="lookup-overridden-by-defaults",
    what="""
        Checks calls that repeat a lookup key in `defaults` (or, for `update_or_create()`,
        in `create_defaults`) with a different value.
    """,
    why="""
        On create, Django writes the lookup values updated by `defaults`: defaults win. The
        created row does not match the lookup, so the next call does not find it and creates
        another row:

        ```text
        call 1: SELECT ... WHERE email='old@x' -> no row; INSERT (email='new@x')
        call 2: SELECT ... WHERE email='old@x' -> no row; INSERT (email='new@x')
        ```

        With a unique constraint the second INSERT fails instead, and the retry `get()`
        (still looking for `old@x`) finds nothing, so the `IntegrityError` escapes: a 500.
    """,
    example="""
        customer, _ = Customer.objects.update_or_create(
            email=email, defaults={"email": new_email, "name": name}
        )
    """,
    use_instead="""
        customer, _ = Customer.objects.update_or_create(
            email=email, defaults={"name": name}
        )
    """,
    notes="""
        To change the looked-up field itself, fetch the row and update it explicitly. For
        values that should only be written on create, use `create_defaults` (Django 5.0+).
    """,
    references=(GET_OR_CREATE, UPDATE_OR_CREATE),
)


def message(call: str, fields: list[str], create_arg: str, update: bool) -> str:
    """``update``: an update_or_create() whose create-only values belong in create_defaults."""
    names = ", ".join(fields)
    hint = "; for update_or_create() put create-only values in create_defaults" if update else ""
    return (
        f"{call} looks up {names} but {create_arg} also sets it: the created row gets the "
        f"{create_arg} value, so it does not match this lookup (the next call creates another "
        f"row, or the retry after an IntegrityError raises). Remove {names} from "
        f"{create_arg}{hint}."
    )
