#!/usr/bin/env bash
# Start Keycloak (dev mode, in-memory database) on 127.0.0.1 and wait until it serves OIDC discovery.
#   hack/keycloak/up.sh [--name NAME] [--port PORT]      stdout: the base URL (http://127.0.0.1:PORT)
# Admin: admin / the password in <run dir>/admin-password (generated per start). Stop: down.sh --name NAME.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/keycloak/versions.sh
. "$HERE/versions.sh"
NAME=keycloak PORT=18080
while [ $# -gt 0 ]; do
  case "$1" in
    --name) NAME=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    *) echo "usage: $0 [--name NAME] [--port PORT]" >&2; exit 2 ;;
  esac
done
RUN="$FLYTESEC_CACHE/run/kc-$NAME"
URL="http://127.0.0.1:$PORT"
ready() { curl -fsS -o /dev/null "$URL/realms/master/.well-known/openid-configuration"; }
if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null && ready 2>/dev/null; then echo "$URL"; exit 0; fi
bash "$HERE/fetch.sh" >/dev/null
mkdir -p "$RUN"
chmod 700 "$RUN"
head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$RUN/admin-password"
start=$(date +%s)
# The management (health) port is moved off 9000 so that two instances do not clash.
JAVA_HOME=$KC_JAVA_HOME JAVA_OPTS_APPEND="--add-opens java.base/java.lang=ALL-UNNAMED" KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD="$(cat "$RUN/admin-password")" \
  setsid "$KC_HOME/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port="$PORT" --db=dev-mem \
  --http-management-port=$((PORT + 1)) --hostname-strict=false >"$RUN/keycloak.log" 2>&1 < /dev/null &
echo $! > "$RUN/pid"
for _ in $(seq 1 180); do
  if ready 2>/dev/null; then echo "[keycloak] $NAME ready on $URL in $(( $(date +%s) - start ))s" >&2; echo "$URL"; exit 0; fi
  if ! kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then tail -30 "$RUN/keycloak.log" >&2; exit 1; fi
  sleep 1
done
echo "[keycloak] not ready after 180s" >&2; tail -30 "$RUN/keycloak.log" >&2; exit 1
