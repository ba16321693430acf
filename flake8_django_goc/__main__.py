"""``python -m flake8_django_goc``: the standalone command."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
