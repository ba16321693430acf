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
import dataclasses
import gc
import io
import multiprocessing
import os
import sys
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from flake8_django_goc import __version__
from flake8_django_goc.commands.config import (
    PYPROJECT_TABLE,
    Options,
    UsageError,
    resolve_options,
)
from flake8_django_goc.commands.console import PROG, emit, fail, note
from flake8_django_goc.commands.flake8_compat import (
    NOQA_FILE,
    Excluder,
    Selection,
    discover,
    is_inline_ignored,
    noqa_line_mapping,
    read_source,
)
from flake8_django_goc.options import CHECK, given, key_list, parent
from flake8_django_goc.pipeline import (
    FileResult,
    Parsed,
    could_hold_finding,
    describe_failure,
    is_internal_error,
    judge_parsed,
    parse_source,
    worth_parsing,
)
from flake8_django_goc.report.formats import Result, Run, Skipped, render
from flake8_django_goc.report.terminal import Progress, use_color
from flake8_django_goc.report.terminal import summary as final_summary
from flake8_django_goc.rules import RULES
from flake8_django_goc.schema import findings_for_file
from flake8_django_goc.schema.declared import ConfigError, with_extra_unique
from flake8_django_goc.schema.django.build import load_schema
from flake8_django_goc.schema.django.setup import SetupError
from flake8_django_goc.schema.django.setup import first_line as _first_line

if TYPE_CHECKING:
    from flake8_django_goc.rules import Finding
    from flake8_django_goc.schema import Schema

DESCRIPTION = """\
Check Django get_or_create()/update_or_create() calls whose lookup no database unique constraint
protects: the DGC checks of the flake8 plugin, without the rest of flake8."""

_CONFIGURATION = (
    "Options come from, highest precedence first: the command line, [tool.flake8-django-goc] in "
    "pyproject.toml, then the [flake8] section of the first of setup.cfg, tox.ini, .flake8 that "
    "has one, in the current directory or the nearest parent directory holding one (as flake8 "
    f"finds its config). The keys: {key_list()}. The settings module falls back to "
    '$DJANGO_SETTINGS_MODULE, then to the os.environ.setdefault("DJANGO_SETTINGS_MODULE", ...) '
    "line of manage.py (read, never run). Each key is overridden on its own, as in flake8: "
    "extend-select on the command line adds to select from a config file."
)
_WRAPPED = textwrap.fill(
    _CONFIGURATION, 98, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
)
EPILOG = f"""\
configuration:
{_WRAPPED}

project root:
  The directory put on sys.path, as manage.py does: --django-project-root, else the nearest
  directory holding manage.py walking up from the current directory, then from each path
  checked (a monorepo's backend/), else the config file's directory, else the current one.

selection:
  As in flake8, by code prefix; the opt-in codes (DGC1xx) are reported only when a select or
  extend-select entry names them specifically (DGC1, DGC10, DGC101): --select DGC does not.

output:
  The report goes to stdout (or --output-file), notes and skipped files to stderr. On a
  terminal, stderr also shows progress and a final summary line, and the default format is
  coloured (--color; NO_COLOR, FORCE_COLOR). json and sarif always write a valid document, also
  when the check cannot run (then with the error).

subcommands:
  explain [CODE ...]                         print a rule's documentation (all codes without one)
  fix-models [PATH ...] [--dry-run|--diff]   add the missing UniqueConstraints to the models
  db-check [--database ALIAS ...] [PATH ...]  read the databases (read-only): DGC201-203

exit codes:
  0 nothing reported, 1 something reported (0 with --exit-zero), 2 the check could not run or
  was incomplete (bad configuration, Django setup failed, a missing path, a file that could not
  be read or parsed, an internal error)."""


# ------------------------------------------------------------------------------------- checks

FILES_PER_WORKER = 8  # fewer files than this per worker: no fork


