"""What fix-models and db-check share: the constraints a check asks for, and how many duplicate
rows the database already holds for each (the rows that would make adding it fail)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flake8_django_goc.commands.console import emit, note
from flake8_django_goc.report.formats import Result
from flake8_django_goc.rules import DGC203, ConstraintFix, fields_text

if TYPE_CHECKING:
    from flake8_django_goc.schema import ModelFacts, Schema
    from flake8_django_goc.schema.django.database import Duplicates, Session


@dataclass
class Wanted:
    """One constraint to add, with the findings that asked for it."""

    fix: ConstraintFix
    findings: list[Result] = field(default_factory=list)


DEFAULT_TIMEOUT = 30.0  # seconds per duplicate count


def add_database_options(parser: argparse.ArgumentParser, fix_models: bool = False) -> None:
    """``--database`` and ``--statement-timeout`` (db-check, and fix-models' duplicate counts)."""
    what = (
        "show the duplicate rows each constraint would meet in this database before editing"
        if fix_models
        else "read only this database alias (repeatable; default: every alias the models are "
        "written to)"
    )
    parser.add_argument("--database", action="append", metavar="ALIAS", help=what)
    parser.add_argument(
        "--statement-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop a duplicate count after this long (default {DEFAULT_TIMEOUT:g}; 0: no limit)",
    )


def plain_manager(facts: ModelFacts) -> str:
    # A unique constraint spans every row: a project manager may filter some out (soft delete),
    # so only Django's plain manager is trusted to show them all.
    for manager in facts.managers:
        if manager.name == "objects" and manager.class_path == "django.db.models.manager.Manager":
            return "objects"
    return "_base_manager"


def duplicates_query(facts: ModelFacts, fix: ConstraintFix, partial: bool = True) -> str:
    """The ORM query that lists the rows a new constraint would find duplicated (for the shell);
    ``partial``: only among the rows a conditional constraint compares."""
    values = ", ".join(f'"{name}"' for name in fix.fields)
    where = f".filter({fix.condition_code('Q')[2:-1]})" if partial and fix.condition else ""
    return (
        f"{facts.qualname}.{plain_manager(facts)}{where}.values({values})"
        '.annotate(n=Count("pk")).filter(n__gt=1)'
    )


def duplicates_for(session: Session, wanted: Wanted) -> Duplicates:
    from flake8_django_goc.schema.django import database

    fix = wanted.fix
    return database.count_duplicates(session, fix.model, fix.fields, fix.nulls_distinct)


def duplicates_text(wanted: Wanted, schema: Schema, counted: Duplicates, alias: str) -> str:
    fix = wanted.fix
    query = duplicates_query(schema.models[fix.model], fix, partial=False)
    asked = ", ".join(
        f"{r.code} at {os.path.normpath(r.path)}:{r.line}:{r.column}" for r in wanted.findings[:3]
    )
    head = f"{fix.name} on {fix.model} {fields_text(fix.fields)} (proposed by {asked})"
    if counted.groups is None:
        return f"{head}: the duplicate count in database {alias!r} did not finish ({counted.error})"
    if counted.groups == 0:
        return f"{head}: database {alias!r} holds no duplicate rows, the constraint can be added"
    keys = "; ".join(
        ", ".join(f"{f}={v!r}" for f, v in zip(fix.fields, key, strict=False))
        for key in counted.keys
    )
    more = " ..." if counted.groups > len(counted.keys) else ""
    return (
        f"{head}: database {alias!r} holds {counted.groups} duplicate group(s), which make "
        f"adding it fail: {keys}{more}. List them with {query}"
    )


def duplicates_before_edit(
    args: argparse.Namespace, wanted: Iterable[Wanted], schema: Schema
) -> bool:
    """fix-models' hook: with ``--database``, print the duplicate counts before editing; False
    when the database cannot be read (the error is printed)."""
    aliases = getattr(args, "database", None)
    if not aliases:
        return True
    shown = show_duplicates(
        aliases, wanted, schema, getattr(args, "statement_timeout", None) or None
    )
    if shown is None:
        return False
    emit(shown, None)
    return True


def show_duplicates(
    aliases: list[str], wanted: Iterable[Wanted], schema: Schema, timeout: float | None
) -> str | None:
    """For ``fix-models --database``: one line per constraint with the duplicate groups it would
    meet; None when it cannot connect (the error is printed)."""
    from flake8_django_goc.schema.django import database

    try:
        sessions = {alias: database.open_session(alias, timeout) for alias in aliases}
    except database.DatabaseError as exc:
        note(str(exc))
        return None
    lines = []
    for item in wanted:
        session = sessions.get(schema.models[item.fix.model].backend.alias)
        if session is None:
            continue  # written to another database
        alias = session.alias
        lines.append(
            f"{DGC203} {duplicates_text(item, schema, duplicates_for(session, item), alias)}"
        )
    for session in sessions.values():
        session.close()
    return "".join(f"{line}\n" for line in lines)
