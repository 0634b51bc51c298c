#!/usr/bin/env bash
# Build the local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok, helm) from the Go module proxy.
# Binaries land in a versioned folder under ~/.cache so later runs start in seconds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=hack/cluster/versions.sh
. "$HERE/versions.sh"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOMODCACHE="${GOMODCACHE_OVERRIDE:-$FLYTESEC_CACHE/go/mod}"
export GOCACHE="${GOCACHE_OVERRIDE:-$FLYTESEC_CACHE/go/build}"
mkdir -p "$BIN" "$GOMODCACHE" "$GOCACHE" "$FLYTESEC_CACHE/run"
# One build at a time: `make test` starts this in the background while up.sh may ask for it too.
exec 8>"$FLYTESEC_CACHE/run/.cluster-build.lock"
flock -w 3600 8 || { echo "timed out waiting for another cluster build" >&2; exit 1; }

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

build_k8s() {
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubectl) missing=0 b
  for b in "${want[@]}"; do [ -x "$BIN/$b" ] || missing=1; done
  [ "$missing" = 0 ] && return 0
  local minor=${K8S_VERSION#1.}; minor=${minor%%.*}; local patch=${K8S_VERSION##*.}
  local w="$FLYTESEC_CACHE/build/k8s-$K8S_VERSION"; mkdir -p "$w"; cd "$w"
  log "kubernetes v$K8S_VERSION in $w"
  [ -f go.mod ] || go mod init local.build/k8s >/dev/null 2>&1
  local mod m g
  mod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
  while read -r m; do
    go mod edit "-replace=$m=$m@v0.$minor.$patch"
  done < <(sed -n 's|^[[:space:]]*\(k8s.io/[a-z0-9-]*\)[[:space:]]*=> ./staging/.*|\1|p' "$mod")
  g=$(sed -n 's/^godebug[[:space:]]\+//p' "$mod" | head -1 || true)
  if [ -n "$g" ]; then go mod edit "-godebug=$g" || true; fi
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go get "k8s.io/kubernetes@v$K8S_VERSION"
  go mod tidy
  local ld="-s -w" kv
  for kv in "gitVersion=v$K8S_VERSION" "gitMajor=1" "gitMinor=$minor" "gitTreeState=clean" \
      "gitCommit=0000000000000000000000000000000000000000" "buildDate=1970-01-01T00:00:00Z"; do
    ld="$ld -X k8s.io/component-base/version.$kv -X k8s.io/client-go/pkg/version.$kv"
  done
  go build -p 2 -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$ld" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
  "$BIN/kube-apiserver" --version >&2
}

build_etcd() {
  [ -x "$BIN/etcd" ] && return 0
  local w="$FLYTESEC_CACHE/build/etcd-$ETCD_VERSION"; mkdir -p "$w"; cd "$w"
  log "etcd v$ETCD_VERSION in $w"
  [ -f go.mod ] || go mod init local.build/etcd >/dev/null 2>&1
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  go mod tidy
  go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v$ETCD_VERSION" \
    -o "$BIN/etcd" go.etcd.io/etcd/server/v3
}

build_kwok() {
  [ -x "$BIN/kwok" ] && [ -d "$BIN/../kwok-stages" ] && return 0
  log "kwok v$KWOK_VERSION"
  GOBIN="$BIN" go install -trimpath -ldflags="-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  rm -rf "$BIN/../kwok-stages"
  cp -r "$GOMODCACHE/sigs.k8s.io/kwok@v$KWOK_VERSION/kustomize/stage" "$BIN/../kwok-stages"
  chmod -R u+w "$BIN/../kwok-stages"
}

build_helm() {
  [ -x "$BIN/helm" ] && "$BIN/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "v$HELM_VERSION" && return 0
  log "helm v$HELM_VERSION"
  # The ldflags of helm's Makefile: its version, and the Kubernetes version of its client-go as the
  # default .Capabilities.KubeVersion of `helm template` (else v1.20.0).
  local mod cg major minor ld
  mod=$(go mod download -json "helm.sh/helm/v3@v$HELM_VERSION" | python3 -c 'import json,sys;print(json.load(sys.stdin)["GoMod"])')
  cg=$(sed -n 's|^[[:space:]]*k8s.io/client-go[[:space:]]\+v\([0-9.]*\).*|\1|p' "$mod" | head -1)
  major=$(( ${cg%%.*} + 1 )); minor=${cg#*.}; minor=${minor%%.*}
  ld="-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ld="$ld -X $pkg.k8sVersionMajor=$major -X $pkg.k8sVersionMinor=$minor"
  done
  GOBIN="$BIN" go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@v$HELM_VERSION"
  "$BIN/helm" version >&2
}

what=${1:-all}
case "$what" in
  all) build_etcd; build_kwok; build_helm; build_k8s ;;
  etcd) build_etcd ;; kwok) build_kwok ;; helm) build_helm ;; k8s) build_k8s ;;
  *) echo "usage: $0 [all|etcd|kwok|helm|k8s]" >&2; exit 2 ;;
esac
log "done: $(find "$BIN" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')"
