"""DGC008-DGC010 beyond the case files: configured locks, the standalone command, fix-models,
and that hand-written checks never cost a libcst parse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flake8_run import PROJECT, parse_reports, run_flake8
from test_bad_input import make_project

SETTINGS = ("--django-settings-module", "site_cfg.settings")
FIXTURE = ("--django-settings-module", "goc_project.settings")
VIEWS = """\
from app.models import Thing
from locks import advisory_lock


def plain(name):
    try:
        return Thing.objects.get(name=name)
    except Thing.DoesNotExist:
        return Thing.objects.create(name=name)


@advisory_lock("things")
def locked(name):
    if not Thing.objects.filter(name=name).exists():
        Thing.objects.create(name=name)


def with_lock(name):
    with advisory_lock(name):
        thing = Thing.objects.filter(name=name).first()
        if thing is None:
            thing = Thing.objects.create(name=name)
    return thing
"""


def _codes(root: Path, *extra: str) -> list[tuple[int, str]]:
    result = run_flake8(
        "--select", "DGC", "--django-settings-module", "site_cfg.settings", *extra, "app", cwd=root
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return [(r.line, r.code) for r in parse_reports(_parseable(result.stdout))]


def _parseable(stdout: str) -> str:
    # flake8's default format is path:row:col: CODE text; make it the FORMAT parse_reports reads.
    lines = []
    for raw in stdout.splitlines():
        path, row, col, rest = raw.split(":", 3)
        code, text = rest.strip().split(" ", 1)
        lines.append(f"{path}:{row}:{col}:{code}:{text}")
    return "\n".join(lines)


def test_a_configured_serialiser_silences_the_pair(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "app" / "views.py").write_text(VIEWS)
    assert _codes(root) == [(9, "DGC008"), (15, "DGC008"), (22, "DGC008")]
    assert _codes(root, "--django-goc-serializers", "advisory_lock") == [(9, "DGC008")]


def test_fix_models_adds_the_constraint_a_dgc008_finding_names(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "app" / "views.py").write_text(VIEWS)
    result = subprocess.run(
        [sys.executable, "-m", "flake8_django_goc", "fix-models", *SETTINGS],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    models = (root / "app" / "models.py").read_text(encoding="utf-8")
    assert 'models.UniqueConstraint(fields=["name"], name="app_thing_name_uniq")' in models


def test_the_command_agrees_with_flake8_on_the_cases() -> None:
    paths = ["handrolled"]
    args = [*FIXTURE, *paths]
    flake8 = run_flake8(
        "--select", "DGC", "--django-settings-module", "goc_project.settings", *paths
    )
    command = subprocess.run(
        [sys.executable, "-m", "flake8_django_goc", "--select", "DGC", "--no-cache", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert command.returncode == 1, command.stdout + command.stderr
    mine = sorted(line for line in command.stdout.splitlines() if ": DGC" in line)
    theirs = sorted(flake8.stdout.splitlines())
    expected = sum(
        line.count("# expect: DGC")
        for path in (PROJECT / "handrolled").glob("*.py")  # models.py: Config.save()
        for line in path.read_text(encoding="utf-8").splitlines()
    )
    assert len(theirs) == expected
    assert mine == theirs


def test_hand_written_checks_cost_no_libcst_parse() -> None:
    script = (
        "import ast, sys\n"
        "from flake8_django_goc.pipeline import parse_source\n"
        "src = open('handrolled/hand_covered.py').read()\n"
        "parsed = parse_source(src, ast.parse(src))\n"
        "assert parsed is not None and parsed[0].handrolled and not parsed[1]\n"
        "print('libcst' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stdout + result.stderr


def test_a_flag_in_a_python_only_check_is_the_constraint_condition() -> None:
    # `filter(active=True).exists(): raise`: at most one active row, a partial constraint.
    result = run_flake8("--select", "DGC", *FIXTURE, "handrolled/hand_unique_shapes.py")
    line = next(x for x in result.stdout.splitlines() if "filter(active=True)" in x)
    assert "at most one handrolled.Badge has active=True" in line, line
    assert 'UniqueConstraint(fields=["active"], condition=models.Q(active=True)' in line, line
