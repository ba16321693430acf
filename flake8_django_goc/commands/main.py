"""``flake8-django-goc``: the standalone command and its subcommands.

Subcommands take the first argument (``flake8-django-goc explain DGC001``); without one the
arguments are paths to check, and a path that clashes with a subcommand is written ``./explain``.
Each subcommand's module is imported only when it runs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# name -> module whose main(argv) runs it
SUBCOMMANDS = {
    "db-check": "flake8_django_goc.commands.db_check",
    "explain": "flake8_django_goc.commands.explain",
    "fix-models": "flake8_django_goc.commands.fix_models",
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in SUBCOMMANDS:
            module = importlib.import_module(SUBCOMMANDS[args[0]])
            return int(module.main(args[1:]))
        from flake8_django_goc.commands.check import main as check_main

        return check_main(args)
    except KeyboardInterrupt:
        return 130
