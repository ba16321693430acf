"""flake8's behaviour, reproduced so the command agrees with the plugin line by line.

Selection by code prefix (``DecisionEngine``), excludes and the directory walk, reading a file as
flake8 decodes it, and ``# noqa`` comments: each mirrors the flake8 7 function it names.
"""

from __future__ import annotations

import fnmatch
import io
import os
import re
import tokenize
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from flake8_django_goc.rules import OPT_IN, opted_in

# flake8's defaults.EXCLUDE, plus directories that never hold project code.
FLAKE8_EXCLUDE = (".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs")
DEFAULT_EXCLUDE = (*FLAKE8_EXCLUDE, "*.egg", ".venv", "venv", "node_modules", "build", "dist")

# flake8.defaults.NOQA_INLINE_REGEXP and NOQA_FILE, verbatim: results must agree with flake8's.
NOQA_INLINE = re.compile(
    r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?",
    re.IGNORECASE,
)
NOQA_FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.I)


LIST_SPLIT = re.compile(r"[,\s]")  # flake8.utils.COMMA_SEPARATED_LIST_RE


def split_list(value: str) -> list[str]:
    """flake8's comma-separated list parsing: commas or whitespace, empty items dropped."""
    return [item.strip() for item in LIST_SPLIT.split(value) if item.strip()]


# ---------------------------------------------------------------------------------- selection


class SelectOptions(Protocol):
    @property
    def select(self) -> list[str] | None: ...
    @property
    def extend_select(self) -> list[str]: ...
    @property
    def ignore(self) -> list[str] | None: ...
    @property
    def extend_ignore(self) -> list[str]: ...


class Selection:
    """flake8's DecisionEngine for DGC codes, plus the plugin's opt-in rule for DGC1xx."""

    def __init__(self, options: SelectOptions) -> None:
        extend_select, extend_ignore = options.extend_select, options.extend_ignore
        self.selected_explicitly = _prefixes([*(options.select or ()), *extend_select])
        self.ignored_explicitly = _prefixes([*(options.ignore or ()), *extend_ignore])
        # The plugin's codes are flake8's extended default select; OPT_IN its default ignore.
        default_select = ["DGC"] if options.select is None else options.select
        default_ignore = [*OPT_IN] if options.ignore is None else options.ignore
        self.selected = _prefixes([*default_select, *extend_select])
        self.ignored = _prefixes([*default_ignore, *extend_ignore])
        self.opted_in = frozenset(opted_in([*(options.select or ()), *extend_select]))
        self._cache: dict[str, bool] = {}

    def wants(self, code: str) -> bool:
        wanted = self._cache.get(code)
        if wanted is None:
            wanted = self._decide(code) and (not code.startswith(OPT_IN) or code in self.opted_in)
            self._cache[code] = wanted
        return wanted

    def _decide(self, code: str) -> bool:
        # flake8.style_guide.DecisionEngine.make_decision, same branches in the same order.
        selected_explicitly = code.startswith(self.selected_explicitly)
        selected = selected_explicitly or code.startswith(self.selected)
        ignored_explicitly = code.startswith(self.ignored_explicitly)
        ignored = ignored_explicitly or code.startswith(self.ignored)
        if selected and not ignored:
            return True
        if not selected and ignored:
            return False
        if selected_explicitly and not ignored_explicitly:
            return True
        if not selected_explicitly and ignored_explicitly:
            return False
        if not selected:  # neither selected nor ignored
            return False
        # In both lists (both explicitly or both implicitly): the longest prefix wins.
        select = next(s for s in self.selected if code.startswith(s))
        ignore = next(s for s in self.ignored if code.startswith(s))
        return len(select) > len(ignore)


def _prefixes(codes: list[str]) -> tuple[str, ...]:
    return tuple(sorted(codes, reverse=True))


# ---------------------------------------------------------------------------------- discovery


