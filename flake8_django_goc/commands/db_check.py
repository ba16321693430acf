"""``flake8-django-goc db-check [--database ALIAS ...] [PATHS]``: the database's own word.

Sets Django up with the project's settings (the check command's options and config files),
connects to each database the models are written to and only reads it (see
``schema/django/database.py``): then reports, in the check command's formats,

- DGC201 a uniqueness the models declare that the table lacks (with the likely cause),
- DGC202 a uniqueness the table has that the models do not declare (a note),
- the call findings of the normal check, judged against what the database really enforces,
- DGC203 for each constraint a finding proposes, the duplicate groups the table already holds.

DGC201/202/203 are reported at the ``class`` line of the model in its module; call findings
where the check command reports them. Exit codes: 0 nothing (or only DGC202 notes) reported, 1
something reported, 2 the check could not run (a database it cannot connect to included).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flake8_django_goc.commands import check
from flake8_django_goc.commands.config import UsageError, resolve_options
from flake8_django_goc.commands.console import PROG, emit, fail, note
from flake8_django_goc.commands.duplicates import (
    add_database_options,
    duplicates_for,
    duplicates_text,
)
from flake8_django_goc.commands.flake8_compat import (
    Excluder,
    Selection,
    discover,
    is_inline_ignored,
    read_source,
)
from flake8_django_goc.report.formats import Result, render
from flake8_django_goc.rules import DGC201, DGC202, DGC203, RULES, fields_text, severity
from flake8_django_goc.schema.declared import ConfigError, add_unique_set
from flake8_django_goc.schema.django.setup import SetupError
from flake8_django_goc.schema.django.setup import first_line as _first_line

if TYPE_CHECKING:
    from flake8_django_goc.commands.duplicates import Wanted
    from flake8_django_goc.schema import Schema
    from flake8_django_goc.schema.django.database import (
        DatabaseFacts,
        Duplicates,
        Extra,
        Missing,
        Place,
        Session,
    )

DESCRIPTION = """\
Read the project's databases (read-only) and check the models' uniqueness against them: DGC201
a declared uniqueness the database lacks, DGC202 one it has that the models do not declare,
DGC203 duplicate rows that would make a proposed constraint fail, and the call findings judged
against what the database really enforces."""

EPILOG = """\
Takes the options and configuration files of the check command. It only reads: a read-only
transaction (PostgreSQL, MariaDB/MySQL), introspection, django_migrations and SELECTs; a role
with CONNECT and SELECT privileges is enough. DGC201/202/203 are reported at the model's class
line. Exit codes: 0 nothing reported (DGC202 notes alone included), 1 something reported, 2 the
check could not run (e.g. a database it cannot connect to)."""


def build_parser() -> argparse.ArgumentParser:
    parser = check.build_parser()
    parser.prog = f"{PROG} db-check"
    parser.description = DESCRIPTION
    parser.epilog = EPILOG
    add_database_options(parser)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    cwd = os.getcwd()
    try:
        options = resolve_options(
            check.given_options(args), cwd, os.environ, args.isolated, args.paths
        )
    except UsageError as exc:
        return fail(str(exc))
    if not options.settings:
        return fail("no Django settings module is configured (see `flake8-django-goc --help`)")
    missing_paths = [p for p in args.paths if not os.path.exists(p)]
    if missing_paths:
        return fail(f"no such file or directory: {', '.join(missing_paths)}")
    selection = Selection(options)

    from flake8_django_goc.commands.fix_models import FixCollector
    from flake8_django_goc.schema.django import database

    timeout = args.statement_timeout or None
    sessions: list[Session] = []
    facts: list[DatabaseFacts] = []

    def load() -> Schema:
        # Django itself, never the cache: connecting needs the configured project. Runs while
        # the forked workers parse the files (they hold no database connection).
        declared = check.load_project(options, use_cache=False)
        sessions.extend(_sessions(declared, args.database, timeout))
        facts.extend(database.inspect_database(s, declared) for s in sessions)
        return judged_schema(declared, facts)

    # DGC203 counts what DGC001/002/004 propose, even when only DGC2 codes are reported.
    judging = _Proposals(options) if selection.wants(DGC203) else selection
    collector = FixCollector(None, judging, args.disable_noqa, options.serializers)  # type: ignore[arg-type]
    paths = discover(args.paths or ["."], Excluder(options.exclude, cwd), options.no_migrations)
    try:
        collector.check_all(paths, args.jobs, load=load)
    except (SetupError, ConfigError, database.DatabaseError) as exc:
        for session in sessions:
            session.close()
        return fail(str(exc))
    real = collector.schema
    assert real is not None
    run = collector.finish()
    results = _explained(run.results, collector.wanted.values(), facts, real)
    by_alias = {s.alias: s for s in sessions}
    for found in facts:
        if found.unapplied:
            names = ", ".join(found.unapplied[:5]) + (" ..." if len(found.unapplied) > 5 else "")
            note(
                f"database {found.alias!r}: {len(found.unapplied)} unapplied migration(s): {names}"
            )
        results += [_missing_result(m, found.alias, cwd) for m in found.missing]
        results += [_extra_result(e, found.alias, cwd) for e in found.extra]
    if selection.wants(DGC203):
        for wanted in collector.wanted.values():
            target = by_alias.get(real.models[wanted.fix.model].backend.alias)
            if target is not None:
                counted = duplicates_for(target, wanted)
                if counted.groups != 0:  # none: the constraint can be added as it is
                    results.append(_duplicates_result(wanted, real, counted, target.alias, cwd))
    for session in sessions:
        session.close()
    run.results = sorted(
        (r for r in results if selection.wants(r.code) and not _noqa(r, args.disable_noqa)),
        key=lambda r: (r.path, r.line, r.column),
    )
    try:
        emit(render(args.format, run, args.quiet), args.output_file)
    except OSError as exc:
        return fail(f"cannot write {args.output_file}: {_first_line(exc)}")
    if run.failed:
        return 2
    reported = [r for r in run.results if severity(r.code) != "note"]
    return 1 if reported and not args.exit_zero else 0


def _noqa(result: Result, disabled: bool) -> bool:
    """A ``# noqa`` on the model's class line silences a DGC2xx finding there (the call
    findings went through the check's own noqa handling)."""
    if disabled or not result.code.startswith("DGC2"):
        return False
    try:
        line = read_source(result.path).splitlines()[result.line - 1]
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError, IndexError):
        return False
    return is_inline_ignored(result.code, line)


