"""The rule documentation: complete for every code, rendered into docs/rules/ without drift, and
printed by ``flake8-django-goc explain`` without any Django settings."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_django_goc.report import formats
from flake8_django_goc.rules import RULES
from flake8_django_goc.rules import docs as rule_docs
from flake8_django_goc.rules.base import DOCS_URI
from flake8_django_goc.rules.docs import DOCS, SECTIONS, markdown

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "docs" / "rules"


def run_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, "-m", "flake8_django_goc", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# ------------------------------------------------------------------------------ completeness


def test_every_code_has_docs_and_no_other() -> None:
    assert list(DOCS) == list(RULES)


@pytest.mark.parametrize("code", list(RULES))
def test_sections_are_complete(code: str) -> None:
    doc = DOCS[code]
    for section in SECTIONS:
        assert getattr(doc, section), f"{code}: empty {section}"
    assert re.fullmatch(r"[a-z]+(-[a-z]+)+", doc.name), doc.name
    for title, url in doc.references:
        assert title and url.startswith("https://"), (title, url)
    # The reason, with what it costs a user in production.
    assert re.search(r"MultipleObjectsReturned|IntegrityError|a 500", doc.why), doc.why


@pytest.mark.parametrize("code", list(RULES))
@pytest.mark.parametrize("section", ["example", "use_instead"])
def test_examples_are_valid_python(code: str, section: str) -> None:
    source = getattr(DOCS[code], section)
    compile(source, f"{code}-{section}", "exec", flags=ast.PyCF_ONLY_AST)
    assert "\t" not in source and source == source.strip()


def test_examples_differ_from_their_fix() -> None:
    for doc in DOCS.values():
        assert doc.example != doc.use_instead, doc.code


def test_names_are_unique() -> None:
    names = [doc.name for doc in DOCS.values()]
    assert len(names) == len(set(names))


def test_markdown_has_the_sections_in_order() -> None:
    for doc in DOCS.values():
        text = markdown(doc)
        headings = [
            f"# {doc.code}: {doc.name}",
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "Use instead:",
            "## References",
        ]
        positions = [text.index(heading) for heading in headings]
        assert positions == sorted(positions), doc.code
        assert text.count("```python") == 2
        # Opt-in and fixable rules say so.
        assert ("Opt-in" in text) == doc.code.startswith("DGC1")
        assert ("fix-models" in text.split("## What it does")[0]) == doc.fixable


def test_fixable_rules_are_the_ones_whose_findings_carry_a_constraint() -> None:
    assert {code for code, doc in DOCS.items() if doc.fixable} == {
        "DGC001",
        "DGC002",
        "DGC004",
        "DGC008",
        "DGC010",
    }


def test_plain_text_drops_markdown() -> None:
    text = rule_docs.plain_text("A `call()` and\nmore.\n\n```text\n  x -> y\n```\n- item\n")
    assert text == "A call() and more.\n\n  x -> y\n- item"


# ------------------------------------------------------------------------------------ docs/


def test_docs_are_rendered_from_the_source(tmp_path: Path) -> None:
    """docs/rules/ is what scripts/render_docs.py renders now: re-render and compare."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "render_docs.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rendered = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in RULES_DIR.iterdir()}
    assert sorted(rendered) == sorted(committed), "run: python scripts/render_docs.py"
    for name, content in rendered.items():
        assert committed[name] == content, f"docs/rules/{name} is stale: run scripts/render_docs.py"
    assert sorted(rendered) == sorted([*(f"{code}.md" for code in RULES), "index.md"])


def test_render_check_mode_reports_stale_files(tmp_path: Path) -> None:
    script = str(ROOT / "scripts" / "render_docs.py")
    subprocess.run([sys.executable, script, "--out", str(tmp_path)], check=True, timeout=60)
    check = [sys.executable, script, "--check", "--out", str(tmp_path)]
    assert subprocess.run(check, capture_output=True, timeout=60).returncode == 0
    (tmp_path / "DGC001.md").write_text("old\n", encoding="utf-8")
    (tmp_path / "DGC999.md").write_text("gone\n", encoding="utf-8")
    result = subprocess.run(check, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "DGC001.md" in result.stdout and "DGC999.md" in result.stdout


def test_index_links_every_rule() -> None:
    index = (RULES_DIR / "index.md").read_text(encoding="utf-8")
    for code in RULES:
        assert f"[{code}]({code}.md)" in index


# ---------------------------------------------------------------------------------- explain


def test_explain_prints_the_rule_page(tmp_path: Path) -> None:
    result = run_command("explain", "DGC001", cwd=tmp_path)  # no settings, no config anywhere
    assert result.returncode == 0, result.stderr
    assert result.stdout == (RULES_DIR / "DGC001.md").read_text(encoding="utf-8")
    assert result.stderr == ""


def test_explain_accepts_lowercase_and_several_codes(tmp_path: Path) -> None:
    result = run_command("explain", "dgc004", "DGC101", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# DGC004: null-in-unique-set\n")
    assert "\n# DGC101: dynamic-lookup\n" in result.stdout


@pytest.mark.parametrize("args", [["explain"], ["explain", "--all"]])
def test_explain_without_a_code_lists_the_rules(tmp_path: Path, args: list[str]) -> None:
    result = run_command(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(RULES)
    for line, (code, rule) in zip(lines, RULES.items(), strict=True):
        assert line.startswith(f"{code}  {rule.name}") and line.endswith(rule.summary)


def test_explain_unknown_code_exits_2(tmp_path: Path) -> None:
    result = run_command("explain", "DGC001", "E501", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown rule E501" in result.stderr and "DGC001, DGC002" in result.stderr
    assert "Traceback" not in result.stderr


def test_explain_does_not_import_django(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from flake8_django_goc.commands import main as cli\n"
        "assert cli.main(['explain', 'DGC003']) == 0\n"
        "assert 'django' not in sys.modules, 'explain imported Django'\n"
        "assert 'libcst' not in sys.modules, 'explain imported libcst'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# DGC003: deferred-constraint")


# ------------------------------------------------------------------------------------ SARIF


@pytest.mark.parametrize("code", list(RULES))
def test_sarif_rule_help_comes_from_the_docs(code: str) -> None:
    help_ = formats.rule_help(code)
    doc = DOCS[code]
    assert help_.name.isidentifier() and help_.name[0].isupper()
    assert help_.markdown == markdown(doc)
    assert help_.uri == f"{DOCS_URI}/{code}.md"
    assert help_.short == doc.summary_sentence
    assert "`" not in help_.full and "`" not in help_.text
    assert help_.text.startswith(f"{code}: ") and help_.text.endswith(help_.uri)
