#!/usr/bin/env bash
# The whole test suite: installs what it needs into .venv, then runs pytest.
# The PostgreSQL race tests start their own throwaway server (tests/pg.py); they skip visibly
# when none can be started, unless GOC_REQUIRE_PG=1 (set by .ci/run) turns that into a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
if [ ! -x /usr/lib/postgresql/15/bin/initdb ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing the PostgreSQL server for the race tests..." >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
exec "$PY" -m pytest "$@"