class _Proposals(Selection):
    """The selection, plus the findings whose fixes DGC203 counts duplicates for."""

    def wants(self, code: str) -> bool:
        return (code in RULES and RULES[code].fixable) or super().wants(code)


def _explained(
    results: list[Result], wanted: Iterable[Wanted], facts: list[DatabaseFacts], schema: Schema
) -> list[Result]:
    """The call findings, saying which missing database uniqueness (DGC201) the verdict lost."""
    lost: dict[str, list[str]] = {}
    for found in facts:
        for missing in found.missing:
            lost.setdefault(missing.label, []).append(
                f"{missing.label}'s {missing.unique_set.describe()} is missing in database "
                f"{found.alias!r} (DGC201)"
            )
    notes: dict[Result, str] = {}
    for item in wanted:
        model = schema.models[item.fix.model]
        why = [w for label in (model.label, *model.parents) for w in lost.get(label, [])]
        for result in item.findings if why else ():
            notes[result] = f" Judged against the database: {'; '.join(why)}."
    return [dataclasses.replace(r, message=r.message + notes.get(r, "")) for r in results]


def _sessions(schema: Schema, chosen: list[str] | None, timeout: float | None) -> list[Session]:
    from flake8_django_goc.schema.django import database

    aliases = list(dict.fromkeys(chosen)) if chosen else database.aliases_written(schema)
    sessions: list[Session] = []
    try:
        for alias in aliases:
            sessions.append(database.open_session(alias, timeout))
    except database.DatabaseError:
        for session in sessions:
            session.close()
        raise
    return sessions


