# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the restart-on-change logic, on the upstream Flyte manifests."""
import yaml
import pytest

from conftest import FIXTURES
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout as ro


def load(name):
    with open(FIXTURES / "flyte-v1.16.8" / name) as handle:
        return [d for d in yaml.safe_load_all(handle) if d]


@pytest.fixture(scope="module")
def core():
    return load("flyte-core-eks.yaml")


def deployment(docs, name):
    return next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def test_flyteadmin_inputs_from_the_upstream_manifest(core):
    refs = ro.referenced_objects(deployment(core, "flyteadmin")["spec"]["template"]["spec"])
    names = {(kind, name) for kind, name, _optional in refs}
    assert ("ConfigMap", "flyte-admin-base-config") in names
    assert ("ConfigMap", "flyte-admin-clusters-config") in names
    assert ("Secret", "flyte-admin-secrets") in names


def test_flyteconsole_consumes_its_config_through_env_from(core):
    refs = ro.referenced_objects(deployment(core, "flyteconsole")["spec"]["template"]["spec"])
    assert ("ConfigMap", "flyte-console-config", False) in refs


def test_hash_ignores_metadata_and_order_but_not_data():
    cm = {"kind": "ConfigMap", "metadata": {"name": "a", "resourceVersion": "1"}, "data": {"k": "v"}}
    sec = {"kind": "Secret", "metadata": {"name": "s"}, "data": {"x": "eA=="}}
    h1 = ro.inputs_hash("uid-1", [cm, sec])
    cm2 = dict(cm, metadata={"name": "a", "resourceVersion": "99"})
    assert ro.inputs_hash("uid-1", [sec, cm2, None]) == h1
    assert ro.inputs_hash("uid-2", [cm, sec]) != h1
    assert ro.inputs_hash("uid-1", [dict(cm, data={"k": "w"}), sec]) != h1


def test_restart_patch_touches_only_template_annotations():
    patch = ro.restart_patch("sha256:abc", "run-1")
    assert patch == {"spec": {"template": {"metadata": {"annotations": {
        ro.CONFIG_HASH_ANNOTATION: "sha256:abc", ro.RESTARTED_BY_ANNOTATION: "run-1"}}}}}
    workload = {"spec": {"template": patch["spec"]["template"]}}
    assert ro.current_hash(workload) == "sha256:abc"


@pytest.mark.parametrize("status,spec,expected", [
    ({"observedGeneration": 1}, {"replicas": 1}, "progressing"),
    ({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "availableReplicas": 1}, {"replicas": 1}, "progressing"),
    ({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}, {"replicas": 1}, "complete"),
    ({"observedGeneration": 2, "conditions": [{"type": "ReplicaFailure", "status": "True", "message": "forbidden"}]},
     {"replicas": 1}, "failed"),
    ({"observedGeneration": 2}, {"replicas": 1, "paused": True}, "paused"),
])
def test_rollout_state(status, spec, expected):
    workload = {"kind": "Deployment", "metadata": {"generation": 2}, "spec": spec, "status": status}
    assert ro.rollout_state(workload)[0] == expected


def test_failure_reason_prefers_failed_create():
    events = [
        {"type": "Normal", "reason": "ScalingReplicaSet", "message": "up"},
        {"type": "Warning", "reason": "FailedCreate", "message": 'pods "x" is forbidden: violates PodSecurity'},
        {"type": "Warning", "reason": "Other", "message": "later"},
    ]
    assert ro.failure_reason(events).startswith("FailedCreate: pods")
    assert ro.failure_reason([]) is None


def _rollable(annotations=None, paused=False):
    template = {"metadata": {"annotations": annotations or {}}, "spec": {"containers": [{"name": "c"}]}}
    return {"kind": "Deployment", "metadata": {"name": "d", "uid": "u1"}, "spec": {"template": template, "paused": paused}}


