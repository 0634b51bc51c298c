#!/usr/bin/env bash
# make demo: local control plane + upstream Flyte v1.16.8 + a local Keycloak, then playbooks/harden-flyte.yml,
# then the real flyteadmin v1.16.8 started on exactly what the run wrote, with the checks a user would make.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FLYTESEC_CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
# --fresh: a namespace hardened by an earlier demo enforces restricted and would refuse the upstream pods.
KUBECONFIG_FILE=$(bash "$ROOT/hack/cluster/flyte-up.sh" --fresh)
echo "cluster ready: export KUBECONFIG=$KUBECONFIG_FILE"
KC_URL=$(bash "$ROOT/hack/keycloak/up.sh" --name demo --port "${FLYTESEC_DEMO_KEYCLOAK_PORT:-18080}")
echo "Keycloak ready: $KC_URL (admin password in $FLYTESEC_CACHE/run/kc-demo/admin-password; stop: hack/keycloak/down.sh --name demo)"
V=$(bash "$ROOT/hack/venv.sh")
# The checkout is the collection: make it importable as flytesec.hardening.
mkdir -p "$ROOT/build/collections/ansible_collections/flytesec"
ln -sfn "$ROOT" "$ROOT/build/collections/ansible_collections/flytesec/hardening"
KEYCLOAK_ADMIN_USERNAME=admin KEYCLOAK_ADMIN_PASSWORD="$(cat "$FLYTESEC_CACHE/run/kc-demo/admin-password")" \
FLYTESEC_DEMO_KEYCLOAK_URL="$KC_URL" K8S_AUTH_KUBECONFIG="$KUBECONFIG_FILE" ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections" \
  "$V/bin/ansible-playbook" -i localhost, -c local --diff "$ROOT/playbooks/harden-flyte.yml" \
  -e "@${FLYTESEC_DEMO_VARS:-$ROOT/examples/local-demo.yml}" "$@"
if [ -z "${FLYTESEC_DEMO_VARS:-}" ]; then
  echo "starting the real flyteadmin v1.16.8 on what the run wrote (hack/flyte/live_admin.py):"
  BIN=$(bash "$ROOT/hack/flyte/build.sh")
  "$V/bin/python" "$ROOT/hack/flyte/live_admin.py" --kubeconfig "$KUBECONFIG_FILE" --namespace flyte \
    --bin-dir "$BIN" --console-origin https://flyte.example.test
fi