def judged_schema(schema: Schema, facts: Iterable[DatabaseFacts]) -> Schema:
    """The Schema as the databases enforce it: missing unique sets removed (also from the MTI
    children and proxies that inherit them), usable database-only ones added."""
    for found in facts:
        for missing in found.missing:
            schema = _without(schema, missing.label, missing.unique_set)
        for extra in found.extra:
            if extra.unique_set is not None:
                schema = add_unique_set(schema, extra.label, extra.unique_set)
    return schema


def _without(schema: Schema, label: str, unique_set: object) -> Schema:
    models = dict(schema.models)
    for other, model in schema.models.items():
        kept = tuple(
            s
            for s in model.unique_sets
            if not (
                (s.origin is None and other == label and s == unique_set)
                or (s.origin == label and dataclasses.replace(s, origin=None) == unique_set)
            )
        )
        if len(kept) != len(model.unique_sets):
            models[other] = dataclasses.replace(model, unique_sets=kept)
    return dataclasses.replace(schema, models=models)


# ----------------------------------------------------------------------------------- results


def _path(place: Place, cwd: str) -> tuple[str, int]:
    if place.file is None:
        return "<unknown>", 1
    relative = os.path.relpath(place.file, cwd)
    return (place.file if relative.startswith(os.pardir) else relative), place.line


def _missing_result(missing: Missing, alias: str, cwd: str) -> Result:
    path, line = _path(missing.place, cwd)
    s = missing.unique_set
    what = s.describe()
    if s.name and s.name not in what:
        what += f" {s.name!r}"
    if s.condition is not None:
        what += f" (condition {s.condition.text})"
    message = (
        f"{missing.label} declares {what}, but table {missing.table} in database {alias!r} has "
        f"no unique constraint or index on {fields_text(missing.columns)}: {missing.cause}. "
        "The calls are judged without it."
    )
    return Result(path, line, 1, DGC201, message)


def _extra_result(extra: Extra, alias: str, cwd: str) -> Result:
    path, line = _path(extra.place, cwd)
    u = extra.unique
    what = f"unique {'constraint' if u.primary_key else 'index'} {u.name!r}"
    if u.expression is not None or not u.columns:
        what += f" ({u.expression or u.definition})"
    else:
        what += f" on {fields_text(u.columns)}"
    if u.condition:
        what += f" WHERE {u.condition}"
    if u.deferred:
        what += " (DEFERRABLE INITIALLY DEFERRED)"
    message = (
        f"table {extra.table} in database {alias!r} has {what}, which {extra.label} does not "
        "declare"
    )
    if extra.unique_set is not None:
        fields = ",".join(extra.unique_set.fields)
        used = "it is used to judge the calls"
        if extra.unique_set.condition is not None:
            used += f", for rows where {extra.unique_set.condition.text}"
            hint = "a UniqueConstraint with that condition in Meta.constraints"
        else:
            entry = f"{extra.label}:{fields}"
            hint = f"it in Meta.constraints (the plain check: django-goc-extra-unique = {entry})"
        message += f"; {used}. Declare {hint}."
    else:
        message += f"; it is not used to judge the calls: {extra.unused}."
    return Result(path, line, 1, DGC202, message)


def _duplicates_result(
    wanted: Wanted, schema: Schema, counted: Duplicates, alias: str, cwd: str
) -> Result:
    from flake8_django_goc.schema.django import database

    path, line = _path(database.place_of(wanted.fix.model), cwd)
    return Result(path, line, 1, DGC203, duplicates_text(wanted, schema, counted, alias))


# ------------------------------------------------------------------------------- fix-models


assert all(code in RULES for code in (DGC201, DGC202, DGC203))
if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