def test_plan_restart_restarts_once_then_leaves_alone():
    cm = {"kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": "v"}}
    refs = [("ConfigMap", "cfg", False)]
    first = ro.plan_restart(_rollable(), refs, [cm], run_id="r1")
    assert first["action"] == "restart" and first["old_hash"] is None and first["inputs"] == ["ConfigMap/cfg"]
    assert first["patch"] == ro.restart_patch(first["new_hash"], "r1")
    hashed = _rollable({ro.CONFIG_HASH_ANNOTATION: first["new_hash"]})
    assert ro.plan_restart(hashed, refs, [cm])["action"] == "unchanged"
    assert ro.plan_restart(hashed, refs, [cm])["patch"] is None
    assert ro.plan_restart(hashed, refs, [cm], force=True)["action"] == "restart"
    assert ro.plan_restart(hashed, refs, [dict(cm, data={"k": "w"})])["action"] == "restart"
    paused = ro.plan_restart(_rollable(paused=True), refs, [cm])
    assert paused["action"] == "skip" and paused["reason"] == "Deployment is paused: resume it to apply the change"


def _written(kind, name, time, manager="flytesec.hardening"):
    return {"kind": kind, "metadata": {"name": name, "managedFields": [
        {"manager": "helm", "time": "2025-12-31T00:00:00Z"}, {"manager": manager, "time": time}]}}


def _deployment():
    return {"kind": "Deployment", "metadata": {"name": "flyteadmin", "uid": "d1",
                                               "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"selector": {"matchLabels": {"app": "admin"}}, "template": {"metadata": {}}}}


def _rs(name, created, revision, owner="d1"):
    return {"metadata": {"name": name, "creationTimestamp": created, "ownerReferences": [{"uid": owner}],
                         "labels": {"pod-template-hash": name}, "annotations": {"deployment.kubernetes.io/revision": revision}}}


def _pod(name, created, template_hash, app="admin"):
    return {"metadata": {"name": name, "creationTimestamp": created, "labels": {"app": app, "pod-template-hash": template_hash}}}


REPLICASETS = [_rs("old", "2026-01-01T00:00:00Z", "1"), _rs("new", "2026-01-02T00:00:00Z", "2"),
               _rs("other", "2026-01-09T00:00:00Z", "2", owner="x")]
PODS = [_pod("a", "2026-01-02T00:00:05Z", "new"), _pod("b", "2026-01-02T00:01:00Z", "new"),
        _pod("c", "2026-01-01T00:00:00Z", "old"), _pod("d", "2026-01-01T00:00:00Z", "new", app="other")]


def test_last_written_current_replicaset_and_pods():
    cm = _written("ConfigMap", "c", "2026-01-03T00:00:00Z")
    assert ro.last_written(cm) == "2026-01-03T00:00:00Z" and ro.last_written(cm, "helm") == "2025-12-31T00:00:00Z"
    assert ro.last_written({"metadata": {}}) is None
    assert ro.current_replicaset(_deployment(), REPLICASETS)["metadata"]["name"] == "new"
    assert ro.current_replicaset(_deployment(), []) is None
    assert [p["metadata"]["name"] for p in ro.workload_pods(_deployment(), PODS, REPLICASETS)] == ["a", "b"]


RESTART = {"action": "restart", "old_hash": None, "new_hash": "sha256:new"}


@pytest.mark.parametrize("written, manager, pending", [
    ("2026-01-03T00:00:00Z", "flytesec.hardening", True),    # this collection wrote after the oldest pod started
    ("2026-01-02T00:00:01Z", "flytesec.hardening", False),   # before the pods started: they run it
    ("2026-01-02T00:00:05Z", "flytesec.hardening", False),   # the same second: not proven newer
    ("2026-01-03T00:00:00Z", "OpenAPI-Generator", False),    # someone else's write (a hand edit) never counts
])
def test_pending_restart(written, manager, pending):
    pods = ro.workload_pods(_deployment(), PODS, REPLICASETS)
    reason = ro.pending_restart(RESTART, _deployment(), [_written("ConfigMap", "flyte-admin-base-config", written, manager)],
                                pods, "flytesec.hardening")
    assert bool(reason) is pending
    if pending:
        assert "wrote ConfigMap/flyte-admin-base-config at %s" % written in reason and "2026-01-02T00:00:05Z" in reason


def test_no_pending_restart_when_the_hash_is_current_or_no_pod_runs():
    inputs = [_written("ConfigMap", "c", "2026-01-09T00:00:00Z")]
    pods = ro.workload_pods(_deployment(), PODS, REPLICASETS)
    current = {"action": "unchanged", "old_hash": "h", "new_hash": "h"}
    assert ro.pending_restart(current, _deployment(), inputs, pods, "flytesec.hardening") is None
    assert ro.pending_restart(RESTART, _deployment(), inputs, [], "flytesec.hardening") is None
