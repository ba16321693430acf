"""The command talks like a modern tool on a terminal, and only there: progress and a summary
line on stderr when it is a terminal (a real pty here), colour by --color, NO_COLOR and
FORCE_COLOR; pipes and files get exactly the report."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_bad_input import make_project
from test_cli import SETTINGS, run_cli

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CLEAR_LINE = "\r\x1b[K"


def run_on_pty(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdout_pty: bool = False
) -> tuple[int, str, str]:
    """The command with stderr (and ``stdout_pty``: stdout too) on a pseudo-terminal."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "NO_COLOR", "FORCE_COLOR"}
    }
    full_env.update({"TERM": "xterm", **(env or {})})
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "flake8_django_goc", "--isolated", *args],
        cwd=cwd,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=slave if stdout_pty else subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stdout = b"" if stdout_pty else proc.stdout.read()  # type: ignore[union-attr]
    code = proc.wait(timeout=300)
    terminal = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    return code, stdout.decode("utf-8"), terminal


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path)
    (root / "app" / "more.py").write_text(
        "from app.models import Thing\n\n\ndef f():\n"
        '    Thing.objects.get_or_create(name="a")\n'
        '    Thing.objects.update_or_create(name="b")\n'
        "    return Thing.objects.get_or_create(pk=1)\n"
    )
    return root


def test_progress_and_summary_on_a_terminal_report_clean_on_a_pipe(project: Path) -> None:
    code, stdout, terminal = run_on_pty("--django-settings-module", SETTINGS, cwd=project)
    assert code == 1, terminal
    assert "\x1b" not in stdout  # a pipe: no colour
    assert [line.split(": ")[1].split()[0] for line in stdout.splitlines()] == ["DGC001"] * 3
    # the progress line was shown and cleared in place, then one summary line
    assert CLEAR_LINE in terminal and "checking " in terminal
    final = terminal.rsplit(CLEAR_LINE, 1)[1]
    assert ANSI.sub("", final) == (
        "3 findings (DGC001 \u00d73) in 2 of 6 files; 4 of 4 calls tied to a model\n"
    )
    assert "\x1b[1mDGC001" in final  # colour on the terminal


def test_machine_formats_get_no_summary_and_no_colour(project: Path) -> None:
    args = ("--django-settings-module", SETTINGS, "--format", "json")
    code, stdout, terminal = run_on_pty(*args, cwd=project, env={"FORCE_COLOR": "1"})
    assert code == 1
    assert len(json.loads(stdout)["findings"]) == 3
    assert terminal.rsplit(CLEAR_LINE, 1)[-1] == ""  # only progress, cleared


def test_color_choices(project: Path) -> None:
    args = ("--django-settings-module", SETTINGS, "app/views.py")
    # stdout and stderr both on the terminal: the report is coloured, then the summary
    _, _, on_tty = run_on_pty(*args, cwd=project, stdout_pty=True)
    assert "\x1b[1mapp/views.py\x1b[0m:5:12: \x1b[1;31mDGC001\x1b[0m Thing.objects" in on_tty
    _, _, no_color = run_on_pty(*args, cwd=project, env={"NO_COLOR": "1"}, stdout_pty=True)
    assert "app/views.py:5:12: DGC001 Thing.objects" in no_color
    assert "\x1b[1m" not in no_color  # progress only (it is no colour)
    assert no_color.splitlines()[-1] == (
        "1 finding (DGC001) in 1 of 1 file; 1 of 1 calls tied to a model"
    )
    _, _, never = run_on_pty(*args, "--color", "never", cwd=project, stdout_pty=True)
    assert "\x1b" not in never and "finding" not in never  # no colour, progress, summary
    forced = run_cli(*args, cwd=project, env={"FORCE_COLOR": "1"})
    assert "\x1b[1;31mDGC001\x1b[0m" in forced.stdout and forced.stderr == ""
    always = run_cli(*args, "--color", "always", cwd=project, env={"NO_COLOR": "1"})
    assert "\x1b[1;31mDGC001\x1b[0m" in always.stdout
    piped = run_cli(*args, cwd=project)
    assert "\x1b" not in piped.stdout + piped.stderr
    out = project / "report.txt"
    written = run_cli(*args, "--color", "always", "--output-file", str(out), cwd=project)
    assert written.returncode == 1 and "\x1b" not in out.read_text()
