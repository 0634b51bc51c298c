#!/usr/bin/env bash
# Stop the processes hack/cluster/up.sh started, by their recorded PIDs only (TERM, then KILL
# after a timeout), and remove the cluster's state. The built binaries stay cached.
#   hack/cluster/down.sh [--name NAME] [--keep-state]
# --keep-state keeps the run folder (PKI, tokens, logs, audit.log) and removes only the PID files.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/cluster/versions.sh
. "$HERE/versions.sh"
NAME=local
KEEP=0
TIMEOUT=${FLYTESEC_STOP_TIMEOUT:-15}
while [ $# -gt 0 ]; do
  case "$1" in
    --name) NAME=$2; shift 2 ;;
    --keep-state) KEEP=1; shift ;;
    *) echo "usage: $0 [--name NAME] [--keep-state]" >&2; exit 2 ;;
  esac
done
case "$NAME" in ''|*[!A-Za-z0-9_.-]*) echo "bad --name: $NAME" >&2; exit 2 ;; esac
D="$FLYTESEC_CACHE/run/$NAME"
if [ ! -d "$D" ]; then echo "[cluster $NAME] not running" >&2; exit 0; fi

# A recorded PID is ours only if that process still names this run folder on its command line
# (every component does); after a reboot the number may belong to someone else.
ours() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -- "$D/"; }
pids=()
for comp in kwok scheduler kcm kube-apiserver etcd; do
  f="$D/$comp.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null && ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
  fi
done
left=0
for _ in $(seq 1 $((TIMEOUT * 5))); do
  left=0
  for pid in "${pids[@]}"; do if kill -0 "$pid" 2>/dev/null; then left=1; fi; done
  [ "$left" = 0 ] && break
  sleep 0.2
done
if [ "$left" = 1 ]; then
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "[cluster $NAME] pid $pid ignored TERM for ${TIMEOUT}s: KILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
fi
rm -f "$D"/*.pid
if [ "$KEEP" = 0 ]; then rm -rf "$D"; fi
echo "[cluster $NAME] stopped ${#pids[@]} process(es)$([ "$KEEP" = 0 ] && echo ", state removed")" >&2
