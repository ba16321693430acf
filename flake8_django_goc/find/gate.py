"""The second text gate for hand-written checks: one definition must hold all a finding needs.

``could_contain_pair`` asks whether the *file* mentions a create and a check; in a code base's
tests that is true of one file in seven (Wagtail: 207 of 1,379), nearly all of them creating in
one test and checking in another. The finder's own gate (``pairs._Hot``) asks the same of each
*definition*, but needs the ``ast``, and the standalone command would pay ``ast.parse`` for every
such file (flake8 hands the plugin its tree for free). This gate asks it of the text: a
definition's span runs from its ``def``/``class`` line to the next such line indented no deeper,
which contains the definition's lines (and at most some trailing comments and the next
decorators). A span can only come out shorter than the definition when a string literal inside it
holds a line that starts, no deeper than the ``def``, with ``def ``/``class `` — and even then the
rest of the definition is the span of that line. So a file this gate rejects holds no definition
``_Hot`` would look at, and the command skips its parse without changing a finding.
"""

from __future__ import annotations

import re

from flake8_django_goc.find.pairs import VALIDATORS, Hot

_HEADER = re.compile(r"^([ \t]*)(async[ \t]+def|def|class)[ \t]", re.MULTILINE)


def may_hold_pair(source: str) -> bool:
    """Whether some definition's text holds what ``Hot.function`` asks for (or a validator)."""
    if any(token in source for token in VALIDATORS):
        return True
    find = source.find
    heads = [(m.start(), len(m.group(1)), m.group(2)) for m in _HEADER.finditer(source)]
    for index, (start, indent, kind) in enumerate(heads):
        if kind == "class":
            continue  # a class body is searched for validators only; its methods have spans
        end = next((at for at, deeper, _ in heads[index + 1 :] if deeper <= indent), len(source))

        def has(tokens: tuple[str, ...], start: int = start, end: int = end) -> bool:
            return any(find(token, start, end) != -1 for token in tokens)

        if has(Hot.CREATE) and has(Hot.CHECK) and has(Hot.BRANCH):
            return True
        if has(Hot.EXISTS) and has(("raise",)):
            return True
    return False
