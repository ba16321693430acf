"""Options declared once (issue #12): every front end takes its options from the one table, with
the same help text, and the docs list exactly those options."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from flake8_django_goc.commands import check as cli
from flake8_django_goc.commands import config, fix_models
from flake8_django_goc.options import CHECK, FIX, FLAKE8, OPTIONS, docs_page, for_front

ROOT = Path(__file__).resolve().parent.parent
LONG_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]+")


def help_text(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", *args, "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("front", "command"),
    [
        (FLAKE8, ("flake8",)),
        (CHECK, ("flake8_django_goc",)),
        (FIX, ("flake8_django_goc", "fix-models")),
    ],
)
def test_each_front_end_has_its_options_with_the_same_help(
    front: str, command: tuple[str, ...]
) -> None:
    text = help_text(*command)
    for option in for_front(front):
        assert option.flag in text, (front, option.flag)
        # argparse wraps the text and may break it at a hyphen: compare without whitespace
        assert "".join(option.help.split()) in "".join(text.split()), (front, option.name)
    if front != FLAKE8:  # flake8's own help has its own options; ours has only the table's
        ours = {o.flag for o in OPTIONS} | {a for o in OPTIONS for a in o.aliases}
        shown = set(LONG_FLAG.findall(text.split("\nconfiguration:")[0])) - {"--help", "--version"}
        expected = {o.flag for o in for_front(front)} | {
            a for o in for_front(front) for a in o.aliases if a.startswith("--")
        }
        assert shown & ours == expected, front


def test_fix_models_takes_no_report_options() -> None:
    text = help_text("flake8_django_goc", "fix-models")
    for flag in ("--format", "--output-file", "--exit-zero", "--quiet", "--color"):
        assert flag not in text
    assert fix_models.build_parser().parse_args(["--dry-run"]).dry_run is True


def test_config_keys_and_epilog_come_from_the_table() -> None:
    keys = {o.name for o in OPTIONS if o.config}
    listed = {*config.LIST_KEYS, *config.STR_KEYS, *config.PLUGIN_BOOL_KEYS, *config.CLI_BOOL_KEYS}
    assert listed == keys
    epilog = flat(cli.EPILOG)
    for key in keys:
        assert key in epilog


def test_docs_page_is_up_to_date() -> None:
    page = (ROOT / "docs" / "options.md").read_text(encoding="utf-8")
    assert page == docs_page(), "run: python scripts/render_options.py"


def test_readme_options_table_lists_exactly_the_options() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `-")]
    listed = {flag for row in rows for flag in LONG_FLAG.findall(row.split("|")[1])}
    assert listed == {o.flag for o in OPTIONS} | {
        a for o in OPTIONS for a in o.aliases if a.startswith("--")
    }
