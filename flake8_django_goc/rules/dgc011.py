"""DGC011: unique-value-not-looked-up."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import CONSTRAINTS, GET_OR_CREATE, UPDATE_OR_CREATE

RULE = Rule(
    code="DGC011",
    summary="the created row holds a unique value the get() does not look for (opt-in)",
    name="unique-value-not-looked-up",
    default=False,
    what="""
        Checks `get_or_create()`, `update_or_create()` and their async forms where the row
        they create holds the value of a unique field (alone, or completing a unique set with
        lookup fields) that the SELECT before it did not look for:

        - the value comes from `defaults` / `create_defaults`
          (`get_or_create(user=u, defaults={"slug": slugify(title)})` with `slug` unique),
        - or from a constant field default (`code = CharField(unique=True, default="")`) and
          the lookup does not set the field,
        - or the lookup covers the unique field but the SELECT is narrowed by something outside
          it: `.filter()` / `.exclude()` before the call, a manager whose `get_queryset()`
          filters, a related manager after `.all()`, or a many-to-many related manager (it
          looks only at related rows).
    """,
    why="""
        No race is needed. An existing row that holds the unique value but does not match the
        SELECT is invisible to it:

        ```text
        SELECT ... WHERE user_id=2                       -> no row (user 1 has slug 'hello')
        INSERT (user_id=2, slug='hello')                 -> IntegrityError (slug is unique)
        retry: SELECT ... WHERE user_id=2                -> still no row: the error escapes
        ```

        The call that should return a row raises `IntegrityError` instead, on every call for
        that value. With a constant default the second row created by a different lookup always
        collides.
    """,
    example="""
        class Post(models.Model):
            author = models.ForeignKey(User, on_delete=models.CASCADE)
            slug = models.SlugField(unique=True)


        class Member(models.Model):
            username = models.CharField(max_length=30, unique=True)
            active = models.BooleanField(default=True)


        def publish(user, title):
            post, _ = Post.objects.get_or_create(author=user, defaults={"slug": slugify(title)})
            return post


        def join(name):
            member, _ = Member.objects.filter(active=True).get_or_create(username=name)
            return member
    """,
    use_instead="""
        def publish(user, title):
            # Look up by the unique value, so an existing row is found, not collided with.
            post, _ = Post.objects.get_or_create(slug=slugify(title), defaults={"author": user})
            return post


        def join(name):
            # Look up every row that can hold the name; decide about inactive ones afterwards.
            member, _ = Member.objects.get_or_create(username=name)
            return member if member.active else None
    """,
    notes="""
        Not reported for values that do not repeat in practice: `uuid.uuid4()`,
        `secrets.token_*()`, `get_random_string()`, callable field defaults, auto primary keys,
        `None` in a nullable field, and a value that is the lookup's own value of a unique field
        (`get_or_create(email=e, defaults={"username": e})` with `email` unique). A constant
        field default counts only when the field and the model's `save()` are Django's own
        (a `save()` override or a field's `pre_save()` may compute the value).

        Opt-in until its precision on real code is measured: select it with
        `--extend-select DGC011`.
    """,
    references=(GET_OR_CREATE, UPDATE_OR_CREATE, CONSTRAINTS),
)
