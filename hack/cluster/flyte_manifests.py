# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print an upstream Flyte manifest (from ../shared/fixtures) re-targeted at one namespace.

The rendered Helm manifests hard-code ``namespace: "flyte"``, so ``kubectl apply -n other`` refuses
them. This rewrites only what names the namespace:

* namespaced objects get ``metadata.namespace = NAMESPACE``;
* cluster-scoped objects (ClusterRole, ClusterRoleBinding, CRD, webhook configurations, ...)
  lose the meaningless ``metadata.namespace`` the chart gives them;
* ServiceAccount subjects of (Cluster)RoleBindings and ``clientConfig.service.namespace`` of
  webhook configurations that pointed at the manifest's namespace follow it.

Everything else (ConfigMap contents, labels, names) stays byte-for-byte upstream. Checks that
cluster-scoped names do not depend on the namespace are the caller's business (flyte-core and
flyte-binary use different ClusterRole names, so both fit on one cluster).

    flyte_manifests.py FILE NAMESPACE [--kinds]
"""
from __future__ import absolute_import, division, print_function

import sys

import yaml

__metaclass__ = type

CLUSTER_SCOPED = frozenset((
    "APIService", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "IngressClass",
    "MutatingWebhookConfiguration", "Namespace", "PersistentVolume", "PriorityClass", "RuntimeClass",
    "StorageClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
))
UPSTREAM_NAMESPACE = "flyte"


def retarget(docs, namespace):
    """Yield the documents of ``docs`` moved to ``namespace``."""
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        old = meta.get("namespace") or UPSTREAM_NAMESPACE
        if doc.get("kind") in CLUSTER_SCOPED:
            meta.pop("namespace", None)
        else:
            meta["namespace"] = namespace
        for subject in doc.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("namespace", old) in (old, UPSTREAM_NAMESPACE):
                subject["namespace"] = namespace
        for hook in doc.get("webhooks") or []:
            service = (hook.get("clientConfig") or {}).get("service")
            if service and service.get("namespace") in (old, UPSTREAM_NAMESPACE):
                service["namespace"] = namespace
        yield doc


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    path, namespace = argv[1], argv[2]
    with open(path) as handle:
        docs = [d for d in yaml.safe_load_all(handle) if d]
    if "--kinds" in argv[3:]:
        for doc in docs:
            print("%s/%s" % (doc.get("kind"), doc.get("metadata", {}).get("name")))
        return 0
    yaml.safe_dump_all(list(retarget(docs, namespace)), sys.stdout, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
