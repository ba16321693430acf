"""The standalone command ``flake8-django-goc [PATHS...]`` (also ``python -m flake8_django_goc``).

The fast path for pre-commit and CI: the same codes, messages, positions, ``# noqa`` handling and
configuration keys as the flake8 plugin, without flake8, pycodestyle or pyflakes. Per file it costs
a read, a decode and a substring test; only files that pass that gate are parsed (``ast``, then
libcst). Neither flake8 nor libcst is imported unless a file passes the gate.

Exit codes: 0 nothing reported, 1 findings reported (0 with ``--exit-zero``), 2 the check could
not run or was incomplete: bad usage or configuration, Django setup failed, a named path does not
exist, or an internal error kept a file from being checked (``--exit-zero`` does not hide these).
"""

from __future__ import annotations

import argparse
import ast
import configparser
import fnmatch
import io
import multiprocessing
import os
import re
import sys
import tokenize
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import __version__
from .callsite import could_contain_call
from .check import (
    FileResult,
    Parsed,
    describe_failure,
    is_internal_error,
    judge_parsed,
    parse_source,
)
from .django_schema import SetupError, load_schema
from .django_schema import first_line as _first_line
from .formats import FORMATS, Result, Run, Skipped, render
from .isolation import findings_for_file
from .rules import OPT_IN, RULES, opted_in
from .suppressions import ConfigError, split_entries, with_extra_unique

if TYPE_CHECKING:
    from .schema import Schema

PROG = "flake8-django-goc"

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

FLAKE8_CONFIG_FILES = ("setup.cfg", "tox.ini", ".flake8")  # flake8's order; the first one wins
PYPROJECT_TABLE = "tool.flake8-django-goc"
LIST_KEYS = (
    "select",
    "extend-select",
    "ignore",
    "extend-ignore",
    "exclude",
    "extend-exclude",
    "django-goc-serializers",
)
STR_KEYS = ("django-settings-module", "django-goc-extra-unique")
PLUGIN_BOOL_KEYS = ("django-goc-stats", "django-goc-no-cache")
CLI_BOOL_KEYS = ("no-migrations",)  # our own: read from pyproject only, flake8 has no such key

# Subcommands take the first argument (``flake8-django-goc explain DGC001``, later). Without one
# the arguments are paths to check; a path that clashes with a subcommand is written ``./explain``.
SUBCOMMANDS: dict[str, Callable[[list[str]], int]] = {}

DESCRIPTION = """\
Check Django get_or_create()/update_or_create() calls whose lookup no database unique constraint
protects: the DGC checks of the flake8 plugin, without the rest of flake8."""

EPILOG = """\
configuration:
  Options come from, highest precedence first: the command line, [tool.flake8-django-goc] in
  ./pyproject.toml, then the [flake8] section of the first of ./setup.cfg, ./tox.ini, ./.flake8
  that has one (the keys the plugin reads: django-settings-module, select, extend-select, ignore,
  extend-ignore, exclude, extend-exclude, django-goc-stats, django-goc-no-cache,
  django-goc-extra-unique, django-goc-serializers; pyproject also takes no-migrations). The
  settings module falls back to $DJANGO_SETTINGS_MODULE. Each key is overridden on its own, as in
  flake8: extend-select on the command line adds to select from a config file.

selection:
  As in flake8, by code prefix; the opt-in codes (DGC1xx) are reported only when a select or
  extend-select entry names them specifically (DGC1, DGC10, DGC101): --select DGC does not.

subcommands:
  explain [CODE ...]                         print a rule's documentation (all codes without one)
  fix-models [PATH ...] [--dry-run|--diff]   add the missing UniqueConstraints to the models

exit codes:
  0 nothing reported, 1 something reported (0 with --exit-zero), 2 the check could not run or
  was incomplete (bad configuration, Django setup failed, a missing path, an internal error)."""


class UsageError(Exception):
    """A problem with the options or configuration; the message is shown as is."""


# ------------------------------------------------------------------------------ configuration


def split_list(value: str) -> list[str]:
    """flake8's comma-separated list parsing: commas or whitespace, empty items dropped."""
    return [item.strip() for item in LIST_SPLIT.split(value) if item.strip()]