class Checker:
    """Checks files one by one and collects the run's results."""

    def __init__(
        self,
        schema: Schema | None,
        selection: Selection,
        disable_noqa: bool = False,
        serializers: tuple[str, ...] = (),
        on_report: Callable[[Result, Finding], None] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.schema = schema
        self.selection = selection
        self.disable_noqa = disable_noqa
        self.serializers = serializers
        # Called with each reported finding (after selection and noqa), e.g. to keep its fix.
        self.on_report = on_report
        self.progress = progress or Progress(sys.stderr, enabled=False)
        self.run = Run()
        self._by_file: list[tuple[str, list[Result]]] = []
        if schema is not None:
            self.loaded(schema)

    def loaded(self, schema: Schema) -> None:
        """Use ``schema``; what could not be read of the project is named once, on stderr and
        in the report (a missing related model, an unreadable manager...)."""
        self.schema = schema
        self.run.warnings = list(schema.warnings)
        for warning in schema.warnings:
            self.progress.clear()
            note(f"warning: {warning}")

    def skip(self, path: str, reason: str, internal: bool = False, line: int | None = None) -> None:
        """A file the check could not go through: the run is incomplete (exit code 2)."""
        self.run.skipped.append(Skipped(path, reason, internal, line))
        self.run.failed = True
        self.progress.clear()
        note(f"skipped {path}{'' if line is None else f':{line}'}: {reason}")

    def check(self, path: str) -> None:
        item, error = _prepare(path, self.disable_noqa)
        if error is not None:
            self.skip(path, error)
        elif item is not None and not item.noqa_file:
            if item.parsed is not None:
                self._record(self._judge(item, item.parsed))
            elif self._wanted(item):  # a settings file DGC007 reports on
                self._settings_file(path)

    def _settings_file(self, path: str) -> None:
        """A file with no candidate call that DGC007 reports on (read again: the workers send
        back only the candidates' text)."""
        try:
            item = _Prepared(path, read_source(path))
        except OSError as exc:
            self.skip(path, _unreadable(exc))
            return
        if not _noqa_file(item, self.disable_noqa):
            self._record(self._judge(item, _ParseOutcome()))

    def check_all(
        self, paths: Iterable[str], jobs: int = 1, load: Callable[[], Schema] | None = None
    ) -> None:
        """Check ``paths`` with up to ``jobs`` processes: this one and forked workers, which
        read the files and parse the candidates (neither needs the Schema). With ``load``, this
        process first loads the Schema, then joins the workers: a cold run's Django setup keeps
        a core busy, so the workers get the others and the setup is not slowed by them (no
        fork, e.g. on Windows: one process, in order)."""
        show = self.progress.show
        paths = list(paths)
        # A worker pays for its fork: a few files are read and parsed here (a pre-commit run).
        forks = min(jobs, len(paths) // FILES_PER_WORKER) - 1 if _CAN_FORK else 0
        share = _Share(paths, self.disable_noqa, forked=forks >= 1)
        pool = None
        if forks >= 1:
            pool = multiprocessing.get_context("fork").Pool(
                forks, initializer=_start_worker, initargs=(share,)
            )
        try:
            pending = pool.map_async(_work, range(forks)) if pool else None
            if load is not None:
                show(f"setting Django up; reading {len(paths)} files")
                self.loaded(load())
            show(f"reading and parsing {len(paths)} files")
            done = share.work()
            if pending is not None:
                for part in pending.get():
                    done.extend(part)
        finally:
            if pool is not None:
                pool.terminate()
        prepared = [outcome for _, outcome in sorted(done, key=lambda pair: pair[0])]
        items = []
        for path, (item, error) in zip(paths, prepared, strict=True):
            if error is not None:
                self.skip(path, error)
            elif item is not None:
                items.append(item)
        self.run.checked = len(items)
        candidates = [item for item in items if item.parsed is not None]
        for count, item in enumerate(candidates, 1):
            show(f"checking {count}/{len(candidates)} files: {item.path}")
            assert item.parsed is not None
            self._record(self._judge(item, item.parsed))
        self.progress.clear()
        for item in items:  # a settings file DGC007 reports on has no call but is checked
            if item.parsed is None and not item.noqa_file and self._wanted(item):
                self._settings_file(item.path)

    def _wanted(self, item: _Prepared) -> bool:
        """The gate, once the Schema is known: a candidate, or a settings file to report on."""
        assert self.schema is not None, "the Schema is loaded before files are judged"
        return could_hold_finding(item.source) or bool(
            findings_for_file(self.schema.settings_findings, item.path)
        )

    def _judge(self, item: _Prepared, parsed: _ParseOutcome) -> _Outcome:
        # A file Python cannot parse (flake8: E999) is not a clean file: it was not checked.
        if parsed.failure is not None:
            return _Outcome(item.path, failure=parsed.failure, line=parsed.line)
        assert self.schema is not None, "the Schema is loaded before files are judged"
        try:
            result = judge_parsed(parsed.calls, item.path, self.schema, self.serializers)
        except Exception as exc:  # one odd file must not end the run
            return _Outcome(item.path, failure=(describe_failure(exc), is_internal_error(exc)))
        results = self._results(item.path, item.lines if result.reports else [], result)
        return _Outcome(item.path, results, result.calls, result.resolved)

    def _record(self, outcome: _Outcome) -> None:
        if outcome.failure is not None:
            self.skip(outcome.path, *outcome.failure, line=outcome.line)
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
        results = []
        for r in reports:
            results.append(Result(path, r.line, r.col + 1, r.finding.code, r.finding.message))
            if self.on_report is not None:
                self.on_report(results[-1], r.finding)
        return results

    def finish(self) -> Run:
        # flake8's order: files sorted by path (stable), each file's findings by position.
        for _, results in sorted(self._by_file, key=lambda item: item[0]):
            self.run.results.extend(results)
        return self.run


@dataclass(frozen=True)
class _Prepared:
    path: str
    source: str
    # Set by _prepare(): the parse of a candidate file (None: not a candidate, whose source is
    # then left empty), and whether a file-level noqa line makes flake8 skip the file.
    parsed: _ParseOutcome | None = None
    noqa_file: bool = False

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
    line: int | None = None  # where, when known (a syntax error)


@dataclass(frozen=True)
class _ParseOutcome:
    """The parse of one file; small and picklable, to come back from a worker."""

    calls: Parsed | None = None
    failure: tuple[str, bool] | None = None  # why it was skipped, and whether internal
    line: int | None = None


class _Share:
    """The files of a run, handed out a few at a time to whichever process asks next (a shared
    counter, inherited by the forked workers): the workers start at once, this process once
    the Schema is loaded, and none waits while another has files left."""

    CHUNK = 4  # small: the few files that need a parse must not queue behind one process

    def __init__(self, paths: list[str], disable_noqa: bool, forked: bool) -> None:
        self.paths = paths
        self.disable_noqa = disable_noqa
        self.next = multiprocessing.get_context("fork").Value("l", 0) if forked else None
        self._alone = 0

    def work(self) -> list[tuple[int, tuple[_Prepared | None, str | None]]]:
        """Prepare files until none is left: each with its index in ``paths``."""
        done = []
        enabled = gc.isenabled()
        gc.disable()  # a parse makes many objects and no cycles: the GC would only re-walk them
        try:
            while (start := self._claim()) < len(self.paths):
                for index in range(start, min(start + self.CHUNK, len(self.paths))):
                    done.append((index, _prepare(self.paths[index], self.disable_noqa)))
        finally:
            if enabled:
                gc.enable()
        return done

    def _claim(self) -> int:
        """The first index of the next chunk no process has taken."""
        if self.next is None:  # no fork: this process alone
            start, self._alone = self._alone, self._alone + self.CHUNK
            return start
        with self.next.get_lock():
            start = int(self.next.value)
            self.next.value = start + self.CHUNK
        return start


_CAN_FORK = "fork" in multiprocessing.get_all_start_methods()
_shared: _Share | None = None  # a forked worker's share of the run


def _start_worker(share: _Share) -> None:
    global _shared
    _shared = share


def _work(_: int) -> list[tuple[int, tuple[_Prepared | None, str | None]]]:
    assert _shared is not None, "set by _start_worker"
    return _shared.work()


def _prepare(path: str, disable_noqa: bool) -> tuple[_Prepared | None, str | None]:
    """Read and decode ``path`` as flake8 does, and parse it when it can hold a finding: the
    file, or why it cannot be read. Runs in the workers; needs no Schema."""
    try:
        source = read_source(path)
    except OSError as exc:
        return None, _unreadable(exc)
    if not could_hold_finding(source):
        return _Prepared(path, ""), None  # the text goes back to the main process only if needed
    item = _Prepared(path, source)
    if _noqa_file(item, disable_noqa):
        return dataclasses.replace(item, noqa_file=True), None
    return dataclasses.replace(item, parsed=_parse(item)), None


def _noqa_file(item: _Prepared, disable_noqa: bool) -> bool:
    """A file-level "flake8" noqa line: flake8 runs no plugin on the file."""
    return not disable_noqa and any(NOQA_FILE.match(line) for line in item.lines)


def _unreadable(exc: OSError) -> str:
    return f"cannot read it ({type(exc).__name__}: {exc.strerror or exc})"


def _parse(item: _Prepared) -> _ParseOutcome:
    if not worth_parsing(item.source):
        return _ParseOutcome()  # no definition holds a check and a create: no ast.parse
    try:
        tree = ast.parse(item.source)
    except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte (Python 3.11)
        if isinstance(exc, SyntaxError):  # exc.msg: without str()'s "(<unknown>, line 1)"
            why, line = f"{type(exc).__name__}: {exc.msg}", exc.lineno
        else:
            why, line = _first_line(exc), None
        return _ParseOutcome(failure=(f"cannot parse it ({why})", False), line=line)
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
        parents=[parent(CHECK)],
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="files and directories to check (default: .)"
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The configuration keys given on the command line (they override the config files)."""
    return given(args)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    cwd = os.getcwd()
    given = given_options(args)
    try:
        options = resolve_options(given, cwd, os.environ, args.isolated, args.paths)
    except UsageError as exc:
        return _cannot_run(args, str(exc))
    selection = Selection(options)
    if not any(selection.wants(code) for code in RULES):
        return _cannot_run(args, _nothing_selected(options))
    if not options.settings:
        return _cannot_run(
            args,
            "no Django settings module is configured. Pass --django-settings-module="
            "mysite.settings, set `django-settings-module = mysite.settings` in "
            f"[{PYPROJECT_TABLE}] of pyproject.toml or in the [flake8] section of setup.cfg, "
            "tox.ini or .flake8, or export DJANGO_SETTINGS_MODULE (no manage.py that sets it "
            "was found in this directory or above).",
        )
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        return _cannot_run(args, f"no such file or directory: {', '.join(missing)}")
    # Progress and the summary line only for a person at a terminal (stderr), never in CI logs.
    terminal = _isatty(sys.stderr) and args.color != "never"
    progress = Progress(sys.stderr, enabled=terminal)
    checker = Checker(None, selection, args.disable_noqa, options.serializers, progress=progress)
    excluded = Excluder(options.exclude, cwd)
    paths = discover(args.paths or ["."], excluded, options.no_migrations)
    try:
        checker.check_all(paths, args.jobs, load=lambda: load_project(options))
    except (SetupError, ConfigError) as exc:
        progress.clear()
        return _cannot_run(args, str(exc))
    run = checker.finish()

    color = args.output_file is None and use_color(args.color, sys.stdout)
    text = render(args.format, run, args.quiet, color)
    try:
        emit(text, args.output_file)
    except OSError as exc:
        return fail(f"cannot write {args.output_file}: {_first_line(exc)}")
    if options.stats:
        from flake8_django_goc.report.stats import summary

        sys.stderr.write(summary(run.files, run.calls, run.resolved) + "\n")
    if terminal and args.format == "default" and args.quiet < 2:
        sys.stderr.write(final_summary(run, use_color(args.color, sys.stderr)) + "\n")
    if run.failed:
        return 2
    return 1 if run.results and not args.exit_zero else 0


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def _cannot_run(args: argparse.Namespace, message: str) -> int:
    """The check could not run: say why on stderr and, for the machine formats, in a document
    of their own (an --output-file is always written), then exit 2."""
    note(message)
    if args.format != "default":
        try:
            emit(render(args.format, Run(error=message)), args.output_file)
        except OSError as exc:
            note(f"cannot write {args.output_file}: {_first_line(exc)}")
    return 2


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
    schema = load_schema(options.settings, use_cache=cache, root=options.root or None)
    return with_extra_unique(schema, options.extra_unique)
