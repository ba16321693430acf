"""pre-commit: the hooks of .pre-commit-hooks.yaml and the local-hook recipe of
docs/pre-commit.md, run by the real pre-commit on a git repository holding a copy of example/.

Nothing is installed and nothing is fetched: the hooks run with `language: system`, finding
flake8-django-goc on PATH (this virtualenv's bin), and PRE_COMMIT_HOME is a temporary directory.
The `language: python` hook is only validated (installing it would need the network).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from pre_commit.clientlib import load_config, load_manifest
except ImportError:  # pragma: no cover - pre-commit is in the test extra
    pytest.skip(
        "pre-commit is not installed (pip install -e '.[test]'): pre-commit tests not run",
        allow_module_level=True,
    )

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / ".pre-commit-hooks.yaml"
RECIPE = ROOT / "docs" / "pre-commit.md"
EXAMPLE = ROOT / "example"

# What the example reports (README); DGC002..DGC006 besides the two DGC001.
EXAMPLE_FINDINGS = [
    "shop/views.py:16:16: DGC001",
    "shop/views.py:28:17: DGC002",
    "shop/views.py:41:12: DGC001",
    "shop/views.py:46:12: DGC004",
    "shop/views.py:51:12: DGC005",
    "shop/views.py:56:12: DGC006",
]

SAFE_VIEWS = '''\
"""Request handlers of the example shop, with only the safe calls left."""

from .models import Customer, Line, Product


def register(email, name):
    customer, _ = Customer.objects.get_or_create(email=email, defaults={"name": name})
    return customer


def add_line(basket, sku):
    product = Product.objects.get(sku=sku)
    line, _ = Line.objects.get_or_create(basket=basket, product=product)
    return line
'''


def hooks() -> dict[str, dict[str, object]]:
    return {hook["id"]: hook for hook in load_manifest(str(MANIFEST))}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    # The command of this virtualenv first, as an activated project virtualenv would have it.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    env["PRE_COMMIT_COLOR"] = "never"
    env.pop("PRE_COMMIT", None)
    return env


def pre_commit(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def example_repo(tmp_path: Path) -> Path:
    """A git repository whose root is a copy of example/ (where manage.py is)."""
    work = tmp_path / "work"
    shutil.copytree(
        EXAMPLE, work, ignore=shutil.ignore_patterns(".flake8-django-goc-cache", "__pycache__")
    )
    git(work, "init", "-q")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "example")
    return work


def fix_calls(work: Path) -> None:
    (work / "shop" / "views.py").write_text(SAFE_VIEWS, encoding="utf-8")
    git(work, "add", "-A")


def assert_reports_example(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Failed" in output
    for finding in EXAMPLE_FINDINGS:
        assert finding in output, (finding, output)


# -------------------------------------------------------------------------------- manifest


def test_manifest_offers_the_command() -> None:
    found = hooks()
    assert set(found) == {"flake8-django-goc", "flake8-django-goc-system"}
    for hook in found.values():
        assert hook["entry"] == "flake8-django-goc"
        assert hook["types"] == ["python"]
        assert hook["require_serial"] is True
    assert found["flake8-django-goc"]["language"] == "python"
    # `system` is what pre-commit before 4.4 knows; newer ones read it as `unsupported`.
    assert "language: system" in MANIFEST.read_text(encoding="utf-8")
    assert found["flake8-django-goc-system"]["language"] in ("system", "unsupported")


def test_manifest_entry_is_the_installed_command() -> None:
    scripts = Path(sys.executable).parent
    assert (scripts / "flake8-django-goc").exists() or (scripts / "flake8-django-goc.exe").exists()


# ------------------------------------------------------------------------------- try-repo


def test_try_repo_fails_on_the_example_then_passes(tmp_path: Path) -> None:
    # A repository holding this checkout's manifest (committed, as pre-commit clones a rev).
    hook_repo = tmp_path / "hooks"
    hook_repo.mkdir()
    shutil.copy(MANIFEST, hook_repo / ".pre-commit-hooks.yaml")
    git(hook_repo, "init", "-q")
    git(hook_repo, "add", "-A")
    git(hook_repo, "commit", "-q", "-m", "hooks")
    work = example_repo(tmp_path)
    env = environment(tmp_path)
    args = ("try-repo", str(hook_repo), "flake8-django-goc-system", "--all-files")

    assert_reports_example(pre_commit(work, env, *args))

    fix_calls(work)
    result = pre_commit(work, env, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


# ------------------------------------------------------------------------- the doc's recipe


def recipe() -> str:
    """The first YAML block of docs/pre-commit.md: the local hook."""
    text = RECIPE.read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match, "docs/pre-commit.md has no yaml block"
    return match.group(1)


def test_documented_local_hook_is_valid() -> None:
    config = recipe()
    assert "repo: local" in config and "ci:\n  skip: [flake8-django-goc]" in config
    assert "language: system" in config and "require_serial: true" in config


def test_documented_local_hook_runs(tmp_path: Path) -> None:
    work = example_repo(tmp_path)
    (work / ".pre-commit-config.yaml").write_text(recipe(), encoding="utf-8")
    loaded = load_config(str(work / ".pre-commit-config.yaml"))
    (hook,) = loaded["repos"][0]["hooks"]
    assert hook["id"] == "flake8-django-goc" and hook["require_serial"] is True
    assert loaded["ci"]["skip"] == ["flake8-django-goc"]
    git(work, "add", "-A")
    env = environment(tmp_path)

    assert_reports_example(pre_commit(work, env, "run", "--all-files"))

    fix_calls(work)
    result = pre_commit(work, env, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_hook_checks_only_the_files_it_is_given(tmp_path: Path) -> None:
    """On commit pre-commit passes the staged files: a change elsewhere is not held up by the
    findings of shop/views.py."""
    work = example_repo(tmp_path)
    (work / ".pre-commit-config.yaml").write_text(recipe(), encoding="utf-8")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "config", "--no-verify")
    (work / "mysite" / "urls.py").write_text("urlpatterns = []\n", encoding="utf-8")
    git(work, "add", "mysite/urls.py")
    result = pre_commit(work, environment(tmp_path), "run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout  # it ran on mysite/urls.py, not skipped for want of files
