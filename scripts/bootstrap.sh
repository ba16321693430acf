#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment with the plugin and its test extras.
# Usage: source scripts/bootstrap.sh   -> sets $VENV and $PY
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GOC_VENV:-$ROOT/.venv}"
PYTHON="${GOC_PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
# Reinstall only when the project metadata changed since the last install.
stamp="$VENV/.goc-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    "$PY" -m pip install -q --disable-pip-version-check -U pip 2>&1 | { grep -v "^WARNING: Location" || true; }
    "$PY" -m pip install -q --disable-pip-version-check -e "$ROOT[test]" 2>&1 | { grep -v "^WARNING: Location" || true; }
    "$PY" -c "import flake8_django_goc, django, libcst, pytest, psycopg" && touch "$stamp"
fi
export VENV PY ROOT
