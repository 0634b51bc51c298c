#!/usr/bin/env bash
# The CRDs of Istio, Kyverno and Gatekeeper, from their Go modules (served by the Go module proxy and cached
# under ~/.cache/flytesec/go/mod), for the guardrail tests. Nothing is built.
#
#   hack/policy-crds.sh istio|kyverno|gatekeeper
#
# stdout: the CRD file(s) to apply, one path per line.
set -euo pipefail
ISTIO_API_VERSION=1.31.4
KYVERNO_VERSION=1.19.1
GATEKEEPER_VERSION=3.23.1
FLYTESEC_CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
export GOTOOLCHAIN=local GOFLAGS=-modcacherw GOMODCACHE="$FLYTESEC_CACHE/go/mod" GOCACHE="$FLYTESEC_CACHE/go/build"
work="$FLYTESEC_CACHE/go/crds-mod"
mkdir -p "$work"
cd "$work"
[ -f go.mod ] || go mod init local.build/crds >/dev/null 2>&1
dir() { go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error")))'; }
case "${1:-}" in
  istio) echo "$(dir "istio.io/api@v$ISTIO_API_VERSION")/kubernetes/customresourcedefinitions.gen.yaml" ;;
  kyverno) echo "$(dir "github.com/kyverno/kyverno@v$KYVERNO_VERSION")/config/crds/kyverno/kyverno.io_clusterpolicies.yaml" ;;
  gatekeeper) echo "$(dir "github.com/open-policy-agent/gatekeeper/v3@v$GATEKEEPER_VERSION")/config/crd/bases/constrainttemplate-customresourcedefinition.yaml" ;;
  *) echo "usage: $0 istio|kyverno|gatekeeper" >&2; exit 2 ;;
esac