def _key(raw: str) -> str:
    return raw.strip().lower().replace("_", "-")


def read_flake8_config(cwd: str) -> tuple[dict[str, Any], str | None]:
    """The plugin's keys from the [flake8] section of the first flake8 config file in ``cwd``."""
    for name in FLAKE8_CONFIG_FILES:
        path = os.path.join(cwd, name)
        if not os.path.isfile(path):
            continue
        cfg = configparser.RawConfigParser()
        try:
            cfg.read(path, encoding="utf-8")
        except (UnicodeDecodeError, configparser.Error) as exc:
            # flake8 ignores an unparseable file too and looks at the next one.
            _note(f"ignoring unparseable config {name}: {_first_line(exc)}")
            continue
        if "flake8" not in cfg and "flake8:local-plugins" not in cfg:
            continue  # flake8 only takes a file with a flake8 section
        where = f"[flake8] of {name}"
        if "flake8" not in cfg:
            return {}, where
        values: dict[str, Any] = {}
        for raw_key, raw in cfg["flake8"].items():
            key = _key(raw_key)
            if key in LIST_KEYS:
                values[key] = split_list(raw)
            elif key in STR_KEYS:
                values[key] = raw.strip()
            elif key in PLUGIN_BOOL_KEYS:
                values[key] = _boolean(raw, f"{key} in {where}")
            # other keys belong to flake8 and its other plugins
        return values, where
    return {}, None


def _boolean(raw: str, where: str) -> bool:
    state = configparser.RawConfigParser.BOOLEAN_STATES.get(raw.strip().lower())
    if state is None:
        raise UsageError(f"{where}: expected true or false, got {raw!r}")
    return state


def read_pyproject(cwd: str) -> dict[str, Any]:
    """``[tool.flake8-django-goc]`` of ``cwd``/pyproject.toml, with TOML types checked."""
    path = os.path.join(cwd, "pyproject.toml")
    if not os.path.isfile(path):
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read pyproject.toml: {_first_line(exc)}") from None
    table = data.get("tool", {}).get("flake8-django-goc")
    if table is None:
        return {}
    where = f"[{PYPROJECT_TABLE}] in pyproject.toml"
    if not isinstance(table, dict):
        raise UsageError(f"{where} must be a table")
    values: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = _key(raw_key)
        if key in LIST_KEYS:
            if isinstance(value, str):
                values[key] = split_list(value)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                values[key] = [item for v in value for item in split_list(v)]
            else:
                raise UsageError(f"{where}: {raw_key} must be a list of strings or a string")
        elif key in STR_KEYS:
            if isinstance(value, list) and key == "django-goc-extra-unique":
                value = " ".join(str(v) for v in value)  # a TOML list of entries is fine too
            if not isinstance(value, str):
                raise UsageError(f"{where}: {raw_key} must be a string")
            values[key] = value.strip()
        elif key in PLUGIN_BOOL_KEYS or key in CLI_BOOL_KEYS:
            if not isinstance(value, bool):
                raise UsageError(f"{where}: {raw_key} must be true or false")
            values[key] = value
        else:
            known = ", ".join((*STR_KEYS, *LIST_KEYS, *PLUGIN_BOOL_KEYS, *CLI_BOOL_KEYS))
            raise UsageError(f"{where}: unknown key {raw_key!r} (known keys: {known})")
    return values


@dataclass(frozen=True)
class Options:
    settings: str | None
    select: list[str] | None
    extend_select: list[str]
    ignore: list[str] | None
    extend_ignore: list[str]
    exclude: list[str]  # the patterns in force (exclude + extend-exclude), flake8-normalized
    no_migrations: bool
    stats: bool
    no_cache: bool
    origin: dict[str, str] = field(default_factory=dict)  # key -> where its value came from
    extra_unique: tuple[str, ...] = ()  # app.Model:field1,field2 entries
    serializers: tuple[str, ...] = ()  # decorators / context managers that serialise calls


