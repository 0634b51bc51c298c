#!/usr/bin/env bash
# Install upstream Flyte v1.16.8 (the rendered manifests in ../shared/fixtures/flyte-v1.16.8) on a
# local cluster and wait until every Deployment is Available and rolled out. kwok marks the pods
# Running/Ready; no image is pulled and nothing runs, so init containers and probes do not matter.
#
#   flyte-core   (flyte-core-eks.yaml)       -> namespace $FLYTE_CORE_NS   (default flyte)
#   flyte-binary (flyte-binary-sandbox.yaml) -> namespace $FLYTE_BINARY_NS (default flyte-binary)
#
#   hack/cluster/flyte-up.sh [--name NAME | --kubeconfig FILE] [--fresh] [--only core|binary]
#
# Starts the named cluster (up.sh) if it is not running; --kubeconfig FILE targets another,
# already running cluster instead. Re-runnable: objects are applied server-side
# with one field manager (flyte-install), so a second run changes nothing. --fresh first deletes
# every object of the manifest (also the cluster-scoped ClusterRoles/Bindings and the CRD) and the
# namespace, so tests start from the upstream state.
#
# Webhooks: neither manifest contains a Mutating/ValidatingWebhookConfiguration. flyte-core's
# flyte-pod-webhook (and flyte-binary's embedded webhook) would register one at runtime from inside
# the pod; kwok pods run nothing, so none appears and pod creation is never blocked. If one does
# appear (say a test creates it), `down.sh`/`--fresh` is the way back.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=hack/cluster/versions.sh
. "$HERE/versions.sh"
NAME=local FRESH=0 ONLY=all KUBECONFIG_FILE=
while [ $# -gt 0 ]; do
  case "$1" in
    --name) NAME=$2; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --kubeconfig) KUBECONFIG_FILE=$2; shift 2 ;;
    *) echo "usage: $0 [--name NAME | --kubeconfig FILE] [--fresh] [--only core|binary]" >&2; exit 2 ;;
  esac
done
FIXTURES=${FLYTESEC_FIXTURES:-$ROOT/../shared/fixtures}
FLYTE_DIR="$FIXTURES/flyte-v1.16.8"
CORE_NS=${FLYTE_CORE_NS:-flyte}
BINARY_NS=${FLYTE_BINARY_NS:-flyte-binary}
TIMEOUT=${FLYTE_WAIT_TIMEOUT:-300s}
log() { printf '[flyte %s %s] %s\n' "$NAME" "$(date +%H:%M:%S)" "$*" >&2; }

if [ -z "$KUBECONFIG_FILE" ]; then
  KUBECONFIG_FILE=$(bash "$HERE/up.sh" --name "$NAME")
elif [ ! -x "$BIN/kubectl" ]; then
  bash "$HERE/build.sh" k8s >&2
fi
K() { "$BIN/kubectl" --kubeconfig="$KUBECONFIG_FILE" "$@"; }
# The manifest rewrite needs PyYAML: the project's virtualenv has it; a system python3 may too.
if python3 -c 'import yaml' 2>/dev/null; then PY=python3; else PY="$(bash "$ROOT/hack/venv.sh")/bin/python"; fi

# One install per cluster at a time (--fresh deletes what another run is waiting for).
mkdir -p "$FLYTESEC_CACHE/run"
exec 9>"$FLYTESEC_CACHE/run/.$NAME.flyte.lock"
flock -w 900 9 || { log "timed out waiting for another flyte-up.sh"; exit 1; }

render() { "$PY" "$HERE/flyte_manifests.py" "$FLYTE_DIR/$1" "$2"; }

install() { # manifest namespace
  local manifest=$1 ns=$2 d
  [ -f "$FLYTE_DIR/$manifest" ] || { log "missing $FLYTE_DIR/$manifest"; exit 1; }
  if [ "$FRESH" = 1 ]; then
    log "--fresh: deleting the objects of $manifest and namespace $ns"
    render "$manifest" "$ns" | K delete --ignore-not-found --wait=true --timeout="$TIMEOUT" -f - >/dev/null
    K delete namespace "$ns" --ignore-not-found --wait=true --timeout="$TIMEOUT" >/dev/null
  fi
  K create namespace "$ns" --dry-run=client -o yaml |
    K apply --server-side --field-manager=flyte-install -f - >/dev/null
  log "applying $manifest to namespace $ns"
  render "$manifest" "$ns" |
    K apply --server-side --force-conflicts --field-manager=flyte-install -f - >/dev/null
  K -n "$ns" wait --for=condition=Available deployment --all --timeout="$TIMEOUT" >/dev/null
  for d in $(K -n "$ns" get deployments -o name); do
    K -n "$ns" rollout status "$d" --timeout="$TIMEOUT" >/dev/null
  done
  log "namespace $ns: $(K -n "$ns" get deployments --no-headers | awk '{printf "%s=%s ", $1, $2}')"
}

case "$ONLY" in
  all) install flyte-core-eks.yaml "$CORE_NS"; install flyte-binary-sandbox.yaml "$BINARY_NS" ;;
  core) install flyte-core-eks.yaml "$CORE_NS" ;;
  binary) install flyte-binary-sandbox.yaml "$BINARY_NS" ;;
  *) echo "--only core|binary" >&2; exit 2 ;;
esac
if [ -n "$(K get mutatingwebhookconfigurations -o name)" ]; then
  log "note: MutatingWebhookConfigurations exist: $(K get mutatingwebhookconfigurations -o name | tr '\n' ' ')"
fi
echo "$KUBECONFIG_FILE"
