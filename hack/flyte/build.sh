#!/usr/bin/env bash
# Build the real Flyte v1.16.8 servers from the source in ../shared/upstream (the Go module proxy
# refuses flyteadmin): flyteadmin and flytepropeller (flyte-core) and the single binary `flyte`
# (flyte-binary's `start`). Cached under ~/.cache/flytesec/flyte/<sha of the tarballs>/bin, with Go's
# module and build caches under ~/.cache/flytesec/go, so a warm call returns at once.
#   hack/flyte/build.sh        stdout: the bin directory
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
FLYTESEC_CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
UPSTREAM=${FLYTESEC_UPSTREAM:-$ROOT/../shared/upstream}
VERSION=v1.16.8
SRC_TGZ="$UPSTREAM/flyte-$VERSION-go-src.tar.gz"
PROXY_TGZ="$UPSTREAM/goproxy-kubeflow-spark-operator.tar.gz"
log() { printf '[flyte-build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for f in "$SRC_TGZ" "$PROXY_TGZ"; do
  [ -f "$f" ] || { log "missing $f (set FLYTESEC_UPSTREAM to the folder holding Flyte's source tarballs)"; exit 1; }
done
key=$(cat "$SRC_TGZ" "$PROXY_TGZ" | sha256sum | cut -c1-16)
OUT="$FLYTESEC_CACHE/flyte/$VERSION-$key"
BIN="$OUT/bin"
if [ -f "$OUT/.complete" ]; then echo "$BIN"; exit 0; fi

mkdir -p "$FLYTESEC_CACHE/run"
exec 9>"$FLYTESEC_CACHE/run/.flyte-build.lock"
flock -w 3600 9 || { log "timed out waiting for another build"; exit 1; }
if [ -f "$OUT/.complete" ]; then echo "$BIN"; exit 0; fi

command -v gcc >/dev/null || { log "gcc is needed (the builds use cgo for go-sqlite3)"; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=1 GOFLAGS=-buildvcs=false
export GOMODCACHE="${GOMODCACHE_OVERRIDE:-$FLYTESEC_CACHE/go/mod}"
export GOCACHE="${GOCACHE_OVERRIDE:-$FLYTESEC_CACHE/go/build}"
SRC="$OUT/src" PROXYDIR="$OUT/goproxy"
rm -rf "$SRC" "$PROXYDIR" "$BIN"
mkdir -p "$SRC" "$PROXYDIR" "$BIN" "$GOMODCACHE" "$GOCACHE"
tar xzf "$SRC_TGZ" -C "$SRC"
tar xzf "$PROXY_TGZ" -C "$PROXYDIR"
# The one dependency the proxy refuses comes from the file proxy; its hash equals go.sum's line.
GOPROXY="file://$PROXYDIR,$(go env GOPROXY)"
export GOPROXY
LDFLAGS="-s -w -X github.com/flyteorg/flyte/flytestdlib/version.Version=$VERSION"
start=$(date +%s)
build() { # dir package output
  local t0; t0=$(date +%s)
  (cd "$SRC/$1" && go build -p 2 -trimpath -ldflags "$LDFLAGS" -o "$BIN/$3" "$2")
  log "$3 built in $(( $(date +%s) - t0 ))s"
}
build flyteadmin ./cmd flyteadmin
build flytepropeller ./cmd/controller flytepropeller
build . ./cmd flyte
for b in flyteadmin flytepropeller flyte; do "$BIN/$b" --help >/dev/null || { log "$b does not run"; exit 1; }; done
rm -rf "$SRC" "$PROXYDIR"
touch "$OUT/.complete"
log "Flyte $VERSION servers built in $(( $(date +%s) - start ))s into $BIN"
echo "$BIN"