def resolve_options(
    cli: dict[str, Any], cwd: str, environ: Mapping[str, str], isolated: bool
) -> Options:
    """Merge the command line (``cli``: keys given there), pyproject and the flake8 section."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    if not isolated:
        flake8_values, flake8_where = read_flake8_config(cwd)
        for key, value in flake8_values.items():
            values[key], origin[key] = value, flake8_where or ""
        for key, value in read_pyproject(cwd).items():
            values[key], origin[key] = value, f"[{PYPROJECT_TABLE}] in pyproject.toml"
    for key, value in cli.items():
        values[key], origin[key] = value, "the command line"
    settings = values.get("django-settings-module") or environ.get("DJANGO_SETTINGS_MODULE")
    if settings and "django-settings-module" not in values:
        origin["django-settings-module"] = "$DJANGO_SETTINGS_MODULE"
    exclude = [*values.get("exclude", DEFAULT_EXCLUDE), *values.get("extend-exclude", ())]
    return Options(
        settings=settings or None,
        select=values.get("select"),
        extend_select=values.get("extend-select", []),
        ignore=values.get("ignore"),
        extend_ignore=values.get("extend-ignore", []),
        exclude=[_normalize_pattern(p, cwd) for p in exclude],
        no_migrations=bool(values.get("no-migrations")),
        stats=bool(values.get("django-goc-stats")),
        no_cache=bool(values.get("django-goc-no-cache")),
        origin=origin,
        extra_unique=tuple(split_entries(values.get("django-goc-extra-unique"))),
        serializers=tuple(values.get("django-goc-serializers", ())),
    )


def load_project(options: Options, use_cache: bool | None = None) -> Schema:
    """The Schema for the configured settings, with the declared extra unique sets.

    Raises SetupError or ConfigError with a message for the user."""
    assert options.settings
    cache = not options.no_cache if use_cache is None else use_cache
    schema = load_schema(options.settings, use_cache=cache)
    return with_extra_unique(schema, options.extra_unique)


def _normalize_pattern(pattern: str, cwd: str) -> str:
    # flake8.utils.normalize_path: a pattern with a separator is a path relative to the config
    # (here always the current directory); a bare name or glob matches a basename anywhere.
    if pattern == "." or os.sep in pattern or (os.altsep and os.altsep in pattern):
        pattern = os.path.abspath(os.path.join(cwd, pattern))
    return pattern.rstrip(os.sep + (os.altsep or ""))


# ---------------------------------------------------------------------------------- selection


class Selection:
    """flake8's DecisionEngine for DGC codes, plus the plugin's opt-in rule for DGC1xx."""

    def __init__(self, options: Options) -> None:
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
    """The text of a Python file as flake8 reads it: PEP 263 encoding, BOM dropped, universal
    newlines. Raises OSError, or SyntaxError/UnicodeDecodeError when it cannot be decoded."""
    with open(path, "rb") as file:
        data = file.read()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)  # "utf-8-sig" when there is a BOM: it is dropped
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
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


# ------------------------------------------------------------------------------------- checks


class Checker:
    """Checks files one by one and collects the run's results."""

    def __init__(
        self,
        schema: Schema | None,
        selection: Selection,
        disable_noqa: bool = False,
        serializers: tuple[str, ...] = (),
    ) -> None:
        self.schema = schema
        self.selection = selection
        self.disable_noqa = disable_noqa
        self.serializers = serializers
        self.run = Run()
        self._by_file: list[tuple[str, list[Result]]] = []

    def skip(self, path: str, reason: str, internal: bool = False) -> None:
        self.run.skipped.append(Skipped(path, reason, internal))
        self.run.failed |= internal
        _note(f"skipped {path}: {reason}")

    def check(self, path: str) -> None:
        item = self._read(path)
        if item is not None and self._wanted(item) and not self._noqa_file(item):
            self._record(self._judge(item, _parse(item)))

    def check_all(
        self, paths: Iterable[str], jobs: int = 1, load: Callable[[], Schema] | None = None
    ) -> None:
        """Check ``paths``. With ``load``, the Schema is loaded here, while up to ``jobs`` forked
        workers parse the candidate files: the parse needs no Schema, so a cold run's Django
        setup and the libcst work overlap (no fork, e.g. on Windows: one process, in order)."""
        items = [item for item in map(self._read, paths) if item is not None]
        candidates = [i for i in items if could_contain_call(i.source) and not self._noqa_file(i)]
        workers = min(jobs, len(candidates))
        pool = None
        if workers >= 2 and "fork" in multiprocessing.get_all_start_methods():
            pool = multiprocessing.get_context("fork").Pool(workers)
        try:
            pending = pool.map_async(_parse, candidates, chunksize=1) if pool else None
            if load is not None:
                self.schema = load()
            parsed = pending.get() if pending else [_parse(item) for item in candidates]
        finally:
            if pool is not None:
                pool.terminate()
        for item, outcome in zip(candidates, parsed, strict=True):
            self._record(self._judge(item, outcome))
        for item in items:  # a settings file DGC007 reports on has no call but is checked
            settings = not could_contain_call(item.source) and self._wanted(item)
            if settings and not self._noqa_file(item):
                self._record(self._judge(item, _ParseOutcome()))

    def _read(self, path: str) -> _Prepared | None:
        """Read and decode ``path``; None (with a note) when that fails."""
        try:
            source = read_source(path)
        except OSError as exc:
            self.skip(path, f"cannot read it ({type(exc).__name__}: {exc.strerror or exc})")
            return None
        except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
            self.skip(path, f"cannot decode it ({_first_line(exc)})")
            return None
        return _Prepared(path, source)

    def _noqa_file(self, item: _Prepared) -> bool:
        """A file-level "flake8" noqa line: flake8 runs no plugin on the file."""
        return not self.disable_noqa and any(NOQA_FILE.match(line) for line in item.lines)

    def _wanted(self, item: _Prepared) -> bool:
        """The gate, once the Schema is known: a candidate, or a settings file to report on."""
        return could_contain_call(item.source) or bool(
            findings_for_file(self.schema.settings_findings, item.path)
        )

    def _judge(self, item: _Prepared, parsed: _ParseOutcome) -> _Outcome:
        if parsed.failure is not None:
            return _Outcome(item.path, failure=parsed.failure)
        if parsed.syntax_error:
            return _Outcome(item.path)  # flake8 reports E999 for it; not our business
        try:
            result = judge_parsed(parsed.calls, item.path, self.schema, self.serializers)
        except Exception as exc:  # one odd file must not end the run
            return _Outcome(item.path, failure=(describe_failure(exc), is_internal_error(exc)))
        results = self._results(item.path, item.lines if result.reports else [], result)
        return _Outcome(item.path, results, result.calls, result.resolved)

    def _record(self, outcome: _Outcome) -> None:
        if outcome.failure is not None:
            self.skip(outcome.path, *outcome.failure)
            return
        if outcome.results is None:
            return
        if outcome.calls:
            self.run.files += 1
            self.run.calls += outcome.calls
            self.run.resolved += outcome.resolved
        self._by_file.append((outcome.path, outcome.results))

    def _results(self, path: str, lines: list[str], result: FileResult) -> list[Result]:
        reports = [r for r in result.reports if self.selection.wants(r.finding.code)]
        if reports and not self.disable_noqa:
            mapping = noqa_line_mapping(lines)
            reports = [
                r
                for r in reports
                if not is_inline_ignored(r.finding.code, _noqa_text(mapping, lines, r.line))
            ]
        reports.sort(key=lambda r: (r.line, r.col))  # stable, as flake8 sorts
        return [Result(path, r.line, r.col + 1, r.finding.code, r.finding.message) for r in reports]

    def finish(self) -> Run:
        # flake8's order: files sorted by path (stable), each file's findings by position.
        for _, results in sorted(self._by_file, key=lambda item: item[0]):
            self.run.results.extend(results)
        return self.run


