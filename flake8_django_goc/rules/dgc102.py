"""DGC102: reimplemented-method."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import GET_OR_CREATE, MANAGER_QUERYSET

RULE = Rule(
    code="DGC102",
    summary="the call runs the project's own get_or_create(), not Django's (opt-in)",
    name="reimplemented-method",
    what="""
        Reports calls whose manager or queryset class (a project class) defines its own
        `get_or_create()` / `update_or_create()` with logic of its own: more than a
        `return super().get_or_create(...)` pass-through of the caller's arguments. Such a
        method decides for itself what it looks up and what the created row holds (it may
        translate a `prefix=` argument into two columns, or add a parent it computes), so the
        call is not judged as Django's. Also reported: a lookup key that is no field of the
        model but that the queryset's own `get()` / `filter()` takes out by name and
        translates, when only that translation would make a unique constraint cover the
        lookup (a lookup that is covered without it, or uncovered with every field the
        translation names, is judged as usual). And a call on a model class or instance,
        or on a class of the module: the family methods live on managers and querysets, so
        `Activity.get_or_create(label)` is the project's own method (these were DGC100).
    """,
    why="""
        A verdict about Django's `get_or_create()` would be a guess about the project's own
        method: every finding on these calls would be noise, and silence would be a false
        assurance. If what the method really writes is not covered, the DGC001 race is there
        (duplicate rows, then `MultipleObjectsReturned` and a 500). Select this code to see the
        calls nobody judged, then check by hand that a unique constraint covers them.
    """,
    example="""
        class TagQuerySet(models.QuerySet):
            def get_or_create(self, label, **kwargs):
                return super().get_or_create(name=label.strip().lower(), **kwargs)


        class Label(models.Model):
            name = models.CharField(max_length=50, unique=True)

            objects = TagQuerySet.as_manager()


        def label_for(text):
            return Label.objects.get_or_create(label=text)
    """,
    use_instead="""
        class Label(models.Model):
            name = models.CharField(max_length=50, unique=True)


        def label_for(text):
            return Label.objects.get_or_create(name=text.strip().lower())
    """,
    notes="""
        A pass-through that only adds literal keyword arguments
        (`return super().get_or_create(status="open", **kwargs)`) is not reported: the linter
        reads those arguments and judges the call with them.
    """,
    references=(GET_OR_CREATE, MANAGER_QUERYSET),
    default=False,
    severity="warning",
)


def message(call: str, method: str) -> str:
    return (
        f"{call} runs the project's own {method}() of its manager or queryset, which decides "
        "what it looks up and writes: not judged as Django's. Check by hand that a unique "
        "constraint covers the row it creates."
    )


def translated_message(call: str, key: str, method: str, fields: tuple[str, ...] | None) -> str:
    """A lookup key that is no field, taken out and translated by the queryset's own method."""
    into = f" into {', '.join(fields)}" if fields else ""
    return (
        f"{call} looks up {key}=, which is no field of the model: {method}() translates it{into}, "
        "and only that translation would make a unique constraint cover the lookup: not judged "
        "as Django's. Check by hand that the created row gets the same values (the model's "
        "__init__ or save())."
    )


def own_method_message(call: str, why: str) -> str:
    """A get_or_create() of a model class or instance, or of a class of the module."""
    return (
        f"{call} is not Django's: {why}. Not judged; check by hand that a unique constraint "
        "covers the row it creates."
    )
