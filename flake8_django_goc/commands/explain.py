"""``flake8-django-goc explain [CODE ...]``: a rule's documentation at the terminal."""

from __future__ import annotations

import argparse

from flake8_django_goc.commands.console import PROG, emit, fail
from flake8_django_goc.rules import docs as rule_docs


def main(argv: list[str]) -> int:
    """``explain [CODE ...]``: a rule's documentation at the terminal, like ``ruff rule``."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} explain",
        description="Print the documentation of DGC rules; without a code, list them all.",
    )
    parser.add_argument("codes", nargs="*", metavar="CODE", help="rule codes, e.g. DGC001")
    parser.add_argument("--all", action="store_true", help="list every code with its summary")
    args = parser.parse_args(argv)
    if args.all or not args.codes:
        emit(rule_docs.summary_lines(), None)
        return 0
    unknown = [code for code in args.codes if rule_docs.lookup(code) is None]
    if unknown:
        return fail(
            f"unknown rule code {', '.join(unknown)}; the codes are {', '.join(rule_docs.DOCS)} "
            f"(`{PROG} explain` lists them)"
        )
    docs = [rule_docs.DOCS[code.strip().upper()] for code in args.codes]
    emit("\n".join(rule_docs.markdown(doc) for doc in docs), None)
    return 0
