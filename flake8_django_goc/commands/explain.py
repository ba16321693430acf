"""``flake8-django-goc explain [CODE ...]``: a rule's documentation at the terminal."""

from __future__ import annotations

import argparse

from flake8_django_goc.commands.console import PROG, emit, fail
from flake8_django_goc.rules import RULES
from flake8_django_goc.rules import docs as rule_docs


def main(argv: list[str]) -> int:
    """``explain [CODE ...]``: a rule's documentation at the terminal, like ``ruff rule``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} explain",
        description="Print the documentation of DGC rules; without a code, list them all.",
    )
    parser.add_argument(
        "codes",
        nargs="*",
        metavar="RULE",
        help="rule codes or names, e.g. DGC001 or uncovered-lookup",
    )
    parser.add_argument("--all", action="store_true", help="list every code with its summary")
    args = parser.parse_args(argv)
    if args.all or not args.codes:
        emit(rule_docs.summary_lines(), None)
        return 0
    found = [rule_docs.lookup(code) for code in args.codes]
    unknown = [code for code, rule in zip(args.codes, found, strict=True) if rule is None]
    if unknown:
        return fail(
            f"unknown rule {', '.join(unknown)}; the codes are {', '.join(RULES)} "
            f"(`{PROG} explain` lists them with their names)"
        )
    emit("\n".join(rule_docs.markdown(rule) for rule in found if rule is not None), None)
    return 0
