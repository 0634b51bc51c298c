# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_securitycontext and the pod_security role against the real local control plane, both upstream layouts.

flyte-core (flyte-core-eks manifests) in namespace ``flyte`` and flyte-binary (flyte-binary-sandbox) in
``flyte-binary``. The module starts from a fresh upstream install and puts one back at the end, so the other test
modules see upstream Flyte. The tests run in file order: the check-mode run must see the upstream state, the
restart test the hardened one.
"""
from __future__ import absolute_import, division, print_function

import copy
import json
import os
import subprocess
from pathlib import Path

import pytest
from k8s_audit import summary
from playbook import run_playbook

from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import securitycontext as sc

__metaclass__ = type

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
ROLE_PLAYBOOK = HERE / "playbooks" / "pod_security_role.yml"
MODULE_PLAYBOOK = HERE / "playbooks" / "securitycontext_module.yml"
HACK = HERE.parents[1] / "hack" / "cluster"
ADMIN = "flytesec-admin"  # the admin kubeconfig's user, which ansible-playbook uses
VERSION = "v1.34"
MODULE_TASK = "Set the securityContexts"


def _flyte_up_fresh(cluster):
    args = ["--kubeconfig", str(cluster.kubeconfig)] if not cluster.started else ["--name", cluster.name]
    proc = subprocess.run(["bash", str(HACK / "flyte-up.sh")] + args + ["--fresh"], capture_output=True, text=True,
                          timeout=1800, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]


class _Flyte:
    core_ns = os.environ.get("FLYTE_CORE_NS", "flyte")
    binary_ns = os.environ.get("FLYTE_BINARY_NS", "flyte-binary")


@pytest.fixture(scope="module")
def upstream(cluster):
    """Upstream Flyte, freshly installed (not the session's ``flyte`` fixture: re-applying the upstream manifests
    to a namespace left enforcing restricted would wait for pods PodSecurity rejects); reinstalled afterwards."""
    _flyte_up_fresh(cluster)
    yield _Flyte()
    if os.environ.get("FLYTESEC_KEEP_HARDENED") != "1":
        _flyte_up_fresh(cluster)


def _namespaces(flyte):
    return [("flyte-core", flyte.core_ns), ("flyte-binary", flyte.binary_ns)]


def _get(cluster, *args):
    return json.loads(cluster.kubectl("get", "-o", "json", *args).stdout)


def _deployments(cluster, namespace):
    items = _get(cluster, "deployments", "-n", namespace)["items"]
    for item in items:
        item["kind"] = "Deployment"
        item["apiVersion"] = "apps/v1"
    return sorted(items, key=lambda d: d["metadata"]["name"])


def _admin_writes(audit, **filters):
    return audit.events(writes=True, user=ADMIN, **filters)


def _api_warnings(cluster, namespace, obj):
    """PodSecurity warnings of a server-side dry-run create of ``obj`` in ``namespace``."""
    body = {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
            "metadata": {"name": obj["metadata"]["name"], "labels": obj["metadata"].get("labels") or {}},
            "spec": copy.deepcopy(obj["spec"])}
    proc = cluster.kubectl("create", "--dry-run=server", "-n", namespace, "-o", "name", "-f", "-", input=json.dumps(body))
    found = []
    for line in proc.stderr.splitlines():
        if line.startswith("Warning: ") and "PodSecurity" in line:
            found.append(line[len("Warning: "):].strip())
    return found


def _role(cluster, namespace, tmp_path, check=False, diff=False, **extra):
    extra_vars = {"pod_security_namespace": namespace, "pod_security_version": VERSION,
                  "pod_security_backup_dir": str(tmp_path / namespace), "pod_security_wait_timeout": 120}
    extra_vars.update(extra)
    return run_playbook(ROLE_PLAYBOOK, cluster.kubeconfig, extra_vars=extra_vars, check=check, diff=diff)


def _ok(run):
    assert run.rc == 0 and run.failed() == 0, "playbook failed:\n%s\n%s" % (run.stdout[-6000:], run.stderr[-3000:])


def _ns_labels(cluster, namespace):
    return _get(cluster, "namespace", namespace)["metadata"].get("labels") or {}


# --------------------------------------------------------------------------------------------------------- tests

def test_evaluator_agrees_with_api_server(cluster, upstream, scratch_namespace):
    """The evaluator's warning text equals the API server's, before and after planning, for every Flyte workload."""
    compared = 0
    for level, version in (("restricted", "latest"), ("baseline", "latest"), ("restricted", VERSION)):
        cluster.kubectl("label", "--overwrite", "namespace", scratch_namespace,
                        "pod-security.kubernetes.io/warn=%s" % level, "pod-security.kubernetes.io/warn-version=%s" % version)
        for _layout, namespace in _namespaces(upstream):
            for deployment in _deployments(cluster, namespace):
                name = deployment["metadata"]["name"]
                before = ps.evaluate_object(deployment, level, version)
                expected = ps.format_warning(level, version, before)
                assert _api_warnings(cluster, scratch_namespace, deployment) == ([expected] if expected else []), name
                plan = sc.plan_workload(deployment, {"profile": level, "version": version})
                assert plan["error"] is None, plan["error"]
                assert plan["warning_before"] == expected
                after = sc.strategic_merge(deployment, plan["patch"])
                assert ps.evaluate_object(after, level, version) == []
                assert _api_warnings(cluster, scratch_namespace, after) == [], name
                compared += 2
    assert compared >= 2 * 3 * 8
    # Upstream fails restricted everywhere, and spc_t makes five flyte-core workloads fail baseline too.
    core = _deployments(cluster, upstream.core_ns)
    assert all(ps.evaluate_object(d, "restricted", VERSION) for d in core)
    assert sorted(d["metadata"]["name"] for d in core if ps.evaluate_object(d, "baseline", VERSION)) == [
        "datacatalog", "flyte-pod-webhook", "flyteadmin", "flyteconsole", "flytescheduler"]


@pytest.mark.parametrize("extra, option, text", [
    ({"sc_profile": "strict"}, "profile", "restricted, baseline"),
    ({"sc_exemptions": [{"container": "wait-for-db", "checks": ["runAsNonRoot"]}]}, "exemptions", "justification is required"),
    ({"sc_namespace": "no-such-namespace"}, "namespace", "not found"),
    ({"sc_run_as_user": 0}, "run_as_user", "non-zero"),
    ({"sc_exemptions": [{"container": "flyte", "justification": "x", "checks": ["hostNamespaces"]}]}, "exemptions", "pod-level"),
    ({"sc_workloads": ["Deployment/nope"]}, "workloads", "not found"),
], ids=["unknown-profile", "exemption-without-justification", "missing-namespace", "run-as-user-0",
        "pod-level-exemption", "missing-workload"])
def test_bad_input_fails_naming_the_option_without_writes(cluster, upstream, audit, extra, option, text):
    for _layout, namespace in _namespaces(upstream):
        extra_vars = {"sc_namespace": namespace}
        extra_vars.update(extra)
        run = run_playbook(MODULE_PLAYBOOK, cluster.kubeconfig, extra_vars=extra_vars)
        assert run.rc != 0
        result = run.result("Harden the securityContexts")
        assert result.get("failed"), result
        assert option in result["msg"] and text in result["msg"], result["msg"]
        if "option" in result:
            assert result["option"] == option
    writes = _admin_writes(audit)
    assert writes == [], summary(writes)


def _plain_deployment(name, **pod):
    spec = {"containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]}]}
    spec.update(pod)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name, "part-of": "flytesec-test"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def test_workload_still_violating_fails_before_any_write(cluster, upstream, scratch_namespace, audit):
    """Label selector targets; one workload keeps a pod-level violation the module does not rewrite: no write at all."""
    for body in (_plain_deployment("good"), _plain_deployment("bad", hostNetwork=True)):
        cluster.kubectl("apply", "-n", scratch_namespace, "-f", "-", input=json.dumps(body))
    audit.reset()
    run = run_playbook(MODULE_PLAYBOOK, cluster.kubeconfig, extra_vars={
        "sc_namespace": scratch_namespace, "sc_label_selector": "part-of=flytesec-test", "sc_wait": False})
    assert run.rc != 0
    result = run.result("Harden the securityContexts")
    assert "Deployment/bad would still violate" in result["msg"] and "hostNetwork=true" in result["msg"], result["msg"]
    assert [w["workload"] for w in result["workloads"]] == ["Deployment/bad", "Deployment/good"]
    assert not result["compliant"]
    writes = _admin_writes(audit)
    assert writes == [], summary(writes)

    audit.reset()
    extra_vars = {"sc_namespace": scratch_namespace, "sc_label_selector": "app=good"}
    first = run_playbook(MODULE_PLAYBOOK, cluster.kubeconfig, extra_vars=extra_vars)
    _ok(first)
    assert first.result("Harden the securityContexts")["changed_workloads"] == ["Deployment/good"]
    assert ps.evaluate_object(_deployments(cluster, scratch_namespace)[1], "restricted") == []
    audit.reset()
    second = run_playbook(MODULE_PLAYBOOK, cluster.kubeconfig, extra_vars=extra_vars)
    _ok(second)
    assert second.changed() == 0
    writes = _admin_writes(audit)
    assert writes == [], summary(writes)


def test_check_mode_real_run_and_rerun(cluster, upstream, audit, tmp_path):
    """Check mode writes nothing but dry runs and reports what the real run then does; a rerun writes nothing."""
    for layout, namespace in _namespaces(upstream):
        before = _deployments(cluster, namespace)
        audit.reset()
        check = _role(cluster, namespace, tmp_path, check=True, diff=True)
        _ok(check)
        predicted = check.result(MODULE_TASK)
        assert predicted["layout"] == layout
        assert predicted["changed_workloads"] == ["Deployment/%s" % d["metadata"]["name"] for d in before]
        assert all(w["violations_before"] and not w["violations_after"] for w in predicted["workloads"])
        real_writes = _admin_writes(audit, dry_run=False)
        assert real_writes == [], summary(real_writes)
        dry = _admin_writes(audit, dry_run=True)
        assert set(e["objectRef"]["resource"] for e in dry) == {"deployments", "namespaces"}, summary(dry)
        assert [(d["metadata"]["generation"], d["spec"]["template"]) for d in _deployments(cluster, namespace)] == [
            (d["metadata"]["generation"], d["spec"]["template"]) for d in before]
        assert "pod-security.kubernetes.io/enforce" not in _ns_labels(cluster, namespace)
        assert not (tmp_path / namespace).exists(), "check mode writes no backup"

        real = _role(cluster, namespace, tmp_path)
        _ok(real)
        done = real.result(MODULE_TASK)
        assert done["changed_workloads"] == predicted["changed_workloads"]
        assert done["restart"] == predicted["restart"] == predicted["changed_workloads"]
        assert [w["patch"] for w in done["workloads"]] == [w["patch"] for w in predicted["workloads"]]
        assert all(w.get("rollout") == "complete" for w in done["workloads"])
        assert len(done["backups"]) == len(before)
        labels = _ns_labels(cluster, namespace)
        for mode in ("enforce", "warn", "audit"):
            assert labels["pod-security.kubernetes.io/%s" % mode] == "restricted"
            assert labels["pod-security.kubernetes.io/%s-version" % mode] == VERSION
        for deployment in _deployments(cluster, namespace):
            assert ps.evaluate_object(deployment, "restricted", VERSION) == [], deployment["metadata"]["name"]

        audit.reset()
        again = _role(cluster, namespace, tmp_path)
        _ok(again)
        assert again.changed() == 0, [name for name, res in again.tasks() if res.get("changed")]
        assert again.result(MODULE_TASK)["changed_workloads"] == []
        writes = _admin_writes(audit)
        assert writes == [], summary(writes)


def test_rollout_restart_after_the_role_is_admitted_and_ready(cluster, upstream):
    """The namespaces enforce restricted; restarting every Flyte Deployment creates admitted, Ready pods."""
    for _layout, namespace in _namespaces(upstream):
        labels = _ns_labels(cluster, namespace)
        assert labels.get("pod-security.kubernetes.io/enforce") == "restricted", "run after test_check_mode_real_run_and_rerun"
        names = [d["metadata"]["name"] for d in _deployments(cluster, namespace)]
        cluster.kubectl("rollout", "restart", "deployment", "-n", namespace, *names)
        for name in names:
            cluster.kubectl("rollout", "status", "deployment/%s" % name, "-n", namespace, "--timeout=180s", timeout=240)
        for deployment in _deployments(cluster, namespace):
            status = deployment["status"]
            want = deployment["spec"].get("replicas", 1)
            assert status.get("updatedReplicas") == want and status.get("readyReplicas") == want, deployment["metadata"]["name"]
            assert not [c for c in status.get("conditions") or [] if c["type"] == "ReplicaFailure" and c["status"] == "True"]
        pods = [p for p in _get(cluster, "pods", "-n", namespace)["items"] if not p["metadata"].get("deletionTimestamp")]
        assert pods
        for pod in pods:
            ready = [c for c in pod["status"].get("conditions") or [] if c["type"] == "Ready"]
            assert ready and ready[0]["status"] == "True", pod["metadata"]["name"]
            assert ps.evaluate(pod["spec"], pod["metadata"], "restricted", VERSION) == [], pod["metadata"]["name"]
        failed = [e for e in _get(cluster, "events", "-n", namespace)["items"] if e.get("reason") == "FailedCreate"]
        assert failed == [], [e.get("message") for e in failed]


def test_project_namespaces_are_labelled_too(cluster, upstream, scratch_namespace, audit, tmp_path):
    """Project namespaces by selector: warn, audit and enforce with the pinned version; a rerun writes nothing."""
    extra = {"pod_security_project_namespace_selector": "flytesec/test=1", "pod_security_project_namespaces": [scratch_namespace]}
    _ok(_role(cluster, upstream.core_ns, tmp_path, **extra))
    labels = _ns_labels(cluster, scratch_namespace)
    for mode in ("enforce", "warn", "audit"):
        assert labels["pod-security.kubernetes.io/%s" % mode] == "restricted"
        assert labels["pod-security.kubernetes.io/%s-version" % mode] == VERSION
    audit.reset()
    again = _role(cluster, upstream.core_ns, tmp_path, **extra)
    _ok(again)
    assert again.changed() == 0
    writes = _admin_writes(audit)
    assert writes == [], summary(writes)


def test_failed_rollout_restores_the_pod_template(cluster, upstream, audit, tmp_path):
    """A change the enforcing namespace rejects: the module waits, restores the template and says why."""
    namespace = upstream.binary_ns
    assert _ns_labels(cluster, namespace).get("pod-security.kubernetes.io/enforce") == "restricted"
    before = _deployments(cluster, namespace)
    extra_vars = {"sc_namespace": namespace, "sc_wait_timeout": 60, "sc_backup_dir": str(tmp_path / "backups"),
                  "sc_version": VERSION,
                  "sc_exemptions": [{"container": "wait-for-db", "justification": "test: pg_isready as root",
                                     "checks": ["runAsNonRoot", "runAsUser"], "run_as_user": 0}]}

    # Check mode: a server-side dry run, and the API server's PodSecurity warning comes back.
    audit.reset()
    check = run_playbook(MODULE_PLAYBOOK, cluster.kubeconfig, extra_vars=extra_vars, check=True)
    _ok(check)
    predicted = check.result("Harden the securityContexts")
    workload = predicted["workloads"][0]
    assert workload["exempted_violations"] and workload["exempted_violations"][0]["justification"] == "test: pg_isready as root"
    assert workload["warning_after"] and workload["warning_after"].startswith('would violate PodSecurity "restricted:%s"' % VERSION)
    assert workload["api_warnings"] == [workload["warning_after"]]
    writes = _admin_writes(audit, dry_run=False)
    assert writes == [], summary(writes)
    assert not (tmp_path / "backups").exists()

    run = run_playbook(MODULE_PLAYBOOK, cluster.kubeconfig, extra_vars=extra_vars)
    assert run.rc != 0
    result = run.result("Harden the securityContexts")
    assert "rollout failed" in result["msg"] and "FailedCreate" in result["msg"] and "PodSecurity" in result["msg"], result["msg"]
    assert result["rolled_back"] == ["Deployment/%s" % d["metadata"]["name"] for d in before]
    assert result["exemptions"][0]["justification"] == "test: pg_isready as root"
    after = _deployments(cluster, namespace)
    assert [d["spec"]["template"] for d in after] == [d["spec"]["template"] for d in before]
    for name in [d["metadata"]["name"] for d in after]:
        cluster.kubectl("rollout", "status", "deployment/%s" % name, "-n", namespace, "--timeout=180s", timeout=240)
