"""flake8 glue: options, the decision to run, and one check per file."""

from __future__ import annotations

import argparse
import ast
import os
import sys
from collections.abc import Iterator
from typing import Any, ClassVar

from flake8.exceptions import ExecutionError
from flake8.options.manager import OptionManager
from flake8.style_guide import Decision, DecisionEngine, Selected

from flake8_django_goc import __version__
from flake8_django_goc.commands.project import has_manage_py, nearest, settings_from_manage_py
from flake8_django_goc.options import add_flake8_options
from flake8_django_goc.pipeline import check_source, describe_failure
from flake8_django_goc.report import stats
from flake8_django_goc.rules import OPT_IN, RULES, opted_in
from flake8_django_goc.schema import Schema
from flake8_django_goc.schema.declared import ConfigError, split_entries, with_extra_unique
from flake8_django_goc.schema.django.build import load_schema
from flake8_django_goc.schema.django.setup import SetupError


class Plugin:
    name = "flake8-django-goc"
    version = __version__

    # Set by parse_options, before flake8 forks its workers; None when DGC is not wanted.
    schema: ClassVar[Schema | None] = None
    # Opt-in codes (DGC1xx) the user selected by name; `--select DGC` alone does not enable them.
    opted_in: ClassVar[frozenset[str]] = frozenset()
    stats_file: ClassVar[str | None] = None
    serializers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager: OptionManager) -> None:
        add_flake8_options(manager)
        manager.extend_default_ignore(list(OPT_IN))

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls.schema = None
        chosen = [*(options.select or ()), *(options.extend_select or ())]
        cls.opted_in = frozenset(opted_in(chosen))
        engine = DecisionEngine(options)
        if not any(engine.decision_for(code) is Decision.Selected for code in RULES):
            return
        explicit = any(engine.was_selected(code) is Selected.Explicitly for code in RULES)
        # flake8 found its config from the current directory; the project root (sys.path, and
        # manage.py's settings) is the nearest directory holding manage.py, from there or from
        # the paths checked, unless --django-project-root says.
        cwd = os.getcwd()
        starts = [cwd, *(options.filenames or ())]
        root = options.django_project_root or nearest(starts, has_manage_py) or cwd
        settings = options.django_settings_module
        implicit = not settings  # only from the environment: plain flake8 must not be harmed
        settings = settings or os.environ.get("DJANGO_SETTINGS_MODULE")
        if not settings and os.path.isdir(root):
            settings = settings_from_manage_py(root)
        if not settings:
            if explicit:
                raise ExecutionError(
                    "flake8-django-goc: DGC checks are selected but no Django settings module is "
                    "configured. Pass --django-settings-module=mysite.settings, set "
                    "`django-settings-module = mysite.settings` in setup.cfg, tox.ini or .flake8, "
                    "or export DJANGO_SETTINGS_MODULE."
                )
            return  # installed but not configured: stay out of the way of plain flake8 runs
        if not os.path.isdir(root):
            raise ExecutionError(
                f"flake8-django-goc: --django-project-root {root!r} is not a directory"
            )
        try:
            schema = load_schema(settings, use_cache=not options.django_goc_no_cache, root=root)
        except SetupError as exc:
            if implicit and not explicit:
                # DGC only by default, settings only from the environment or manage.py: the
                # user ran plain flake8; say why DGC did not run and let the other checks run.
                sys.stderr.write(
                    f"flake8-django-goc: DGC checks skipped: {exc} "
                    "(select DGC explicitly to make this an error)\n"
                )
                return
            raise ExecutionError(f"flake8-django-goc: {exc}") from None
        for warning in schema.warnings:  # what could not be read is named, and left out
            sys.stderr.write(f"flake8-django-goc: warning: {warning}\n")
        try:
            extra = split_entries(options.django_goc_extra_unique or "")
            cls.schema = with_extra_unique(schema, extra)
        except ConfigError as exc:
            raise ExecutionError(f"flake8-django-goc: {exc}") from None
        cls.serializers = tuple(options.django_goc_serializers or ())
        cls.stats_file = stats.start() if options.django_goc_stats else None

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        schema = self.schema
        if schema is None:
            return
        try:
            source = "".join(self.lines)
            result = check_source(source, self.filename, schema, self.tree, self.serializers)
        except Exception as exc:  # never crash the user's flake8 run
            _warn(self.filename, exc)
            return
        if self.stats_file and result.calls:
            stats.record(self.stats_file, result.calls, result.resolved)
        for report in result.reports:
            if report.finding.code.startswith(OPT_IN) and report.finding.code not in self.opted_in:
                continue
            yield report.line, report.col, report.finding.text(), type(self)


def _warn(filename: str, exc: Exception) -> None:
    sys.stderr.write(f"flake8-django-goc: skipped {filename}: {describe_failure(exc)}\n")
