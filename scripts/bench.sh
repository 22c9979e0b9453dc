#!/usr/bin/env bash
# make bench: installs its load tools when missing (Postfix's smtp-sink, wrk), then runs.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/sbin/smtp-sink ] || need+=(postfix)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} from Debian's packages..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
exec .venv/bin/python -m kinerja.bench "$@"