class Excluder:
    """flake8's exclude test: a pattern matches the basename or the absolute path."""

    def __init__(self, patterns: Sequence[str], cwd: str) -> None:
        self.cwd = cwd
        normalized = [os.path.normcase(p) for p in patterns]
        combined = "|".join(f"(?:{fnmatch.translate(p)})" for p in normalized)
        self._match = re.compile(combined).match if normalized else None

    def __call__(self, path: str) -> bool:
        if self._match is None:
            return False
        basename = os.path.basename(path)
        if basename not in {".", ".."} and self._match(os.path.normcase(basename)):
            return True
        absolute = os.path.normpath(os.path.join(self.cwd, path))
        return self._match(os.path.normcase(absolute)) is not None


def discover(
    paths: Sequence[str], excluded: Callable[[str], bool], no_migrations: bool = False
) -> Iterator[str]:
    """The files to check, like flake8: named files always (whatever their extension, unless
    excluded), ``*.py`` files found walking named directories in sorted order."""
    for arg in paths:
        if excluded(arg):
            continue
        if not os.path.isdir(arg):
            if not (no_migrations and _in_migrations(arg)):
                yield arg
            continue
        for root, dirs, files in os.walk(arg):
            dirs[:] = sorted(d for d in dirs if _walk_into(root, d, excluded, no_migrations))
            for name in sorted(files):
                path = os.path.join(root, name)
                if os.path.normcase(name).endswith(".py") and not excluded(path):
                    yield path


def _walk_into(root: str, name: str, excluded: Callable[[str], bool], no_migrations: bool) -> bool:
    path = os.path.join(root, name)
    if no_migrations and name == "migrations":
        return False
    # Any virtualenv, whatever its name: its site-packages are not the project's code.
    return not excluded(path) and not os.path.isfile(os.path.join(path, "pyvenv.cfg"))


def _in_migrations(path: str) -> bool:
    return "migrations" in os.path.normpath(path).split(os.sep)[:-1]


# ---------------------------------------------------------------------------- reading, noqa


def read_source(path: str) -> str:
    """The text of a Python file exactly as flake8 reads it (``FileProcessor.read_lines`` and
    ``strip_utf_bom``): the PEP 263 encoding or BOM, else latin-1 when that fails (an unknown
    codec or bytes the declared one cannot decode), universal newlines, a BOM dropped. So every
    readable file has a text, the same as the plugin sees. Raises OSError only."""
    with open(path, "rb") as file:
        data = file.read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)  # "utf-8-sig" when there is a BOM: it is dropped
    except (SyntaxError, UnicodeError):
        text = data.decode("latin-1")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text[:1] == "\ufeff":
        text = text[1:]
    elif text[:3] == "\xef\xbb\xbf":  # a BOM read as latin-1
        text = text[3:]
    return text


def noqa_line_mapping(lines: list[str]) -> dict[int, str]:
    """flake8's FileProcessor._noqa_line_mapping: the text searched for ``# noqa`` per line.

    Physical lines are grouped from token to token up to each NEWLINE or NL, so a multi-line
    string or a backslash continuation shares one noqa text, while the lines of a call split
    inside brackets (NL tokens) each keep their own: a call's findings, reported on its first
    line, are silenced by a ``# noqa`` on that line only.
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("".join(lines)).readline))
    except (tokenize.TokenError, SyntaxError):
        return {}
    mapping: dict[int, str] = {}
    min_line, max_line = len(lines) + 2, -1
    for kind, _, (start, _), (end, _), _ in tokens:
        if kind in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        min_line, max_line = min(min_line, start), max(max_line, end)
        if kind in (tokenize.NL, tokenize.NEWLINE):
            joined = "".join(lines[min_line - 1 : max_line])
            mapping.update(dict.fromkeys(range(min_line, max_line + 1), joined))
            min_line, max_line = len(lines) + 2, -1
    return mapping


def is_inline_ignored(code: str, noqa_text: str) -> bool:
    """flake8's Violation.is_inline_ignored: a bare ``# noqa`` silences everything; listed codes
    silence codes they prefix (compared case-sensitively, as flake8 does)."""
    match = NOQA_INLINE.search(noqa_text)
    if match is None:
        return False
    listed = match.group("codes")
    if listed is None:
        return True
    codes = tuple(split_list(listed))
    return code in codes or code.startswith(codes)
