#!/usr/bin/env bash
# The real External Secrets Operator (ESO), built from its Go module (the Go module proxy; caches under
# ~/.cache/flytesec), its CRDs applied to a local cluster, and the controller run there as a local process,
# for the external_secret tests of flyte_auth_secrets. A cold build takes about 4 minutes on 2 cores and about
# 2.2 GB of Go build cache; later runs reuse the binary.
#
#   hack/external-secrets.sh build            stdout: the operator binary's path
#   hack/external-secrets.sh crds             stdout: the CRD bundle's path (from the Go module, not committed)
#   hack/external-secrets.sh apply-crds       apply the CRDs to $KUBECONFIG (server-side) and wait until Established
#   hack/external-secrets.sh start DIR        run the controller against $KUBECONFIG; pid in DIR/eso.pid, log in DIR/eso.log
#   hack/external-secrets.sh stop DIR         stop the controller started with DIR (only that pid)
#
# The controller runs alone: no webhook, no cert controller, metrics off (--metrics-addr=0), no leader election.
# ExternalSecret and SecretStore are stored as external-secrets.io/v1 with conversion None, so no webhook is needed.
set -euo pipefail
ESO_VERSION=0.16.2
FLYTESEC_CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
export GOTOOLCHAIN=local GOFLAGS=-modcacherw GOMODCACHE="$FLYTESEC_CACHE/go/mod" GOCACHE="$FLYTESEC_CACHE/go/build" CGO_ENABLED=0
OUT="$FLYTESEC_CACHE/external-secrets"
BIN="$OUT/eso-$ESO_VERSION"
MOD="$OUT/mod-$ESO_VERSION"
log() { printf '[external-secrets %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ESO's go.mod replaces sprig with its fork, so `go install ...@version` is refused: build it from a wrapper
# module that carries the same replace and imports the root package (package main) for tools.
wrapper() {
  mkdir -p "$MOD"
  if [ ! -f "$MOD/go.mod" ]; then
    cat > "$MOD/go.mod" <<EOF
module flytesec.local/esobuild

go 1.24

replace github.com/Masterminds/sprig/v3 => github.com/external-secrets/sprig/v3 v3.3.0
EOF
    cat > "$MOD/tools.go" <<'EOF'
//go:build tools

package tools

import _ "github.com/external-secrets/external-secrets"
EOF
  fi
  if ! grep -q "github.com/external-secrets/external-secrets v$ESO_VERSION" "$MOD/go.mod"; then
    log "resolving github.com/external-secrets/external-secrets v$ESO_VERSION"
    (cd "$MOD" && go get "github.com/external-secrets/external-secrets@v$ESO_VERSION" >&2)
  fi
}

build() {
  mkdir -p "$OUT"
  exec 9>"$OUT/.lock"
  flock -w 1800 9
  if [ ! -x "$BIN" ]; then
    local t0=$SECONDS
    wrapper
    log "building the operator v$ESO_VERSION (cold: about 4 minutes)"
    (cd "$MOD" && go build -trimpath -ldflags='-s -w' -o "$BIN.tmp" github.com/external-secrets/external-secrets >&2)
    mv "$BIN.tmp" "$BIN"
    log "built $BIN in $((SECONDS - t0)) s"
  fi
  exec 9>&-
  echo "$BIN"
}

crds() {
  mkdir -p "$OUT"
  local dir
  dir=$(cd "$OUT" && go mod download -json "github.com/external-secrets/external-secrets@v$ESO_VERSION" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error")))')
  echo "$dir/deploy/crds/bundle.yaml"
}

need_kubeconfig() {
  if [ -z "${KUBECONFIG:-}" ] || [ ! -f "$KUBECONFIG" ]; then echo "KUBECONFIG is not set to a file" >&2; exit 2; fi
}

case "${1:-}" in
  build) build ;;
  crds) crds ;;
  apply-crds)
    need_kubeconfig
    f=$(crds)
    kubectl apply --server-side --force-conflicts -f "$f" >/dev/null
    kubectl wait --for=condition=Established --timeout=60s \
      crd/externalsecrets.external-secrets.io crd/secretstores.external-secrets.io \
      crd/clustersecretstores.external-secrets.io >/dev/null
    echo "$f" ;;
  start)
    need_kubeconfig
    dir=${2:?usage: $0 start DIR}
    mkdir -p "$dir"
    if [ -f "$dir/eso.pid" ] && kill -0 "$(cat "$dir/eso.pid")" 2>/dev/null; then cat "$dir/eso.pid"; exit 0; fi
    bin=$(build)
    # its own session, so `stop` ends exactly this process group
    setsid "$bin" --metrics-addr=0 --loglevel=info >"$dir/eso.log" 2>&1 < /dev/null &
    echo $! > "$dir/eso.pid"
    cat "$dir/eso.pid" ;;
  stop)
    dir=${2:?usage: $0 stop DIR}
    if [ -f "$dir/eso.pid" ]; then
      pid=$(cat "$dir/eso.pid")
      if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
      fi
      rm -f "$dir/eso.pid"
    fi ;;
  *) echo "usage: $0 build|crds|apply-crds|start DIR|stop DIR" >&2; exit 2 ;;
esac
