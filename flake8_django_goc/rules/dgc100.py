"""DGC100: unresolved-model."""

from __future__ import annotations

from flake8_django_goc.rules.base import Rule
from flake8_django_goc.rules.references import GET_OR_CREATE, PROJECT_RULES
from flake8_django_goc.text import shorten

RULE = Rule(
    code="DGC100",
    summary="could not tell which model the call works on (opt-in)",
    name="unresolved-model",
    what="""
        Reports calls of the get_or_create family that the linter could not tie to a model:
        the receiver is a parameter, a variable of unknown type, a manager it does not know,
        or an owner that could be several models with different verdicts. The message says
        why.
    """,
    why="""
        It is not a bug in itself: it is a call nobody checked. If its lookup is not
        covered, it has the same race as DGC001 (duplicate rows, then
        `MultipleObjectsReturned` and a 500), and no other rule will tell you. Select this
        code when you want every call either judged or looked at by a person.
    """,
    example="""
        def get_tag(manager, name):
            return manager.get_or_create(name=name)
    """,
    use_instead="""
        def get_tag(name):
            return Tag.objects.get_or_create(name=name)
    """,
    notes="""
        Where the call must stay generic, check it by hand and silence it with
        `# noqa: DGC100`.
    """,
    references=(GET_OR_CREATE, PROJECT_RULES),
    default=False,
    severity="warning",
)


def message(receiver: str, method: str, reason: str) -> str:
    return f"could not tell which model {shorten(receiver)}.{method}() uses: {reason}."
