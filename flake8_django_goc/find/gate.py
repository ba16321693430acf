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
rest of the definition is the span of that line. Code at module level (a top-level ``try``/``if``
runs at import like a function body) is read as one more span: the file without its top-level
definitions, each cut from its ``def``/``class`` line to the next line that starts in column 0
(a decorator, a comment or a signature's closing bracket only make that span longer). So a file
this gate rejects holds nothing ``Hot`` would look at, and the command skips its parse without
changing a finding.
"""

from __future__ import annotations

import re

from flake8_django_goc.find.pairs import VALIDATORS, Hot

_HEADER = re.compile(r"^([ \t]*)(async[ \t]+def|def|class)[ \t]", re.MULTILINE)
_COLUMN_0 = re.compile(r"^[^\s#]", re.MULTILINE)  # a line of code that starts in column 0


def may_hold_pair(source: str) -> bool:
    """Whether some definition's text holds what ``Hot.function`` asks for (or a validator)."""
    if any(token in source for token in VALIDATORS):
        return True
    heads = [(m.start(), len(m.group(1)), m.group(2)) for m in _HEADER.finditer(source)]
    ends = _span_ends(heads, len(source))
    module: list[str] = []  # the text outside top-level definitions
    done = 0
    for (start, indent, kind), end in zip(heads, ends, strict=True):
        if indent == 0 and start >= done:
            module.append(source[done:start])
            line_end = source.find("\n", start)
            after = _COLUMN_0.search(source, line_end + 1) if line_end != -1 else None
            done = after.start() if after is not None else len(source)
        if kind == "class":
            continue  # a class body is searched for validators only; its methods have spans
        if _holds_finding(source, start, end):
            return True
    module.append(source[done:])
    text = "\n".join(module)
    return _holds_finding(text, 0, len(text))


def _span_ends(heads: list[tuple[int, int, str]], length: int) -> list[int]:
    """For each header, where the next header indented no deeper starts (one pass from the end,
    keeping the headers not yet closed)."""
    ends = [length] * len(heads)
    open_heads: list[tuple[int, int]] = []  # (indent, start), indents increasing towards the top
    for index in range(len(heads) - 1, -1, -1):
        start, indent, _ = heads[index]
        while open_heads and open_heads[-1][0] > indent:
            open_heads.pop()
        if open_heads:
            ends[index] = open_heads[-1][1]
        open_heads.append((indent, start))
    return ends


def _holds_finding(source: str, start: int, end: int) -> bool:
    """``Hot.function``'s question of ``source[start:end]``."""
    find = source.find

    def has(tokens: tuple[str, ...]) -> bool:
        return any(find(token, start, end) != -1 for token in tokens)

    if has(Hot.CREATE) and has(Hot.CHECK) and has(Hot.BRANCH):
        return True
    return has(Hot.EXISTS) and has(("raise",))
