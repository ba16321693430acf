"""The on-disk Schema cache: a warm run skips django.setup(), any relevant change rebuilds it."""

from __future__ import annotations

import time
from pathlib import Path

from flake8_run import run_flake8
from test_bad_input import make_project

# The settings module counts its own imports, so a test can see whether Django was set up.
SETTINGS = """\
from pathlib import Path

with open(Path(__file__).parent.parent / "setups.log", "a") as log:
    log.write("setup\\n")
INSTALLED_APPS = ["app", "other"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""
UNIQUE = """\
from django.db import models


class Thing(models.Model):
    name = models.CharField(max_length=10, unique=True)
"""


def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path, settings=SETTINGS)
    (root / "other").mkdir()
    (root / "other" / "__init__.py").write_text("")
    return root


def lint(root: Path, *extra: str) -> str:
    result = run_flake8(
        "--select", "DGC", "--django-settings-module", "site_cfg.settings", *extra, "app", cwd=root
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result.stdout


def setups(root: Path) -> int:
    log = root / "setups.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def touch_later(path: Path, text: str) -> None:
    time.sleep(0.01)  # a distinct mtime even on coarse filesystems
    path.write_text(text)


def test_warm_run_skips_setup_and_gives_the_same_findings(tmp_path: Path) -> None:
    root = project(tmp_path)
    cold = lint(root)
    assert "DGC001" in cold and setups(root) == 1
    assert lint(root) == cold and setups(root) == 1
    assert (root / ".flake8-django-goc-cache" / ".gitignore").exists()


def test_changed_models_file_rebuilds(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert "DGC001" in lint(root)
    touch_later(root / "app" / "models.py", UNIQUE)
    assert "DGC001" not in lint(root)
    assert setups(root) == 2


def test_changed_settings_rebuild(tmp_path: Path) -> None:
    root = project(tmp_path)
    lint(root)
    settings = root / "site_cfg" / "settings.py"
    touch_later(settings, settings.read_text() + "\nUSE_TZ = True\n")
    lint(root)
    assert setups(root) == 2


def test_new_models_module_in_an_installed_app_rebuilds(tmp_path: Path) -> None:
    root = project(tmp_path)
    lint(root)
    (root / "other" / "models.py").write_text("")
    lint(root)
    assert setups(root) == 2


def test_corrupt_cache_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    root = project(tmp_path)
    cold = lint(root)
    (entry,) = (root / ".flake8-django-goc-cache").glob("schema-*.json")
    entry.write_text("{not json")
    assert lint(root) == cold and setups(root) == 2
    assert lint(root) == cold and setups(root) == 2  # rewritten, warm again


def test_no_cache_option_always_sets_up(tmp_path: Path) -> None:
    root = project(tmp_path)
    lint(root, "--django-goc-no-cache")
    lint(root, "--django-goc-no-cache")
    assert setups(root) == 2
    assert not (root / ".flake8-django-goc-cache").exists()


def test_unwritable_cache_dir_is_not_fatal(tmp_path: Path) -> None:
    root = project(tmp_path)
    (root / ".flake8-django-goc-cache").write_text("a file where the directory should be")
    assert "DGC001" in lint(root)
    assert "DGC001" in lint(root)
    assert setups(root) == 2
