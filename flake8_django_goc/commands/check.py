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
import io
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flake8_django_goc import __version__
from flake8_django_goc.commands.config import (
    CLI_BOOL_KEYS,
    LIST_KEYS,
    PLUGIN_BOOL_KEYS,
    PYPROJECT_TABLE,
    STR_KEYS,
    Options,
    UsageError,
    resolve_options,
)
from flake8_django_goc.commands.console import PROG, emit, fail, note
from flake8_django_goc.commands.flake8_compat import (
    DEFAULT_EXCLUDE,
    NOQA_FILE,
    Excluder,
    Selection,
    discover,
    is_inline_ignored,
    noqa_line_mapping,
    read_source,
    split_list,
)
from flake8_django_goc.pipeline import (
    FileResult,
    Parsed,
    could_hold_finding,
    describe_failure,
    is_internal_error,
    judge_parsed,
    parse_source,
)
from flake8_django_goc.report.formats import FORMATS, Result, Run, Skipped, render
from flake8_django_goc.rules import RULES
from flake8_django_goc.schema import findings_for_file
from flake8_django_goc.schema.declared import ConfigError, with_extra_unique
from flake8_django_goc.schema.django.build import load_schema
from flake8_django_goc.schema.django.setup import SetupError
from flake8_django_goc.schema.django.setup import first_line as _first_line

if TYPE_CHECKING:
    from flake8_django_goc.schema import Schema

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
        note(f"skipped {path}: {reason}")

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
        candidates = [i for i in items if could_hold_finding(i.source) and not self._noqa_file(i)]
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
            settings = not could_hold_finding(item.source) and self._wanted(item)
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
        return could_hold_finding(item.source) or bool(
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


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    cwd = os.getcwd()
    given = given_options(args)
    try:
        options = resolve_options(given, cwd, os.environ, args.isolated)
    except UsageError as exc:
        return fail(str(exc))
    selection = Selection(options)
    if not any(selection.wants(code) for code in RULES):
        return fail(_nothing_selected(options))
    if not options.settings:
        return fail(
            "no Django settings module is configured. Pass --django-settings-module="
            "mysite.settings, set `django-settings-module = mysite.settings` in "
            f"[{PYPROJECT_TABLE}] of pyproject.toml or in the [flake8] section of setup.cfg, "
            "tox.ini or .flake8, or export DJANGO_SETTINGS_MODULE."
        )
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        return fail(f"no such file or directory: {', '.join(missing)}")
    checker = Checker(None, selection, args.disable_noqa, options.serializers)
    excluded = Excluder(options.exclude, cwd)
    paths = discover(args.paths or ["."], excluded, options.no_migrations)
    try:
        checker.check_all(paths, args.jobs, load=lambda: load_project(options))
    except (SetupError, ConfigError) as exc:
        return fail(str(exc))
    run = checker.finish()

    text = render(args.format, run, args.quiet)
    try:
        emit(text, args.output_file)
    except OSError as exc:
        return fail(f"cannot write {args.output_file}: {_first_line(exc)}")
    if options.stats:
        from flake8_django_goc.report.stats import summary

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


def load_project(options: Options, use_cache: bool | None = None) -> Schema:
    """The Schema for the configured settings, with the declared extra unique sets.

    Raises SetupError or ConfigError with a message for the user."""
    assert options.settings
    cache = not options.no_cache if use_cache is None else use_cache
    schema = load_schema(options.settings, use_cache=cache)
    return with_extra_unique(schema, options.extra_unique)
