#!/usr/bin/env bash
# make demo: local control plane + upstream Flyte v1.16.8, then playbooks/harden-flyte.yml.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KUBECONFIG_FILE=$(bash "$ROOT/hack/cluster/flyte-up.sh")
echo "cluster ready: export KUBECONFIG=$KUBECONFIG_FILE"
if [ ! -f "$ROOT/playbooks/harden-flyte.yml" ]; then
  echo "demo: stopping here: playbooks/harden-flyte.yml is not in the collection yet (it lands with the" >&2
  echo "      flyte_cors / flyte_rollout / flyte_securitycontext modules). The cluster with Flyte is up." >&2
  exit 1
fi
V=$(bash "$ROOT/hack/venv.sh")
K8S_AUTH_KUBECONFIG="$KUBECONFIG_FILE" ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections" \
  "$V/bin/ansible-playbook" -i localhost, -c local --diff "$ROOT/playbooks/harden-flyte.yml" "$@"
