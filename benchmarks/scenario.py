# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's scenario (issue 20): upstream flyte-core plus N project namespaces, and its end state.

* ``create_projects``: N namespaces ``bench<i>-<domain>`` made as flyteadmin's cluster resource sync makes them
  from flyte-core's templates (Namespace with the ``kubernetes`` finalizer, the default ServiceAccount with the
  IAM role annotation, ResourceQuota ``project-quota`` with the domain's custom data). Every 10th namespace runs two
  restricted-compliant pods, every 25th (from the second) one plain pod that restricted would reject, so the
  collection's enforce dry run has something to find and enforce is held back there. kwok marks them Running.
* ``delete_projects``: delete them and wait until they are gone (kube-controller-manager's namespace controller).
* ``end_state`` / ``normalise`` / ``compare``: what the three contenders must agree on, without what only differs by
  who wrote it (``IGNORED_*`` below, listed in docs/performance.md).
"""
from __future__ import absolute_import, division, print_function

import concurrent.futures
import json
import os
import time

__metaclass__ = type

PREFIX = "bench"
DOMAINS = ("development", "staging", "production")
# flyte-core's cluster_resources.customData (values-eks.yaml), per domain
QUOTA = {"development": ("4", "3000Mi"), "staging": ("2", "3000Mi"), "production": ("5", "4000Mi")}
IAM_ROLE = "arn:aws:iam::<ACCOUNT_NUMBER>:role/flyte-user-role"
FLYTE_NS = os.environ.get("FLYTESEC_BENCH_FLYTE_NS", "flyte")   # the smoke test uses a Flyte namespace of its own
MANAGED = "app.kubernetes.io/managed-by=flytesec.hardening"
SETUP_WORKERS = 8

# What the comparison leaves out, and why (docs/performance.md lists the same).
IGNORED_METADATA = ("resourceVersion", "managedFields", "uid", "creationTimestamp", "generation", "selfLink")
IGNORED_ANNOTATIONS = (
    "hardening.flytesec.io/config-hash",        # the collection's restart marker (pod template)
    "hardening.flytesec.io/restarted-by",       # the collection's run id on a restarted pod template
    "kubectl.kubernetes.io/restartedAt",        # the baseline's `kubectl rollout restart` marker; the floor's too
    "deployment.kubernetes.io/revision",        # the Deployment controller's count of rollouts
)
IGNORED_LABELS = ("hardening.flytesec.io/backup-run",)  # the collection's run id (backup ConfigMaps only)
# kinds of the end state: (api_version, kind, plural, namespaced to projects, in the Flyte namespace)
PROJECT_KINDS = (("v1", "Namespace"), ("v1", "ServiceAccount"), ("v1", "ResourceQuota"), ("v1", "LimitRange"),
                 ("v1", "PodTemplate"), ("networking.k8s.io/v1", "NetworkPolicy"))
FLYTE_KINDS = (("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "ServiceAccount"), ("v1", "PodTemplate"),
               ("networking.k8s.io/v1", "NetworkPolicy"), ("apps/v1", "Deployment"))


def namespaces(n):
    """``[(namespace, project, domain)]`` of a scenario of size ``n``."""
    return [("%s%04d-%s" % (PREFIX, i, DOMAINS[i % 3]), "%s%04d" % (PREFIX, i), DOMAINS[i % 3]) for i in range(n)]


def compliant(i):
    return i % 10 == 0


def noncompliant(i):
    return i % 25 == 1


def _pod(name, restricted):
    container = {"name": "task", "image": "task-image:1",
                 "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}
    spec = {"containers": [container], "restartPolicy": "Never"}
    if restricted:
        spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}
        container["securityContext"] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"flytesec-bench": "task"}}, "spec": spec}


def _api(api_client):
    from kubernetes import client
    return client.CoreV1Api(api_client)


def _create_one(api_client, i, name, domain):
    from kubernetes.client.rest import ApiException
    core = _api(api_client)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
                           "spec": {"finalizers": ["kubernetes"]}})
    sa = {"apiVersion": "v1", "kind": "ServiceAccount",
          "metadata": {"name": "default", "namespace": name, "annotations": {"eks.amazonaws.com/role-arn": IAM_ROLE}}}
    try:
        core.create_namespaced_service_account(name, sa)
    except ApiException as exc:   # the ServiceAccount controller was first: the sync updates it
        if exc.status != 409:
            raise
        core.patch_namespaced_service_account("default", name, {"metadata": sa["metadata"]})
    cpu, memory = QUOTA[domain]
    core.create_namespaced_resource_quota(name, {"apiVersion": "v1", "kind": "ResourceQuota",
                                                 "metadata": {"name": "project-quota", "namespace": name},
                                                 "spec": {"hard": {"limits.cpu": cpu, "limits.memory": memory}}})
    pods = 0
    if compliant(i):
        for k in range(2):
            core.create_namespaced_pod(name, _pod("task-%d" % k, True))
            pods += 1
    if noncompliant(i):
        core.create_namespaced_pod(name, _pod("legacy-task", False))
        pods += 1
    return pods


def create_projects(api_client, n, timeout=900):
    """Create the scenario's ``n`` project namespaces (threads) and wait until their pods run; returns the pod count."""
    with concurrent.futures.ThreadPoolExecutor(SETUP_WORKERS) as pool:
        futures = [pool.submit(_create_one, api_client, i, name, domain)
                   for i, (name, _project, domain) in enumerate(namespaces(n))]
        pods = sum(f.result() for f in futures)
    core = _api(api_client)
    deadline = time.monotonic() + timeout
    while True:
        running = [p for p in core.list_pod_for_all_namespaces(label_selector="flytesec-bench=task").items
                   if p.status.phase == "Running"]
        if len(running) >= pods:
            return pods
        if time.monotonic() > deadline:
            raise RuntimeError("%d of %d bench pods Running after %ss" % (len(running), pods, timeout))
        time.sleep(1)


def existing_projects(api_client):
    return [ns.metadata.name for ns in _api(api_client).list_namespace().items if ns.metadata.name.startswith(PREFIX)]


def delete_projects(api_client, timeout=1800):
    """Delete every bench namespace and wait until none is left."""
    from kubernetes.client.rest import ApiException
    core = _api(api_client)
    names = existing_projects(api_client)

    def delete(name):
        try:
            core.delete_namespace(name, grace_period_seconds=0)
        except ApiException as exc:
            if exc.status != 404:
                raise
    with concurrent.futures.ThreadPoolExecutor(SETUP_WORKERS) as pool:
        list(pool.map(delete, names))
    deadline = time.monotonic() + timeout
    while existing_projects(api_client):
        if time.monotonic() > deadline:
            raise RuntimeError("bench namespaces still there after %ss" % timeout)
        time.sleep(2)


# ---- end state ----------------------------------------------------------------------------------------------------

def _strip(meta, keys):
    for key in keys:
        meta.pop(key, None)


def normalise(obj):
    """``obj`` without what only says who wrote it or when (IGNORED_*), status, and empty maps the server drops."""
    obj = json.loads(json.dumps(obj))
    obj.pop("status", None)
    meta = obj.get("metadata") or {}
    _strip(meta, IGNORED_METADATA)
    for key, ignored in (("annotations", IGNORED_ANNOTATIONS), ("labels", IGNORED_LABELS)):
        values = dict((k, v) for k, v in (meta.get(key) or {}).items() if k not in ignored)
        if values:
            meta[key] = values
        else:
            meta.pop(key, None)
    template = ((obj.get("spec") or {}).get("template") or {}).get("metadata")
    if obj.get("kind") == "Deployment" and template is not None:
        annotations = dict((k, v) for k, v in (template.get("annotations") or {}).items() if k not in IGNORED_ANNOTATIONS)
        if annotations:
            template["annotations"] = annotations
        else:
            template.pop("annotations", None)
    if obj.get("kind") == "ServiceAccount":
        obj.pop("secrets", None)
    return obj


def _dyn(api_client):
    from kubernetes import dynamic
    return dynamic.DynamicClient(api_client)


def _items(dyn, api_version, kind, **kwargs):
    res = dyn.resources.get(api_version=api_version, kind=kind)
    out = []
    for item in res.get(**kwargs).to_dict()["items"]:
        item["apiVersion"], item["kind"] = api_version, kind
        out.append(item)
    return out


def end_state(api_client, n):
    """``{"<kind> <namespace>/<name>": normalised object}`` of the Flyte namespace and the ``n`` project namespaces:
    one LIST per kind cluster-wide (kept to these namespaces), the ClusterRoles/Bindings the collection labels."""
    dyn = _dyn(api_client)
    wanted = set(name for name, _p, _d in namespaces(n))
    state = {}

    def put(obj):
        meta = obj["metadata"]
        state["%s %s/%s" % (obj["kind"], meta.get("namespace", ""), meta["name"])] = normalise(obj)
    for api_version, kind in PROJECT_KINDS:
        for obj in _items(dyn, api_version, kind):
            ns = obj["metadata"].get("namespace") or obj["metadata"]["name"]
            if ns in wanted or (kind == "Namespace" and ns == FLYTE_NS):
                put(obj)
    for api_version, kind in FLYTE_KINDS:
        for obj in _items(dyn, api_version, kind, namespace=FLYTE_NS):
            if kind == "Secret" and obj.get("type") == "kubernetes.io/service-account-token":
                continue
            put(obj)
    for kind in ("ClusterRole", "ClusterRoleBinding"):
        for obj in _items(dyn, "rbac.authorization.k8s.io/v1", kind, label_selector=MANAGED):
            put(obj)
    return state


def compare(reference, other):
    """Differences between two end states, as readable lines (empty: equal)."""
    lines = []
    for key in sorted(set(reference) | set(other)):
        if key not in other:
            lines.append("missing: %s" % key)
        elif key not in reference:
            lines.append("extra: %s" % key)
        elif reference[key] != other[key]:
            a = json.dumps(reference[key], sort_keys=True)
            b = json.dumps(other[key], sort_keys=True)
            lines.append("differs: %s\n  reference: %s\n  other:     %s" % (key, a[:1500], b[:1500]))
    return lines
