#!/usr/bin/env bash
# The whole suite: everything on SQLite, then the database-facing tests again on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin
export PYTHONDONTWRITEBYTECODE=1

# Debian's chromium drives the browser test; install it when missing and we may (root, apt).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian chromium for the browser test..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
      >/tmp/kinerja-apt.log 2>&1 || echo "chromium install failed (see /tmp/kinerja-apt.log)"
  fi
fi

PG_URL="${KINERJA_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
status=0
# A few slow tests whose subject does not depend on the app's database run in one pass only
# (markers sqlite_only, pg_only); a plain `pytest` runs them all.
echo "== suite on SQLite"
$PY/pytest -m "not soak and not production and not pg_only" "$@" || status=$?
if $PY/python - "$PG_URL" <<'PYEOF'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1], connect_timeout=3).close()
except Exception as exc:
    print(f"PostgreSQL not reachable at {sys.argv[1]}: {exc}")
    sys.exit(1)
PYEOF
then
  echo "== database tests on PostgreSQL ($PG_URL)"
  KINERJA_TEST_DATABASE_URL="$PG_URL" $PY/pytest tests/api tests/integration -m "not browser and not soak and not production and not sqlite_only" "$@" \
    || status=$?
else
  echo "PostgreSQL is required for the suite"; status=1
fi
exit $status
