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


ROUND_TRIP = """\
import dataclasses, json, sys
from flake8_django_goc.schema import to_jsonable, from_jsonable
from flake8_django_goc.schema.django.build import build_schema

def walk(a, b, path):
    if type(a) is not type(b):
        yield f"{path}: {type(a).__name__} {a!r} became {type(b).__name__} {b!r}"
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            yield from walk(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=repr):
            yield from walk(a.get(k), b.get(k), f"{path}[{k!r}]")
    elif isinstance(a, (tuple, list)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from walk(x, y, f"{path}[{i}]")
    elif a != b:
        yield f"{path}: {a!r} became {b!r}"

built = build_schema("goc_project.settings")
cached = from_jsonable(json.loads(json.dumps(to_jsonable(built))))
print("\\n".join(walk(built, cached, "schema")))
"""


def test_a_cached_schema_is_the_schema_built() -> None:
    # A cold run (Django set up) and a warm one (the Schema read back from the cache) must judge
    # alike: the cache holds JSON, so every value in the Schema must survive it with its exact
    # type. A TextChoices default (Status.BOOKED, a str subclass) once did not: `filter(status=
    # "booked")` then a create leaving status to that default was judged differently cold.
    import subprocess
    import sys

    from flake8_run import PROJECT

    done = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP],
        cwd=PROJECT,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "goc_project.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", done.stdout
