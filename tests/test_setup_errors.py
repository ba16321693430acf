"""Mistakes in the linted project are named, not blamed on us, and cost no more than they must.

Throwaway projects in tmp_path, run through the real flake8 and the command in subprocesses.
What could not be read lands in ``Schema.warnings`` (printed by the front ends), read here from a
subprocess that loads the Schema as the front ends do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flake8_run import run_flake8
from test_bad_input import assert_clean_error, make_project

SETTINGS = "site_cfg.settings"


def lint(root: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    return run_flake8("--select", "DGC", "--django-settings-module", SETTINGS, *paths, cwd=root)


def command(root: Path) -> subprocess.CompletedProcess[str]:
    args = ["--isolated", "--django-settings-module", SETTINGS, "app"]
    return subprocess.run(
        [sys.executable, "-m", "flake8_django_goc", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )


SCHEMA = """\
import json
import os
from flake8_django_goc.schema.django.build import load_schema
s = load_schema("site_cfg.settings", use_cache=False)
thing = s.models.get("app.Thing")
print(json.dumps({
    "warnings": list(s.warnings),
    "models": sorted(s.models),
    "related": {n: f.related_label for n, f in thing.fields.items()} if thing else None,
    "relations": [r.accessor for m in s.models.values() for r in m.relations],
    "unique": [u.name for u in thing.unique_sets] if thing else None,
    "managers": [m.name for m in thing.managers] if thing else None,
}))
"""


def schema(root: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SCHEMA], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(json.loads(result.stdout))


def assert_verdict_given(root: Path) -> None:
    for result in (lint(root, "app"), command(root)):
        output = result.stdout + result.stderr
        assert result.returncode == 1, output
        assert "Traceback" not in output and "Please report" not in output, output
        assert "app/views.py:5:12: DGC001 Thing.objects.get_or_create() looks up (name)" in output


# ------------------------------------------------------------------ relations that point nowhere

MISSING_RELATION = """\
from django.db import models


class Other(models.Model):
    code = models.CharField(max_length=10, unique=True)


class Thing(models.Model):
    name = models.CharField(max_length=10)
    team = models.ForeignKey("missing_app.Team", on_delete=models.CASCADE)
    tags = models.ManyToManyField("missing_app.Tag")
    other = models.ForeignKey(Other, on_delete=models.CASCADE, related_name="things")
"""


def test_a_relation_to_a_model_not_installed_is_one_warning(tmp_path: Path) -> None:
    root = make_project(tmp_path, models=MISSING_RELATION)
    assert_verdict_given(root)
    facts = schema(root)
    team = [w for w in facts["warnings"] if "missing_app.Team" in w]
    assert len(team) == 1, facts["warnings"]
    assert team[0].startswith('app.Thing.team -> "missing_app.Team": ')
    assert "python manage.py check" in team[0]
    assert [w for w in facts["warnings"] if "missing_app.Tag" in w] == [
        w for w in facts["warnings"] if w.startswith('app.Thing.tags -> "missing_app.Tag"')
    ]
    assert len(facts["warnings"]) == 2, facts["warnings"]
    # Left out: no related label, no related manager; the valid relation is still read.
    assert facts["related"]["team"] is None and facts["related"]["other"] == "app.Other"
    assert facts["relations"] == ["things"]


def test_every_front_end_names_the_left_out_relation(tmp_path: Path) -> None:
    root = make_project(tmp_path, models=MISSING_RELATION)
    wanted = 'app.Thing.team -> "missing_app.Team"'
    flake8 = lint(root, "app")
    assert f"flake8-django-goc: warning: {wanted}" in flake8.stderr, flake8.stderr
    plain = command(root)
    assert f"flake8-django-goc: warning: {wanted}" in plain.stderr, plain.stderr
    base = [sys.executable, "-m", "flake8_django_goc", "--isolated", "--django-goc-no-cache"]
    base += ["--django-settings-module", "site_cfg.settings"]
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    def run(fmt: str) -> str:
        done = subprocess.run(
            [*base, "--format", fmt], cwd=root, env=env, capture_output=True, text=True
        )
        assert done.returncode == 1, done.stdout + done.stderr
        return done.stdout

    assert any(wanted in w for w in json.loads(run("json"))["warnings"])
    notes = json.loads(run("sarif"))["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any(n["level"] == "warning" and wanted in n["message"]["text"] for n in notes)
    assert any(line.startswith("::warning ") and "missing_app.Team" in line
               for line in run("github").splitlines())  # fmt: skip


# ------------------------------------------------------------------------- lazy objects untouched

LAZY = """\
from django.contrib import admin
from django.db import models
from django.utils.functional import SimpleLazyObject, lazy


def explode():
    raise RuntimeError("a lazy object was evaluated")


site = admin.site  # the admin app is not installed: evaluating it raises LookupError
TRAP = SimpleLazyObject(explode)
LABEL = lazy(explode, str)()


class Thing(models.Model):
    label = lazy(explode, str)()  # (a SimpleLazyObject here Django itself would evaluate)
    name = models.CharField(max_length=10, default=lazy(explode, str)())
