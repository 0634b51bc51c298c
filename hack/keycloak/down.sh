#!/usr/bin/env bash
# Stop the Keycloak that up.sh --name NAME started (by PID, with its process group).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/keycloak/versions.sh
. "$HERE/versions.sh"
NAME=keycloak
[ "${1:-}" = "--name" ] && NAME=$2
RUN="$FLYTESEC_CACHE/run/kc-$NAME"
[ -f "$RUN/pid" ] || exit 0
pid=$(cat "$RUN/pid")
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
fi
rm -f "$RUN/pid"
