"""Declared uniqueness and serialising locks, through the real flake8."""

from __future__ import annotations

from pathlib import Path

from flake8_run import run_flake8
from test_bad_input import make_project

VIEWS = """\
from contextlib import contextmanager

from app.models import Thing
from locks import advisory_lock, serialized


def plain():
    return Thing.objects.get_or_create(name="a")


@serialized
def decorated():
    return Thing.objects.get_or_create(name="b")


@serialized("key")
def decorated_with_args():
    return Thing.objects.get_or_create(name="c")


def in_with(key):
    with advisory_lock(key), open("f"):
        return Thing.objects.get_or_create(name="d")


def after_with(key):
    with advisory_lock(key):
        pass
    return Thing.objects.get_or_create(name="e")
"""


def lint(root: Path, *extra: str) -> list[str]:
    result = run_flake8(
        "--select",
        "DGC",
        "--django-settings-module",
        "site_cfg.settings",
        *extra,
        "app",
        cwd=root,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return [line.split(" ", 2)[0] + line.split(" ", 2)[1] for line in result.stdout.splitlines()]


def test_serialising_decorators_and_context_managers(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "app" / "views.py").write_text(VIEWS)
    everything = lint(root)
    assert len(everything) == 5
    locked = lint(root, "--django-goc-serializers", "serialized,locks.advisory_lock")
    # `locks.advisory_lock` is dotted, so the bare `advisory_lock(...)` text does not match it.
    assert [r.split(":")[1] for r in locked] == ["8", "23", "29"]
    locked = lint(root, "--django-goc-serializers", "serialized,advisory_lock")
    assert [r.split(":")[1] for r in locked] == ["8", "29"]


def test_extra_unique_sets_from_config(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    assert len(lint(root)) == 1
    (root / "setup.cfg").write_text(
        "[flake8]\ndjango-goc-extra-unique =\n    app.Thing:name\n    app.thing:id,name\n"
    )
    result = run_flake8(
        "--select",
        "DGC",
        "--django-settings-module",
        "site_cfg.settings",
        "app",
        cwd=root,
        isolated=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_bad_extra_unique_entries_are_clear_errors(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    for value, needle in (
        ("app.Thing", "is not of the form app_label.Model:field1,field2"),
        ("app.Nope:name", "'app.Nope' is not a model of this project"),
        ("app.Thing:nope", "app.Thing has no field 'nope'"),
    ):
        result = run_flake8(
            "--select",
            "DGC",
            "--django-settings-module",
            "site_cfg.settings",
            "--django-goc-extra-unique",
            value,
            "app",
            cwd=root,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 1 and needle in output and "Traceback" not in output, output


def run_command(root: Path, pyproject: str) -> tuple[int, list[str], str]:
    import subprocess
    import sys

    (root / "pyproject.toml").write_text(
        '[tool.flake8-django-goc]\ndjango-settings-module = "site_cfg.settings"\n' + pyproject
    )
    result = subprocess.run(
        [sys.executable, "-m", "flake8_django_goc", "app"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line.split(":")[1] for line in result.stdout.splitlines()]
    return result.returncode, lines, result.stdout + result.stderr


def test_the_standalone_command_agrees(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "app" / "views.py").write_text(VIEWS)
    code, lines, output = run_command(
        root,
        'django-goc-serializers = ["serialized", "advisory_lock"]\n'
        'django-goc-extra-unique = ["app.Thing:name"]\n',
    )
    assert code == 0 and lines == [], output
    code, lines, output = run_command(
        root, 'django-goc-serializers = "serialized, advisory_lock"\n'
    )
    assert code == 1 and lines == ["8", "29"], output
