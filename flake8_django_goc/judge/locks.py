"""Locks that serialise a code path (``django-goc-serializers``): calls under them cannot race.

A decorator or context manager named in the configuration (a table or advisory lock held around
the view) makes the race findings moot; the other findings still hold.
"""

from __future__ import annotations

from collections.abc import Iterable

from flake8_django_goc.rules import RACE_CODES, Finding


def serialised(guards: Iterable[str], serializers: Iterable[str]) -> bool:
    """Whether a decorator or `with` item (source text) is one of the configured serialisers.

    ``advisory_lock`` matches ``@advisory_lock``, ``@advisory_lock("key")``,
    ``with locks.advisory_lock(...)``; a dotted name must match the dotted text."""
    names = [s for s in serializers if s]
    if not names:
        return False
    for guard in guards:
        callee = guard.split("(", 1)[0].strip().removeprefix("@")
        last = callee.rsplit(".", 1)[-1]
        for name in names:
            if callee == name or ("." not in name and last == name):
                return True
    return False


def drop_race_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code not in RACE_CODES]
