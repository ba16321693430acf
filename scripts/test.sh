#!/usr/bin/env bash
# The whole test suite: installs what it needs into .venv, then runs pytest.
# The race tests start their own throwaway PostgreSQL and MariaDB servers (tests/pg.py,
# tests/mariadb.py); they skip visibly when none can be started, unless GOC_REQUIRE_PG=1 and
# GOC_REQUIRE_MARIADB=1 (set by .ci/run) turn that into a failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
# The race tests need real servers: PostgreSQL (and MariaDB for the isolation-level tests).
missing=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]} for the race tests..." >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
exec "$PY" -m pytest "$@"
