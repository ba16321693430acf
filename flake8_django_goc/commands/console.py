"""What the commands print: stdout in UTF-8 (whatever the locale), notes on stderr."""

from __future__ import annotations

import os
import sys

PROG = "flake8-django-goc"


def emit(text: str, output_file: str | None) -> None:
    if output_file:
        with open(output_file, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        return
    if not text:
        return
    try:
        # UTF-8 whatever the locale, as flake8 writes.
        stream = getattr(sys.stdout, "buffer", None)
        if stream is not None:
            sys.stdout.flush()
            stream.write(text.encode("utf-8"))
            stream.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except BrokenPipeError:
        # `| head`: the reader left; stop writing without a traceback at interpreter exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def fail(message: str) -> int:
    note(message)
    return 2


def note(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")
