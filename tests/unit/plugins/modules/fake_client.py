# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FakeClient: a recording stand-in for k8s.FlyteK8sClient in unit tests of a module's main().

It serves objects (by default the upstream Flyte manifests from ../shared/fixtures, read in place), records every
request, applies JSON merge patches and creates, bumps resourceVersion on each write, refuses a patch whose
resourceVersion precondition is stale (409) and a create of an existing object (409), and in check mode records the
request as a dry run without changing anything. Strategic merge patches go through the planner's own model of
them. JSON patches are applied for the ops a rollback sends (add, replace, remove). A workload's rollout is what a
test says it is (``complete_rollouts``, ``fail_rollout``): its status is made up on each read. It is not an API
server: admission, defaulting and real rollouts are proven on the real local cluster (tests/integration).
"""
import copy
import json
import os
import sys
from contextlib import contextmanager
from unittest import mock

from ansible.module_utils.testing import patch_module_args

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.policy.securitycontext import strategic_merge

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module_utils"))
import upstream_manifests  # noqa: E402  pylint: disable=wrong-import-position
from test_backup import apply_merge_patch as merge_patch  # noqa: E402  pylint: disable=wrong-import-position


CLUSTER_SCOPED = ("ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace",
                  "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


class FakeClient:
    def __init__(self, objects=None, namespace="flyte", check_mode=False):
        self.check_mode = check_mode
        self.warnings = []
        self.requests = []
        self.store = {}
        self._version = 1000
        self.rollouts = {}          # (kind, name) -> ("complete" | "failed", message)
        self.default_rollout = None  # a state for every other workload, or None: its status as stored
        self.denied = set()         # (group, resource, verb, namespace) a SelfSubjectAccessReview refuses
        self.reviews = []           # every SelfSubjectAccessReview asked (not a request of self.requests)
        if objects is None:
            objects = upstream_manifests.load(upstream_manifests.CORE)
        self.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        for obj in objects:
            obj = copy.deepcopy(obj)
            if obj.get("kind") not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = namespace
            else:
                obj["metadata"].pop("namespace", None)   # as the API server does (the chart sets one on a ClusterRole)
            self.add(obj)

    def add(self, obj):
        meta = obj["metadata"]
        self._version += 1
        meta["resourceVersion"] = str(self._version)
        self.store[(obj["kind"], meta.get("namespace"), meta["name"])] = obj

    def writes(self, dry_run=None):
        return [r for r in self.requests if r["verb"] in ("create", "patch", "replace", "delete")
                and (dry_run is None or r["dry_run"] == dry_run)]

    def _record(self, verb, kind, namespace, name, body=None, patch_type=None):
        self.requests.append({"verb": verb, "kind": kind, "namespace": namespace, "name": name,
                              "body": copy.deepcopy(body), "patch_type": patch_type, "dry_run": self.check_mode})

    def complete_rollouts(self):
        """Every workload's rollout completes (unless ``fail_rollout`` says otherwise)."""
        self.default_rollout = ("complete", None)

    def fail_rollout(self, kind, name, message="pods is forbidden: violates PodSecurity", namespace="flyte"):
        """The workload's rollout fails: its status says its progress deadline passed, and its ReplicaSet has a
        FailedCreate Warning event with ``message`` (the event rollout_wait.failure_reason picks)."""
        self.rollouts[(kind, name)] = ("failed", "%s %s has timed out progressing" % (kind, name))
        self.add({"apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "FailedCreate", "message": message,
                  "lastTimestamp": "2026-11-24T09:30:00Z", "involvedObject": {"kind": kind, "name": name},
                  "metadata": {"name": "%s.failed-create" % name, "namespace": namespace}})

    def _with_status(self, obj):
        state = self.rollouts.get((obj["kind"], obj["metadata"]["name"]), self.default_rollout)
        if state is None or obj["kind"] not in ("Deployment", "StatefulSet", "DaemonSet"):
            return obj
        generation = obj["metadata"].get("generation", 0)
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        if state[0] == "failed":
            obj["status"] = {"observedGeneration": generation, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": state[1]}]}
        else:
            obj["status"] = {"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                             "readyReplicas": replicas, "availableReplicas": replicas, "desiredNumberScheduled": replicas,
                             "updatedNumberScheduled": replicas, "numberAvailable": replicas}
        return obj

    def get(self, api_version, kind, name, namespace=None):
        self._record("get", kind, namespace, name)
        obj = self.store.get((kind, namespace, name))
        return self._with_status(copy.deepcopy(obj)) if obj is not None else None

    def list(self, api_version, kind, namespace=None, label_selector=None, field_selector=None):
        self._record("list", kind, namespace, None)
        wanted = dict(part.split("=", 1) for part in (label_selector or "").split(",") if "=" in part)
        name_is = (field_selector or "").partition("metadata.name=")[2] or None
        found = []
        for (k, ns, _name), obj in sorted(self.store.items(), key=lambda item: str(item[0])):
            labels = obj["metadata"].get("labels") or {}
            if name_is is not None and obj["metadata"]["name"] != name_is:
                continue
            if k == kind and (namespace is None or ns == namespace) and all(labels.get(a) == b for a, b in wanted.items()):
                found.append(copy.deepcopy(obj))
        return found

    def patch(self, api_version, kind, name, namespace, body, patch_type="strategic"):
        self._record("patch", kind, namespace, name, body, patch_type)
        current = self.store.get((kind, namespace, name))
        if current is None:
            raise k8s_utils.FlyteK8sError("patch %s %s/%s failed: not found" % (kind, namespace, name), 404, "NotFound")
        wanted = ((body or {}).get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise k8s_utils.FlyteK8sError("patch %s %s/%s failed: Conflict" % (kind, namespace, name), 409, "Conflict")
        if patch_type == "json":
            result = json_patch(current, body)
        elif patch_type == "strategic":
            result = strategic_merge(current, body)
        else:
            result = merge_patch(current, body)
        if not self.check_mode:
            self.add(result)
        return copy.deepcopy(result)

    def dry_run_patch(self, api_version, kind, name, namespace, body, patch_type="merge"):
        """A dry run whatever the check mode; ``self.dry_run_warnings[(kind, name)]`` are the warnings it answers."""
        saved = self.check_mode
        self.check_mode = True
        try:
            result = self.patch(api_version, kind, name, namespace, body, patch_type)
        finally:
            self.check_mode = saved
        for text in getattr(self, "dry_run_warnings", {}).get((kind, name), []):
            self.warnings.append({"kind": kind, "namespace": namespace, "name": name, "warning": text})
        return result

    def dry_run_patches(self, requests, workers=1):
        """FlyteK8sClient.dry_run_patches: the warnings of each dry run (merge patches), one after the other."""
        out = []
        for api_version, kind, name, namespace, body in requests:
            seen = len(self.warnings)
            self.dry_run_patch(api_version, kind, name, namespace, body)
            out.append([w["warning"] for w in self.warnings[seen:]])
        return out

    def resource(self, api_version, kind):
        return FakeResource(api_version, kind)

    def can(self, verb, resource, group="", namespace=None):
        """FlyteK8sClient.can: allowed unless (group, resource, verb, namespace) is in ``self.denied``."""
        item = (group, resource, verb, namespace)
        self.reviews.append(item)
        return item not in self.denied, "RBAC: not allowed" if item in self.denied else ""

    def create(self, api_version, kind, body, namespace=None):
        name = body["metadata"]["name"]
        self._record("create", kind, namespace, name, body)
        if (kind, namespace, name) in self.store:
            raise k8s_utils.FlyteK8sError("create %s %s/%s failed: AlreadyExists" % (kind, namespace, name), 409, "AlreadyExists")
        obj = copy.deepcopy(body)
        obj.setdefault("kind", kind)
        obj["metadata"].setdefault("namespace", namespace)
        if not self.check_mode:
            self.add(obj)
        return copy.deepcopy(obj)

    def replace(self, api_version, kind, body, namespace=None):
        name = body["metadata"]["name"]
        self._record("replace", kind, namespace, name, body)
        if not self.check_mode:
            self.add(copy.deepcopy(body))
        return copy.deepcopy(body)

    def delete(self, api_version, kind, name, namespace=None):
        self._record("delete", kind, namespace, name)
        if not self.check_mode:
            return self.store.pop((kind, namespace, name), None)
        return self.store.get((kind, namespace, name))


class FakeResource:
    """What discovery answers for a kind: its plural ``name``, ``group`` and whether it is ``namespaced``."""

    def __init__(self, api_version, kind):
        lower = kind.lower()
        self.name = lower[:-1] + "ies" if lower.endswith("y") else lower + ("es" if lower.endswith("s") else "s")
        self.group = api_version.rpartition("/")[0]
        self.kind = kind
        self.namespaced = kind not in CLUSTER_SCOPED


def json_patch(obj, operations):
    """Apply a JSON patch (RFC 6902) of add, replace and remove ops with plain paths; return a new object."""
    result = copy.deepcopy(obj)
    for operation in operations:
        if operation["op"] not in ("add", "replace", "remove"):
            raise NotImplementedError("FakeClient does not apply JSON patch op %s" % operation["op"])
        keys = [k.replace("~1", "/").replace("~0", "~") for k in operation["path"].split("/")[1:]]
        parent = result
        for key in keys[:-1]:
            parent = parent[int(key)] if isinstance(parent, list) else parent[key]
        last = int(keys[-1]) if isinstance(parent, list) else keys[-1]
        if operation["op"] == "remove":
            del parent[last]
        elif operation["op"] == "replace" and (isinstance(parent, dict) and last not in parent):
            raise k8s_utils.FlyteK8sError("json patch: replace of missing %s" % operation["path"], 422, "Invalid")
        else:
            parent[last] = copy.deepcopy(operation["value"])
    return result


# Result keys ansible-core reads itself: a module returning one of them changes how the task is judged (``skipped``
# makes ansible-core ignore changed_when and failed_when; ``rc``, ``failed``, ``unreachable``, ``results`` are read
# the same way), or the key is Ansible's own (``ansible_*`` but ansible_facts, ``_ansible_*``, add_host, add_group).
RESERVED_RESULT_KEYS = ("skipped", "skip_reason", "skipped_reason", "failed", "failed_when_result", "changed_when_result",
                        "unreachable", "results", "rc", "attempts", "retries", "exception", "invocation", "add_host",
                        "add_group", "ansible_loop_var", "ansible_index_var", "item", "deprecations", "warnings",
                        "stdout", "stdout_lines", "stderr", "stderr_lines")
ALLOWED_ANSIBLE_KEYS = ("ansible_facts",)


def reserved_keys(result, allowed=()):
    """Top-level keys of ``result`` that ansible-core reserves, sorted; ``allowed`` are left out."""
    found = [key for key in result if key not in allowed and key not in ALLOWED_ANSIBLE_KEYS and (
        key in RESERVED_RESULT_KEYS or key.startswith("ansible_") or key.startswith("_ansible_"))]
    return sorted(found)


class Exit(Exception):
    def __init__(self, result, failed):
        Exception.__init__(self, result.get("msg"))
        self.result = result
        self.failed = failed


@contextmanager
def _captured():
    def exit_json(module, **kwargs):
        raise Exit(kwargs, False)

    def fail_json(module, msg, **kwargs):
        kwargs["msg"] = msg
        raise Exit(kwargs, True)
    with mock.patch("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json), \
            mock.patch("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json):
        yield


def run_module(module, args, client, check_mode=False, diff=False):
    """Run ``module.main()`` with ``args`` against ``client``; return ``(result, failed)``."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    client.check_mode = check_mode

    def connect(ansible_module):
        return client
    with patch_module_args(args), _captured(), mock.patch.object(k8s_utils, "connect", connect):
        try:
            module.main()
        except Exit as done:
            # fail_json adds failed itself; the module's own keys must leave Ansible's alone
            clash = reserved_keys(done.result, allowed=("failed",) if done.failed else ())
            assert clash == [], "%s returned result keys ansible-core reserves: %s" % (module.__name__, clash)
            return done.result, done.failed
    raise AssertionError("the module neither exited nor failed")


def dumps(result):
    return json.dumps(result, sort_keys=True, default=str)
