"""Counting resolved call sites across flake8's worker processes (``--django-goc-stats``).

flake8 has no end-of-run hook for plugins and may check files in worker processes, so each file's
counts are appended to a shared file whose path travels in the environment (spawned workers
inherit it); the main process prints the total when it exits.
"""

from __future__ import annotations

import atexit
import os
import sys
import tempfile

ENV = "FLAKE8_DJANGO_GOC_STATS_FILE"


def start() -> str:
    """The shared counts file; the first (main) process creates it and prints the summary."""
    path = os.environ.get(ENV)
    if path:
        return path  # a spawned worker: the main process owns the file
    fd, path = tempfile.mkstemp(prefix="flake8-django-goc-stats-")
    os.close(fd)
    os.environ[ENV] = path
    atexit.register(_finish, path)
    return path


def record(path: str, calls: int, resolved: int) -> None:
    # One short O_APPEND write per file is atomic across processes.
    with open(path, "a", encoding="ascii") as counts:
        counts.write(f"{calls} {resolved}\n")


def summary(files: int, calls: int, resolved: int) -> str:
    share = f" ({resolved / calls:.0%})" if calls else ""
    return (
        f"flake8-django-goc: {calls} get_or_create-family calls in {files} files; "
        f"{resolved} tied to a model{share}, {calls - resolved} not "
        "(select DGC100 to see why)."
    )


def _finish(path: str) -> None:
    try:
        with open(path, encoding="ascii") as counts:
            rows = [tuple(map(int, line.split())) for line in counts if line.strip()]
        os.unlink(path)
    except (OSError, ValueError):
        return
    sys.stderr.write(summary(len(rows), sum(r[0] for r in rows), sum(r[1] for r in rows)) + "\n")
