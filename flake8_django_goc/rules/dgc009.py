"""DGC009: unhandled-integrity-error."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import ATOMIC_REQUESTS, GET_OR_CREATE, TRANSACTIONS_ERRORS

RULE = Rule(
    code="DGC009",
    summary="insert after a check, covered by a constraint, but its IntegrityError is a 500",
    name="unhandled-integrity-error",
    what="""
        Checks the hand-written get-or-create of DGC008 when a unique constraint does cover
        it: the database stops the duplicate, so the request that loses the race gets an
        `IntegrityError` from its insert. Reported at the insert when

        - no `try: ... except IntegrityError:` (or `DatabaseError`, `Exception`, a bare
          `except:`) around it handles the error (a handler that re-raises it, `raise` or
          `raise exc`, after logging or not, does not; raising another exception, such as a
          `ValidationError`, does);
        - a handler exists, but the insert runs inside a transaction opened in the same
          function (`with transaction.atomic():`, `@transaction.atomic`) without a
          `transaction.atomic()` block of its own inside the `try`;
        - the only covering constraint is `Deferrable.DEFERRED` and the error comes at a
          COMMIT outside every handler: no handler, or a transaction opened before the `try`
          (a handled insert whose own `atomic()` block, or statement, is the outermost
          transaction of the function fails inside the `try`);
        - the check did not cover the insert, but every such insert writes the same values
          into another unique set (`if not Site.objects.exists():
          Site.objects.create(slug="main")`): the second one fails.

        After a raise guard (`if qs.exists(): raise ValidationError(...)`, then the insert),
        the fix is to catch the insert's `IntegrityError` and raise the same error there.
    """,
    why="""
        `get_or_create()` catches that `IntegrityError` and returns the row the other request
        inserted; hand-written code usually does not, so a double click ends in a 500.

        Catching it is not enough inside a transaction: the failed INSERT breaks the whole
        transaction (PostgreSQL: `current transaction is aborted, commands ignored until end of
        transaction block`), and Django refuses the handler's re-read with
        `TransactionManagementError: An error occurred in the current transaction`. Django's
        `get_or_create()` puts the INSERT in its own savepoint (`transaction.atomic()`) for
        this reason.
    """,
    example="""
        class Tag(models.Model):
            name = models.CharField(max_length=50, unique=True)


        def tag_named(name):
            try:
                return Tag.objects.get(name=name)
            except Tag.DoesNotExist:
                return Tag.objects.create(name=name)
    """,
    use_instead="""
        class Tag(models.Model):
            name = models.CharField(max_length=50, unique=True)


        def tag_named(name):
            return Tag.objects.get_or_create(name=name)[0]
    """,
    notes="""
        Or keep the code and handle the error the way Django does:
        `try: with transaction.atomic(): return Tag.objects.create(name=name)`
        `except IntegrityError: return Tag.objects.get(name=name)`.
    """,
    references=(GET_OR_CREATE, TRANSACTIONS_ERRORS, ATOMIC_REQUESTS),
    race=True,
)
