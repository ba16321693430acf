"""Bad input gets a clear message, never a traceback; plain flake8 is untouched without DGC."""

from __future__ import annotations

from pathlib import Path

import pytest
from flake8_run import run_flake8

MODELS = """\
from django.db import models


class Thing(models.Model):
    name = models.CharField(max_length=10)
"""
VIEWS = """\
from app.models import Thing


def view():
    return Thing.objects.get_or_create(name="a")
"""


def make_project(root: Path, settings: str = "", models: str = MODELS) -> Path:
    (root / "site_cfg").mkdir()
    (root / "site_cfg" / "__init__.py").write_text("")
    (root / "site_cfg" / "settings.py").write_text(
        settings
        or 'INSTALLED_APPS = ["app"]\n'
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}}\n'
        'DEFAULT_AUTO_FIELD = "django.db.models.AutoField"\n'
    )
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(models)
    (root / "app" / "views.py").write_text(VIEWS)
    return root


def assert_clean_error(result, *needles: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    for needle in needles:
        assert needle in output, output


def test_working_project_reports(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    result = run_flake8(
        "--select", "DGC", "--django-settings-module", "site_cfg.settings", "app", cwd=root
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "app/views.py:5:12: DGC001 Thing.objects.get_or_create() looks up (name)" in result.stdout
    )


def test_settings_from_environment_and_config_file(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    by_env = run_flake8(
        "--select", "DGC", "app", cwd=root, env={"DJANGO_SETTINGS_MODULE": "site_cfg.settings"}
    )
    assert "DGC001" in by_env.stdout, by_env.stderr
    for config in ("setup.cfg", "tox.ini", ".flake8"):
        path = root / config
        path.write_text("[flake8]\ndjango-settings-module = site_cfg.settings\n")
        by_config = run_flake8("--select", "DGC", "app", cwd=root, isolated=False)
        assert "DGC001" in by_config.stdout, (config, by_config.stderr)
        path.unlink()


def test_missing_settings_module(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    result = run_flake8(
        "--select", "DGC", "--django-settings-module", "nope.settings", "app", cwd=root
    )
    assert_clean_error(result, "'nope.settings'", "ModuleNotFoundError: No module named 'nope'")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            "raise RuntimeError('boom: DATABASE_URL is not set')",
            "RuntimeError: boom: DATABASE_URL is not set",
        ),
        ("import sys\nsys.exit(3)", "SystemExit: 3"),
        ("x = (", "SyntaxError"),
    ],
)
def test_settings_raising_on_import(tmp_path: Path, body: str, needle: str) -> None:
    root = make_project(tmp_path, settings=body + "\n")
    result = run_flake8(
        "--select", "DGC", "--django-settings-module", "site_cfg.settings", "app", cwd=root
    )
    assert_clean_error(
        result, "cannot import the Django settings module 'site_cfg.settings'", needle
    )


def test_django_setup_failing_on_unknown_app(tmp_path: Path) -> None:
    settings = 'INSTALLED_APPS = ["app", "not_an_app"]\n'
    root = make_project(tmp_path, settings=settings)
    result = run_flake8(
        "--select", "DGC", "--django-settings-module", "site_cfg.settings", "app", cwd=root
    )
    assert_clean_error(
        result, "django.setup() failed for settings 'site_cfg.settings'", "not_an_app"
    )


def test_models_that_fail_to_import(tmp_path: Path) -> None:
    root = make_project(tmp_path, models="import does_not_exist\n")
    result = run_flake8(
        "--select", "DGC", "--django-settings-module", "site_cfg.settings", "app", cwd=root
    )
    assert_clean_error(result, "django.setup() failed", "No module named 'does_not_exist'")


def test_selected_without_settings(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    result = run_flake8("--select", "DGC", "app", cwd=root)
    assert_clean_error(
        result, "no Django settings module is configured", "--django-settings-module"
    )


def test_plain_flake8_is_untouched_when_not_configured(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "app" / "style.py").write_text("x=1\n")
    result = run_flake8("app", cwd=root)
    assert result.returncode == 1
    assert "E225" in result.stdout
    assert "DGC" not in result.stdout + result.stderr


def test_not_selected_with_broken_settings_is_untouched(tmp_path: Path) -> None:
    root = make_project(tmp_path, settings="raise RuntimeError('boom')\n")
    result = run_flake8(
        "--select", "E,W,F", "--django-settings-module", "site_cfg.settings", "app", cwd=root
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_odd_files_do_not_crash(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    files = {
        "syntax.py": "def f(:\n    Thing.objects.get_or_create(name='a')\n",
        "empty.py": "",
        "latin.py": "# -*- coding: latin-1 -*-\nx = 'caf\xe9'\n",
        "odd.py": (
            "from app.models import Thing\n"
            "Thing.objects.get_or_create()\n"
            "Thing.objects.get_or_create({'name': 'a'}, name='b')\n"
            "Thing.objects.get_or_create(*args)\n"
            "Thing.objects.get_or_create(**kwargs)\n"
            "get_or_create(name='a')\n"
            "cache.get_or_create('k', name='a')\n"
            "Thing.get_or_create(name='a')\n"
            "Thing().objects.get_or_create(name='a')\n"
            "(lambda: 1)().get_or_create(name='a')\n"
        ),
    }
    for name, text in files.items():
        (root / "app" / name).write_text(
            text, encoding="latin-1" if name == "latin.py" else "utf-8"
        )
    (root / "app" / "bytes.py").write_bytes(b"x = '\xff\xfe'  # _or_create\n")
    result = run_flake8(
        "--select",
        "DGC,E999,E902",
        "--django-settings-module",
        "site_cfg.settings",
        "app",
        cwd=root,
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "skipped" not in output, output
    dgc = [line for line in result.stdout.splitlines() if "DGC" in line]
    assert dgc == [
        # No lookup at all: any row matches, so nothing stops a second one (DGC001).
        "app/odd.py:2:1: DGC001 Thing.objects.get_or_create() looks up no field, so any row of "
        "app.Thing matches: on an empty table concurrent calls both insert, and every later "
        "get_or_create() or get() raises MultipleObjectsReturned. Fix: give the one row a fixed "
        "primary key, get_or_create(pk=1), or a field with a constant default and unique=True.",
        "app/views.py:5:12: DGC001 Thing.objects.get_or_create() looks up (name) but no unique "
        "constraint on app.Thing covers them: concurrent calls can insert duplicate rows. "
        'Fix: add models.UniqueConstraint(fields=["name"], name="app_thing_name_uniq") (this '
        "makes (name) unique for every row: check that it is the business rule) or look up by a "
        "unique field (id).",
    ], output
    assert "app/syntax.py:1" in result.stdout and "E999" in result.stdout


def test_opt_in_dynamic_kwargs(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    (root / "app" / "dyn.py").write_text(
        "from app.models import Thing\n\n\ndef f(kw):\n"
        "    return Thing.objects.get_or_create(**kw)\n"
    )
    args = ("--django-settings-module", "site_cfg.settings", "app/dyn.py")
    assert "DGC101" not in run_flake8("--select", "DGC", *args, cwd=root).stdout
    assert "DGC101" in run_flake8("--select", "DGC,DGC101", *args, cwd=root).stdout
