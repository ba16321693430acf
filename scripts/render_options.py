"""Write docs/options.md from the option table (flake8_django_goc/options.py)."""

from __future__ import annotations

from pathlib import Path

from flake8_django_goc.options import docs_page

PAGE = Path(__file__).resolve().parent.parent / "docs" / "options.md"

if __name__ == "__main__":
    PAGE.write_text(docs_page(), encoding="utf-8")
    print(f"wrote {PAGE}")
