# shellcheck shell=bash disable=SC2034
# Pinned versions of the local control plane. Changing one builds a new cache folder.
K8S_VERSION=${K8S_VERSION:-1.34.4}
ETCD_VERSION=${ETCD_VERSION:-3.6.16}
KWOK_VERSION=${KWOK_VERSION:-0.8.0}
HELM_VERSION=${HELM_VERSION:-3.19.5}
FLYTESEC_CACHE=${FLYTESEC_CACHE:-$HOME/.cache/flytesec}
BIN=${FLYTESEC_BIN:-$FLYTESEC_CACHE/cluster/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION/bin}