@dataclass(frozen=True)
class _Prepared:
    path: str
    source: str

    @property
    def lines(self) -> list[str]:
        return io.StringIO(self.source).readlines()


@dataclass(frozen=True)
class _Outcome:
    """What analysing one file gave; small and picklable, to come back from a worker."""

    path: str
    results: list[Result] | None = None  # None: nothing to record (e.g. a syntax error)
    calls: int = 0
    resolved: int = 0
    # Why it was skipped, and whether that is an internal error (libcst's limits are not).
    failure: tuple[str, bool] | None = None


@dataclass(frozen=True)
class _ParseOutcome:
    """The parse of one file; small and picklable, to come back from a worker."""

    calls: Parsed | None = None
    syntax_error: bool = False
    failure: tuple[str, bool] | None = None  # why it was skipped, and whether internal


def _parse(item: _Prepared) -> _ParseOutcome:
    try:
        tree = ast.parse(item.source)
    except (SyntaxError, ValueError):
        return _ParseOutcome(syntax_error=True)
    try:
        return _ParseOutcome(parse_source(item.source, tree))
    except Exception as exc:  # one odd file must not end the run
        return _ParseOutcome(failure=(describe_failure(exc), is_internal_error(exc)))


def _noqa_text(mapping: dict[int, str], lines: list[str], line: int) -> str:
    # flake8 falls back to the physical line (linecache) when tokenizing failed.
    text = mapping.get(line)
    if text is None:
        text = lines[line - 1] if 0 < line <= len(lines) else ""
    return text


