"""Render docs/rules/ from flake8_django_goc/rule_docs.py (the only source of the rule docs).

Usage: ``python scripts/render_docs.py`` rewrites docs/rules/; ``--check`` exits 1 when it is out
of date; ``--out DIR`` renders into DIR instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the package of this checkout, installed or not

from flake8_django_goc.rules.docs import rendered_files  # noqa: E402

RULES_DIR = ROOT / "docs" / "rules"


def stale(directory: Path) -> list[str]:
    """Files under ``directory`` that differ from the rendering, are missing or are extra."""
    expected = rendered_files()
    present = {p.name for p in directory.glob("*.md")} if directory.is_dir() else set()
    wrong = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted(wrong + sorted(present - set(expected)))


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    expected = rendered_files()
    for path in directory.glob("*.md"):
        if path.name not in expected:
            path.unlink()  # a rule that no longer exists
    for name, text in expected.items():
        (directory / name).write_text(text, encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RULES_DIR, help="directory to render into")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    if args.check:
        wrong = stale(args.out)
        if wrong:
            print(f"out of date in {args.out}: {', '.join(wrong)}; run scripts/render_docs.py")
            return 1
        return 0
    write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
