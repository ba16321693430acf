#!/usr/bin/env bash
# Run the linter on the bundled example project (example/) and show what it finds.
# Installs only what the demo needs, into .venv (or $GOC_VENV): this package in editable mode
# with its runtime dependencies (Django, flake8, libcst), and psycopg, the PostgreSQL driver the
# example's settings name (Django imports it at setup; nothing connects). Not the test tools.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GOC_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
if [ ! -x "$PY" ]; then
    echo "Creating a virtual environment in $VENV" >&2
    "${GOC_PYTHON:-python3}" -m venv "$VENV"
fi
if ! "$PY" -c "import flake8_django_goc, django, flake8, libcst, psycopg" 2>/dev/null; then
    echo "Installing into $VENV: flake8-django-goc (pip install -e .: Django, flake8, libcst)" \
        "and psycopg[binary]" >&2
    "$PY" -m pip install -q --disable-pip-version-check -e "$ROOT" "psycopg[binary]" 2>&1 |
        { grep -v "^WARNING: Location" || true; }
fi
cd "$ROOT/example"
status=0
echo "\$ flake8 --select DGC .   (in example/, settings from example/setup.cfg)"
"$VENV/bin/flake8" --select DGC . || status=$?
# flake8 exits 1 when it reports something, which is the point of the demo.
[ "$status" -le 1 ] || exit "$status"
echo
echo "\$ flake8-django-goc .     (the same checks without the rest of flake8)"
status=0
"$VENV/bin/flake8-django-goc" . || status=$?
[ "$status" -le 1 ] || exit "$status"
