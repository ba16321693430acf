"""What the command shows a person at a terminal, and only there: a progress line on stderr
while Django is set up and files are checked, a final summary line, and colour.

Progress and summary need stderr to be a terminal (never in CI logs or pipes); colour follows
``--color`` (auto: when the stream is a terminal), NO_COLOR and FORCE_COLOR (https://no-color.org,
https://force-color.org). The report on stdout stays exactly the machine format asked for.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from typing import TextIO

from flake8_django_goc.report.formats import Run

RESET = "\x1b[0m"
BOLD = "\x1b[1m"
RED = "\x1b[31m"
YELLOW = "\x1b[33m"
CLEAR_LINE = "\r\x1b[K"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def use_color(choice: str, stream: TextIO, environ: Mapping[str, str] = os.environ) -> bool:
    """``--color always|never|auto``; auto: NO_COLOR (any value) turns colour off, FORCE_COLOR
    (any value but "0" or "false") on, else on when ``stream`` is a terminal that is not dumb."""
    if choice == "always":
        return True
    if choice == "never" or environ.get("NO_COLOR"):
        return False
    force = environ.get("FORCE_COLOR")
    if force is not None and force.lower() not in {"0", "false"}:
        return True
    return _isatty(stream) and environ.get("TERM") != "dumb"


def paint(text: str, *styles: str, on: bool = True) -> str:
    return f"{''.join(styles)}{text}{RESET}" if on and styles else text


class Progress:
    """One line on stderr, overwritten in place; nothing at all unless stderr is a terminal."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self._shown = False

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        self.stream.write(f"{CLEAR_LINE}{text}")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self._shown = False


def summary(run: Run, color: bool = False) -> str:
    """``3 findings (DGC001 ×2, DGC004) in 2 of 37 files; 54 of 56 calls tied to a model``."""  # noqa: RUF002
    by_code = Counter(r.code for r in run.results)
    files = len({r.path for r in run.results})
    checked = f"{run.checked} file{'s' if run.checked != 1 else ''}"
    if by_code:
        codes = ", ".join(
            paint(code, BOLD, on=color) + (f" ×{n}" if n > 1 else "")  # noqa: RUF001
            for code, n in sorted(by_code.items())
        )
        total = len(run.results)
        head = f"{total} finding{'s' if total != 1 else ''} ({codes}) in {files} of {checked}"
    else:
        head = f"no findings in {checked}"
    parts = [head, f"{run.resolved} of {run.calls} calls tied to a model"]
    if run.skipped:
        skipped = len(run.skipped)
        text = f"{skipped} file{'s' if skipped != 1 else ''} not checked (see above)"
        parts.append(paint(text, RED, on=color))
    return "; ".join(parts)
