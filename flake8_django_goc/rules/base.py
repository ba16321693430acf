"""A rule's one declaration: code, name, summary, default, severity, race class and docs.

Each ``dgcNNN.py`` module beside this one declares ``RULE = Rule(...)``; the registry
(``rules/__init__.py``) collects them, and everything else reads a rule from there: flake8's and
the command's selection, SARIF's rule metadata and levels, the lock filter (``race``), ``explain``,
``docs/rules/`` and the README table. The docs have the sections of a ruff rule page (What it
does, Why is this bad?, Example, Use instead, References).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Literal

DOCS_URI = "https://github.com/flake8-django-goc/flake8-django-goc/blob/main/docs/rules"
FIX_MODELS = "flake8-django-goc fix-models"
SECTIONS = ("what", "why", "example", "use_instead", "references")

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str  # kebab-case, stable: `explain NAME` takes it, SARIF turns it into the rule's name
    summary: str  # one line, lower case, no final period
    what: str  # Markdown
    why: str  # Markdown
    example: str  # Python
    use_instead: str  # Python
    references: tuple[tuple[str, str], ...]  # (title, url)
    default: bool = True  # on by default; False: reported only when selected by name (opt-in)
    severity: Severity = "error"  # SARIF level and the command's github/json level
    # A race between two concurrent calls: a configured serialising lock makes it moot.
    race: bool = False
    fixable: bool = False  # fix-models can add the constraint the finding names
    notes: str = ""  # Markdown, optional

    def __post_init__(self) -> None:
        # Sources are written indented inside their module; store them flush left.
        for name in ("what", "why", "example", "use_instead", "notes"):
            object.__setattr__(self, name, textwrap.dedent(getattr(self, name)).strip())

    @property
    def opt_in(self) -> bool:
        return not self.default

    @property
    def summary_sentence(self) -> str:
        text = self.summary.replace(" (opt-in)", "")
        first = text.split(" ", 1)[0]
        if first.isalpha():  # not code like "filter()/exclude()", which keeps its case
            text = text[:1].upper() + text[1:]
        return text + ("" if text.endswith(".") else ".")

    @property
    def uri(self) -> str:
        return f"{DOCS_URI}/{self.code}.md"

    @property
    def title(self) -> str:
        return f"{self.code}: {self.name}"

    def status(self) -> str:
        if self.opt_in:
            on = f"Opt-in: reported only when selected, e.g. `--extend-select {self.code}`."
        else:
            on = "On by default."
        if self.fixable:
            on += f" The constraint it names can be added by `{FIX_MODELS}`."
        return on