# ---------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("paths", nargs="*", metavar="PATH", help="files and directories to check (default: .)")
    add(
        "--django-settings-module",
        metavar="MODULE",
        help="dotted path of the Django settings module (default: from the config files, then "
        "$DJANGO_SETTINGS_MODULE); run from the project root, which is put on sys.path",
    )
    for name, what in (
        ("select", "codes (prefixes) to report (default: DGC)"),
        ("extend-select", "codes to add to the selection (DGC101, DGC1 for the opt-in codes)"),
        ("ignore", "codes to ignore (default: DGC1, the opt-in codes)"),
        ("extend-ignore", "codes to add to the ignored ones"),
    ):
        add(f"--{name}", metavar="CODES", type=split_list, help=f"comma-separated {what}")
    add(
        "--exclude",
        metavar="PATTERNS",
        type=split_list,
        help="comma-separated glob patterns of files and directories to skip, replacing the "
        f"default ({','.join(DEFAULT_EXCLUDE)}); directories holding a pyvenv.cfg are always "
        "skipped when walking",
    )
    add("--extend-exclude", metavar="PATTERNS", type=split_list, help="patterns to add to them")
    add(
        "--no-migrations",
        action="store_true",
        default=None,
        help="skip files in migrations/ directories (named files too)",
    )
    add("--format", choices=list(FORMATS), default="default", help="output format")
    add("--output-file", metavar="FILE", help="write the report to FILE instead of stdout")
    add(
        "--django-goc-stats",
        action="store_true",
        default=None,
        help="print how many calls were tied to a model, on stderr",
    )
    add(
        "--django-goc-no-cache",
        "--no-cache",
        action="store_true",
        default=None,
        help="set Django up even when the cached model facts are still fresh",
    )
    add(
        "--django-goc-extra-unique",
        metavar="ENTRIES",
        help="unique sets the database has but the models do not declare (a unique index made "
        "by a RunSQL migration): whitespace-separated app.Model:field1,field2 entries",
    )
    add(
        "--django-goc-serializers",
        metavar="NAMES",
        type=split_list,
        help="comma-separated decorators or context managers that serialise a code path (a "
        "lock): race findings under them are not reported",
    )
    add(
        "-j",
        "--jobs",
        type=_jobs,
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes for the files that hold calls: a number or 'auto' (the default: one "
        "per CPU), as flake8's -j",
    )
    add("--exit-zero", action="store_true", help="exit 0 even when something is reported")
    add("--disable-noqa", action="store_true", help="ignore noqa comments")
    add("--isolated", action="store_true", help="ignore the configuration files")
    add(
        "-q",
        "--quiet",
        action="count",
        default=0,
        help="-q: print only the paths of files with findings (default format); -qq: no report",
    )
    add("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in SUBCOMMANDS:
            return SUBCOMMANDS[args[0]](args[1:])
        return check_command(args)
    except KeyboardInterrupt:
        return 130


def _jobs(value: str) -> int:
    if value.strip().lower() == "auto":
        return os.cpu_count() or 1
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {value!r}") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return jobs


def given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The configuration keys given on the command line (they override the config files)."""
    keys = (*STR_KEYS, *LIST_KEYS, *PLUGIN_BOOL_KEYS, *CLI_BOOL_KEYS)
    values = {key: getattr(args, key.replace("-", "_"), None) for key in keys}
    return {key: value for key, value in values.items() if value is not None}


def check_command(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    cwd = os.getcwd()
    given = given_options(args)
    try:
        options = resolve_options(given, cwd, os.environ, args.isolated)
    except UsageError as exc:
        return _fail(str(exc))
    selection = Selection(options)
    if not any(selection.wants(code) for code in RULES):
        return _fail(_nothing_selected(options))
    if not options.settings:
        return _fail(
            "no Django settings module is configured. Pass --django-settings-module="
            "mysite.settings, set `django-settings-module = mysite.settings` in "
            f"[{PYPROJECT_TABLE}] of pyproject.toml or in the [flake8] section of setup.cfg, "
            "tox.ini or .flake8, or export DJANGO_SETTINGS_MODULE."
        )
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        return _fail(f"no such file or directory: {', '.join(missing)}")
    checker = Checker(None, selection, args.disable_noqa, options.serializers)
    excluded = Excluder(options.exclude, cwd)
    paths = discover(args.paths or ["."], excluded, options.no_migrations)
    try:
        checker.check_all(paths, args.jobs, load=lambda: load_project(options))
    except (SetupError, ConfigError) as exc:
        return _fail(str(exc))
    run = checker.finish()

    text = render(args.format, run, args.quiet)
    try:
        _emit(text, args.output_file)
    except OSError as exc:
        return _fail(f"cannot write {args.output_file}: {_first_line(exc)}")
    if options.stats:
        from .stats import summary

        sys.stderr.write(summary(run.files, run.calls, run.resolved) + "\n")
    if run.failed:
        return 2
    return 1 if run.results and not args.exit_zero else 0


def _nothing_selected(options: Options) -> str:
    chosen = [
        f"{key} = {','.join(values or ())} (from {options.origin[key]})"
        for key, values in (
            ("select", options.select),
            ("ignore", options.ignore),
            ("extend-ignore", options.extend_ignore),
        )
        if key in options.origin
    ]
    return (
        f"no DGC code is selected ({'; '.join(chosen) or 'nothing'}). Select them with "
        f'--select DGC, `select = ["DGC"]` in [{PYPROJECT_TABLE}] of pyproject.toml, or '
        "`extend-select = DGC` in the [flake8] section."
    )


def _emit(text: str, output_file: str | None) -> None:
    if output_file:
        with open(output_file, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        return
    if not text:
        return
    try:
        # UTF-8 whatever the locale, as flake8 writes.
        stream = getattr(sys.stdout, "buffer", None)
        if stream is not None:
            sys.stdout.flush()
            stream.write(text.encode("utf-8"))
            stream.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except BrokenPipeError:
        # `| head`: the reader left; stop writing without a traceback at interpreter exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _fail(message: str) -> int:
    _note(message)
    return 2


def _note(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")


# ---------------------------------------------------------------------------------- subcommands


def explain_command(argv: list[str]) -> int:
    """``explain [CODE ...]``: a rule's documentation at the terminal, like ``ruff rule``."""
    from . import rule_docs

    parser = argparse.ArgumentParser(
        prog=f"{PROG} explain",
        description="Print the documentation of DGC rules; without a code, list them all.",
    )
    parser.add_argument("codes", nargs="*", metavar="CODE", help="rule codes, e.g. DGC001")
    parser.add_argument("--all", action="store_true", help="list every code with its summary")
    args = parser.parse_args(argv)
    if args.all or not args.codes:
        _emit(rule_docs.summary_lines(), None)
        return 0
    unknown = [code for code in args.codes if rule_docs.lookup(code) is None]
    if unknown:
        return _fail(
            f"unknown rule code {', '.join(unknown)}; the codes are {', '.join(rule_docs.DOCS)} "
            f"(`{PROG} explain` lists them)"
        )
    docs = [rule_docs.DOCS[code.strip().upper()] for code in args.codes]
    _emit("\n".join(rule_docs.markdown(doc) for doc in docs), None)
    return 0


def fix_models_command(argv: list[str]) -> int:
    """``fix-models [PATHS] [--dry-run | --diff]``: add the missing constraints to the models."""
    from .fix_models import main as fix_models_main

    return fix_models_main(argv)


SUBCOMMANDS["explain"] = explain_command
SUBCOMMANDS["fix-models"] = fix_models_command
