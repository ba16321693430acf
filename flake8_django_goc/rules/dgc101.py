"""DGC101: dynamic-lookup."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import GET_OR_CREATE

RULE = Rule(
    code="DGC101",
    summary="lookup built from dynamic **kwargs (opt-in)",
    name="dynamic-lookup",
    what="""
        Reports calls whose lookup comes from `**kwargs` (`get_or_create(**lookup)`): the
        keys are not known statically, so the call is not judged.
    """,
    why="""
        Whether a unique constraint covers the lookup depends on its keys. An unchecked
        lookup can have the DGC001 race (duplicate rows, then `MultipleObjectsReturned` and
        a 500) or the DGC005 trap without any report.
    """,
    example="""
        def tag_for(color, **lookup):
            return Tag.objects.get_or_create(**lookup, defaults={"color": color})
    """,
    use_instead="""
        def tag_for(color, name, kind):
            return Tag.objects.get_or_create(name=name, kind=kind, defaults={"color": color})
    """,
    notes="""
        When the keys really are dynamic, check that every set of keys the code can pass is
        covered, and silence the call with `# noqa: DGC101`.
    """,
    references=(GET_OR_CREATE,),
    default=False,
    severity="warning",
)


def message(call: str, parts: list[str]) -> str:
    return (
        f"{call} builds its lookup from {', '.join(parts)}; the keys are not known statically, "
        "so the call is not judged."
    )
