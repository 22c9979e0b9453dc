#!/usr/bin/env bash
# The production profile on this machine (tests/production): PostgreSQL for the app and for
# Prefect, two Prefect API replicas on Redis messaging, two workers, two API processes and a
# real Postfix relay (STARTTLS + SASL). Installs Debian's postfix and sasl2-bin when missing.
#   scripts/production-test.sh -m production   # the compressed year (KINERJA_PROD_EMPLOYEES)
#   scripts/production-test.sh -m soak         # with faults (KINERJA_SOAK_EMPLOYEES); restarts
#                                              # the PostgreSQL cluster: run it alone
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v postfix >/dev/null 2>&1 && [ ! -x /usr/sbin/postfix ] || ! command -v saslpasswd2 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian postfix and sasl2-bin for the relay..."
    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix sasl2-bin libsasl2-modules \
      || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix \
          sasl2-bin libsasl2-modules)) >/tmp/kinerja-apt-postfix.log 2>&1 \
      || { echo "postfix install failed (see /tmp/kinerja-apt-postfix.log)"; exit 1; }
  else
    echo "the production profile needs Debian's postfix and sasl2-bin (root to install)"; exit 1
  fi
fi
export PATH="$PATH:/usr/sbin"
export KINERJA_TEST_PG_URL="${KINERJA_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
exec .venv/bin/pytest tests/production -s "$@"
