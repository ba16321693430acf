"""Run the real flake8 in a subprocess, as users do."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS / "fixtures" / "project"
FORMAT = "%(path)s:%(row)d:%(col)d:%(code)s:%(text)s"


@dataclass(frozen=True)
class Reported:
    path: str
    line: int
    col: int
    code: str
    text: str


def run_flake8(
    *args: str,
    cwd: Path = PROJECT,
    env: dict[str, str] | None = None,
    isolated: bool = True,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """flake8 with ``args``; isolated ignores config files (tests of config files turn it off)."""
    full_env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "flake8", *(["--isolated"] if isolated else []), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def parse_reports(stdout: str) -> list[Reported]:
    reports = []
    for raw in stdout.splitlines():
        path, line, col, code, text = raw.split(":", 4)
        reports.append(Reported(os.path.normpath(path), int(line), int(col), code, text))
    return reports
