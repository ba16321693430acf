"""DGC008: hand-rolled-get-or-create."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import (
    CONSTRAINTS,
    GET_OR_CREATE,
    TICKET_12579,
    UPDATE_OR_CREATE,
)

RULE = Rule(
    code="DGC008",
    summary="insert after a check that found no row, and no database uniqueness covers it",
    name="hand-rolled-get-or-create",
    fixable=True,
    what="""
        Checks code that asks the database whether a row exists and inserts it when it does
        not, in one function:

        - `try: M.objects.get(...)` / `aget()` `except M.DoesNotExist` (or
          `ObjectDoesNotExist`) with `create()` / `acreate()`, or `M(...)` + `save()` /
          `asave()`, in the handler (also the hand-written update-or-create that updates in
          the `try`);
        - `if not qs.exists():` (`aexists()`, `if not qs:`, `qs.count() == 0`,
          `len(qs) == 0`, or the `else:` of `if qs.exists():`) followed by a create;
        - `x = qs.first()` (`last()`, `afirst()`, ...) and `if x is None:` / `if not x:`;
        - `if not qs.update(...):` (or `n = qs.update(...)`, `if n == 0:`) followed by a create;
        - a check stored in a name (`found = qs.exists()`), inside `a and not qs.exists()`, or
          `if a.exists() or b.exists(): ... else:` with the create;
        - the reverse one-to-one accessor: `try: user.profile except Profile.DoesNotExist:`;
        - a guard clause: `if qs.exists(): return` (or `continue`, `break`; `if x: return x`
          after `x = qs.first()`), then the create after the `if`; `try: return qs.get(...)
          except M.DoesNotExist: pass`, then the create after the `try`;
        - a name falsy only after a miss: `try: x = qs.get(...) except M.DoesNotExist: x =
          None` (or `found = True` / `found = False`), then `if x is None:` / `if not found:`;
          `if (x := qs.first()) is None:`; `if not qs.first():`;
        - an instance built on the missing path and saved after it: `try: x = qs.get(...)
          except M.DoesNotExist: x = M(...)`, then `x.f = v; x.save()` after the `try` (the
          hand-written update-or-create; likewise `if x is None: x = M(...)`);
        - module-level code (a `try:` that runs at import).

        A guard whose found path raises (`if qs.exists(): raise ValidationError(...)`) is a
        uniqueness check in Python, DGC010's, not a get-or-create.

        The create is `create()` / `acreate()`, `M(...).save()`, or `x.save()` of an instance
        made by `M(...)` in the function (a row read elsewhere is updated, not inserted).
        Both receivers are resolved like a `get_or_create()` receiver (related managers
        included) and must be the same model; the create must write every value the check
        looked up (`f=x.f` is what `x.save()` writes; `**params` of a local dict literal that
        is never changed is read as the literal; keywords named next to `**extra` are
        certain). A check with no lookup (`if not M.objects.exists():`, a single row) or whose
        fields the create leaves to `save()` is reported only when no unique set of the model
        could reject a second INSERT (each holds an AutoField, a primary key default or a
        distinct NULL). It is reported at the call that inserts when no enforced unique set has all
        its fields among those values — with the traps of DGC001-DGC004: NULLs never collide,
        a conditional constraint must be shown to hold, constraints the database does not
        create do not count.
    """,
    why="""
        The check and the insert are two statements: two requests can both run the check
        before either inserts, and both insert.

        ```text
        request A: SELECT ... WHERE name='x'   -> no row
        request B: SELECT ... WHERE name='x'   -> no row
        request A: INSERT ('x');  request B: INSERT ('x')   -> two rows
        ```

        It is exactly the race of `get_or_create()` without a unique constraint, and ends the
        same way: duplicates, and `MultipleObjectsReturned` from every later `get()`.
    """,
    example="""
        class Tag(models.Model):
            name = models.CharField(max_length=50)


        def tag_named(name):
            try:
                return Tag.objects.get(name=name)
            except Tag.DoesNotExist:
                return Tag.objects.create(name=name)
    """,
    use_instead="""
        class Tag(models.Model):
            name = models.CharField(max_length=50)

            class Meta:
                constraints = [
                    models.UniqueConstraint(fields=["name"], name="blog_tag_name_uniq"),
                ]


        def tag_named(name):
            return Tag.objects.get_or_create(name=name)[0]
    """,
    notes="""
        A configured serialising lock (`--django-goc-serializers`) or a
        `select_for_update()` of another row earlier inside the same `transaction.atomic()`
        serialises the path, and the finding is not reported. A check built from `**kwargs`
        is not judged. When the create also fills another enforced unique set alike in both
        requests (`create(hits=3, name="x")` under a unique `name`), the second INSERT fails
        instead of duplicating: no verdict.
    """,
    references=(GET_OR_CREATE, UPDATE_OR_CREATE, CONSTRAINTS, TICKET_12579),
    race=True,
)
