"""``python -m flake8_django_goc``: the standalone command."""

from __future__ import annotations

from flake8_django_goc.commands.main import main

raise SystemExit(main())
