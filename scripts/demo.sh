#!/usr/bin/env bash
# Run the linter on the bundled example project (example/) and show what it finds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT/example"
echo "\$ flake8 --select DGC .   (in example/, settings from example/setup.cfg)"
status=0
"$VENV/bin/flake8" --select DGC . || status=$?
# flake8 exits 1 when it reports something, which is the point of the demo.
[ "$status" -le 1 ] || exit "$status"