"""


def test_warnings_survive_the_schema_cache(tmp_path: Path) -> None:
    root = make_project(tmp_path, models=MISSING_RELATION)
    script = SCHEMA.replace("use_cache=False", "use_cache=True")
    env = {**os.environ, "FLAKE8_DJANGO_GOC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("FLAKE8_DJANGO_GOC_NO_CACHE", None)

    def load() -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return list(json.loads(result.stdout)["warnings"])

    cold = load()
    (entry,) = (tmp_path / "cache").glob("schema-*.json")
    # Marked in the entry, so the warm run shows it read them from the cache.
    entry.write_text(entry.read_text().replace("missing_app.Team", "missing_app.Cached"))
    warm = load()
    assert len(cold) == 2 and warm == [w.replace("Team", "Cached") for w in cold]


def test_lazy_objects_are_never_evaluated(tmp_path: Path) -> None:
    root = make_project(tmp_path, models=LAZY)
    assert_verdict_given(root)
    assert schema(root)["warnings"] == []


# ------------------------------------------------------------- unreadable parts named, left out

UNREADABLE = """\
from django.db import models

source = "def get_or_create(self, **kwargs):\\n    return super().get_or_create(**kwargs)\\n"
namespace = {}
exec(source, namespace)


class ThingManager(models.Manager):
    get_or_create = namespace["get_or_create"]  # defined by exec: no source to read


class Thing(models.Model):
    name = models.CharField(max_length=10)
    code = models.CharField(max_length=10, unique=True)
    objects = ThingManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["nope"], name="thing_nope_uniq")]
"""


def test_what_cannot_be_read_is_named_once_and_left_out(tmp_path: Path) -> None:
    root = make_project(tmp_path, models=UNREADABLE)
    (root / "app" / "more_views.py").write_text(
        "from app.models import Thing\n\n\ndef view():\n"
        '    return Thing.objects.get_or_create(code="a")\n'
    )
    result = lint(root, "app")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "app/views.py:5:12: DGC001" in result.stdout
    assert "more_views.py" not in result.stdout  # the unique field still covers that call
    facts = schema(root)
    warnings = facts["warnings"]
    manager = [w for w in warnings if "app.models.ThingManager.get_or_create" in w]
    assert len(manager) == 1 and "OSError" in manager[0], warnings
    constraint = [w for w in warnings if "'thing_nope_uniq'" in w]
    assert len(constraint) == 1 and "app.Thing" in constraint[0], warnings
    assert "thing_nope_uniq" not in facts["unique"] and facts["managers"] == ["objects"]


# ------------------------------------------------------------------ errors while setting up


def test_settings_raising_name_the_line_in_the_project(tmp_path: Path) -> None:
    settings = 'import os\n\nINSTALLED_APPS = ["app"]\nSECRET_KEY = os.environ["SECRET_KEY"]\n'
    root = make_project(tmp_path, settings=settings)
    result = lint(root, "app")
    assert_clean_error(
        result,
        "cannot import the Django settings module 'site_cfg.settings': "
        "KeyError: 'SECRET_KEY' (site_cfg/settings.py:4)",
    )
    assert "project root" not in result.stderr  # the module was found: the hint would mislead


def test_settings_importing_a_missing_module(tmp_path: Path) -> None:
    root = make_project(tmp_path, settings="import json\nimport local_settings\n")
    result = lint(root, "app")
    assert_clean_error(result, "site_cfg/settings.py:2 imports missing module 'local_settings'")
    assert "project root" not in result.stderr


@pytest.mark.parametrize("dotted", ["nope.settings", "site_cfg.nope"])
def test_only_a_missing_settings_module_gets_the_project_root_hint(
    tmp_path: Path, dotted: str
) -> None:
    root = make_project(tmp_path)
    result = run_flake8("--select", "DGC", "--django-settings-module", dotted, "app", cwd=root)
    assert_clean_error(result, f"{dotted!r}", "ModuleNotFoundError", "project root")


@pytest.mark.parametrize(
    ("models", "needle"),
    [
        (
            "from django.db import models\n\nimport json\nimport foo\n",
            "while importing the models of app 'app': app/models.py:4 imports missing module "
            "'foo' (ModuleNotFoundError: No module named 'foo')",
        ),
        (
            "from django.db import models\n\nx = (\n",
            "while importing the models of app 'app': SyntaxError: '(' was never closed "
            "(app/models.py:3)",
        ),
        (
            "from django.db import models\n\nLIMIT = {}['limit']\n",
            "while importing the models of app 'app': KeyError: 'limit' (app/models.py:3)",
        ),
    ],
)
def test_models_raising_name_the_app_and_the_line(tmp_path: Path, models: str, needle: str) -> None:
    root = make_project(tmp_path, models=models)
    for result in (lint(root, "app"), command(root)):
        assert_clean_error(result, "django.setup() failed for settings 'site_cfg.settings'", needle)
        assert "Please report" not in result.stdout + result.stderr
