"""Executable docs: every rule's "Example" is reported with its code and its "Use instead" is
clean, linted by the real flake8 as the fixture project's apps (tests/fixtures/project/
rule_examples/, rendered from the rule declarations by scripts/render_docs.py)."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from flake8_run import FORMAT, PROJECT, parse_reports, run_flake8

from flake8_django_goc.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import render_docs  # noqa: E402

EXAMPLES = PROJECT / "rule_examples"
MODEL_RULES = [c for c, r in RULES.items() if render_docs.example_kind(r) == "models"]
OPT_IN_CODES = ",".join(code for code, rule in RULES.items() if rule.opt_in)


def test_the_example_files_are_rendered_from_the_declarations() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render_docs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_has_linted_examples_or_a_reason() -> None:
    kinds = {code: render_docs.example_kind(rule) for code, rule in RULES.items()}
    # Only db-check's codes (they need a live database) have no statically linted example.
    assert {c for c, k in kinds.items() if k == "none"} <= {c for c in RULES if c[3] == "2"}


@pytest.fixture(scope="module")
def model_reports() -> dict[str, set[str]]:
    result = run_flake8(
        "--select", "DGC", "--extend-select", OPT_IN_CODES, "--django-goc-no-cache",
        "--django-settings-module", "goc_project.settings_examples", "--format", FORMAT,
        "rule_examples",
    )  # fmt: skip
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr
    assert "skipped" not in result.stderr, result.stderr
    found: dict[str, set[str]] = defaultdict(set)
    for report in parse_reports(result.stdout):
        found[Path(report.path).parts[1]].add(report.code)  # rule_examples/<app>/models.py
    return found


@pytest.mark.parametrize("code", MODEL_RULES)
def test_the_example_is_reported_with_the_rule_code(
    code: str, model_reports: dict[str, set[str]]
) -> None:
    assert code in model_reports[f"{code.lower()}_example"], RULES[code].example


@pytest.mark.parametrize("code", MODEL_RULES)
def test_the_fix_is_clean(code: str, model_reports: dict[str, set[str]]) -> None:
    if not (EXAMPLES / f"{code.lower()}_fix").is_dir():
        pytest.fail(f"no fix app for {code}")
    assert model_reports.get(f"{code.lower()}_fix", set()) == set(), RULES[code].use_instead


@pytest.mark.parametrize(("variant", "expected"), [("example", {"DGC007"}), ("fix", set())])
def test_the_settings_example(variant: str, expected: set[str]) -> None:
    module = f"rule_examples.dgc007_{variant}_settings"
    result = run_flake8(
        "--select", "DGC", "--django-goc-no-cache", "--django-settings-module", module,
        "--format", FORMAT, f"rule_examples/dgc007_{variant}_settings.py",
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr
    assert {r.code for r in parse_reports(result.stdout)} == expected, result.stdout
