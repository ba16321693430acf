"""The monorepo recipe of docs/pre-commit.md, run by the real pre-commit: manage.py in backend/,
no configuration, hooks run from the repository root with the staged files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from test_pre_commit import (
    EXAMPLE,
    EXAMPLE_FINDINGS,
    RECIPE,
    environment,
    git,
    pre_commit,
)


def monorepo_recipe() -> str:
    text = RECIPE.read_text(encoding="utf-8").split("## A monorepo", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert match, "docs/pre-commit.md has no monorepo yaml block"
    return match.group(1)


def test_monorepo_recipe_finds_backend_manage_py(tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(
        EXAMPLE,
        work / "backend",
        ignore=shutil.ignore_patterns(".flake8-django-goc-cache", "__pycache__"),
    )
    (work / "backend" / "setup.cfg").unlink()  # the settings come from manage.py only
    (work / "frontend").mkdir()
    (work / "frontend" / "tool.py").write_text("Thing.objects.get_or_create(name='a')\n")
    (work / ".pre-commit-config.yaml").write_text(monorepo_recipe(), encoding="utf-8")
    git(work, "init", "-q")
    git(work, "add", "-A")
    env = environment(tmp_path)
    result = pre_commit(work, env, "run", "--all-files")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    for finding in EXAMPLE_FINDINGS:
        assert f"backend/{finding.removeprefix('./')}" in output, (finding, output)
    assert "frontend" not in output  # files: ^backend/
