#!/usr/bin/env bash
# make demo: local control plane + upstream Flyte v1.16.8, then playbooks/harden-flyte.yml.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# --fresh: a namespace hardened by an earlier demo enforces restricted and would refuse the upstream pods.
KUBECONFIG_FILE=$(bash "$ROOT/hack/cluster/flyte-up.sh" --fresh)
echo "cluster ready: export KUBECONFIG=$KUBECONFIG_FILE"
V=$(bash "$ROOT/hack/venv.sh")
# The checkout is the collection: make it importable as flytesec.hardening.
mkdir -p "$ROOT/build/collections/ansible_collections/flytesec"
ln -sfn "$ROOT" "$ROOT/build/collections/ansible_collections/flytesec/hardening"
K8S_AUTH_KUBECONFIG="$KUBECONFIG_FILE" ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections" \
  "$V/bin/ansible-playbook" -i localhost, -c local --diff "$ROOT/playbooks/harden-flyte.yml" \
  -e "@${FLYTESEC_DEMO_VARS:-$ROOT/examples/local-demo.yml}" "$@"
