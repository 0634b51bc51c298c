#!/usr/bin/env bash
# Kyverno's CLI and Gatekeeper's gator, built from their Go modules (the Go module proxy; caches under
# ~/.cache/flytesec), so the tests can evaluate the admission_policies role's policies with the real engines.
# A cold build takes several minutes (kyverno ~8, gator ~5); later runs reuse the binaries.
#
#   hack/policy-clis.sh kyverno|gator
#
# stdout: the binary's path (only).
set -euo pipefail
KYVERNO_VERSION=1.19.1
GATEKEEPER_VERSION=3.23.1
FLYTESEC_CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
export GOTOOLCHAIN=local GOFLAGS=-modcacherw GOMODCACHE="$FLYTESEC_CACHE/go/mod" GOCACHE="$FLYTESEC_CACHE/go/build" CGO_ENABLED=0
OUT="$FLYTESEC_CACHE/policy-bin"
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock -w 1800 9
case "${1:-}" in
  gator)
    bin="$OUT/gator-$GATEKEEPER_VERSION"
    if [ ! -x "$bin" ]; then
      echo "[policy-clis] building gator $GATEKEEPER_VERSION" >&2
      GOBIN="$OUT/gobin" go install -trimpath -ldflags="-s -w" "github.com/open-policy-agent/gatekeeper/v3/cmd/gator@v$GATEKEEPER_VERSION" >&2
      mv "$OUT/gobin/gator" "$bin"
    fi ;;
  kyverno)
    bin="$OUT/kyverno-$KYVERNO_VERSION"
    if [ ! -x "$bin" ]; then
      echo "[policy-clis] building the kyverno CLI $KYVERNO_VERSION" >&2
      # its go.mod has replace directives, so it builds only as the main module: from a copy of the module
      src=$(bash "$(dirname "$0")/policy-crds.sh" kyverno)
      src=${src%/config/crds/*}
      work="$OUT/kyverno-src"
      rm -rf "$work"
      cp -r "$src" "$work"
      chmod -R u+w "$work"
      (cd "$work" && go build -trimpath -ldflags="-s -w" -o "$bin.tmp" ./cmd/cli/kubectl-kyverno >&2)
      mv "$bin.tmp" "$bin"
      rm -rf "$work"
    fi ;;
  *) echo "usage: $0 kyverno|gator" >&2; exit 2 ;;
esac
echo "$bin"
