# shellcheck shell=bash
# Source me: point kubectl, helm, the kubernetes Python client and kubernetes.core at a local
# cluster started by hack/cluster/up.sh, and put the built binaries first on PATH.
#
#   . hack/cluster/env.sh [NAME]        # NAME defaults to $FLYTESEC_CLUSTER, then `local`
#
# Sets KUBECONFIG and K8S_AUTH_KUBECONFIG (admin, system:masters), FLYTESEC_RUN (the run folder
# with logs and audit.log), FLYTESEC_AUDIT_LOG, FLYTESEC_DEV_KUBECONFIG (the RBAC-limited `dev`
# user) and PATH. It deliberately does not `set -euo pipefail`: that would leak into the
# caller's interactive shell. It only reads; it neither builds nor starts anything.
__flytesec_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/cluster/versions.sh
. "$__flytesec_here/versions.sh"
FLYTESEC_CLUSTER=${1:-${FLYTESEC_CLUSTER:-local}}
FLYTESEC_RUN="$FLYTESEC_CACHE/run/$FLYTESEC_CLUSTER"
KUBECONFIG="$FLYTESEC_RUN/admin.kubeconfig"
K8S_AUTH_KUBECONFIG=$KUBECONFIG
FLYTESEC_DEV_KUBECONFIG="$FLYTESEC_RUN/dev.kubeconfig"
FLYTESEC_AUDIT_LOG="$FLYTESEC_RUN/audit.log"
case ":$PATH:" in *":$BIN:"*) ;; *) PATH="$BIN:$PATH" ;; esac
export FLYTESEC_CLUSTER FLYTESEC_RUN KUBECONFIG K8S_AUTH_KUBECONFIG FLYTESEC_DEV_KUBECONFIG FLYTESEC_AUDIT_LOG PATH
if [ ! -f "$KUBECONFIG" ]; then
  echo "flytesec: cluster $FLYTESEC_CLUSTER is not up (run hack/cluster/up.sh --name $FLYTESEC_CLUSTER)" >&2
fi
unset __flytesec_here
