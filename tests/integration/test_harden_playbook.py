# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/harden-flyte.yml end to end on the real local cluster: rerun, summary, lock, restore."""
from __future__ import absolute_import, division, print_function

import datetime
import json
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import install_flyte, rolled_out, wait_for
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
RESTORE = ROOT / "playbooks" / "restore.yml"
ADMIN = "flytesec-admin"
NAMESPACE = "harden-core"


def _vars(tmp_path, **extra):
    values = {
        "flytesec_namespace": NAMESPACE,
        "flytesec_backup_dir": str(tmp_path / "backups"),
        "flytesec_report_dir": str(tmp_path / "reports"),
        # the CORS, lock and restore behaviour on its own; the full default run is tested below
        "flytesec_pod_security": False,
        "cors_admin_url": "https://flyte-api.example.com",
        "cors_console_origins": ["https://flyte.example.com"],
    }
    values.update(extra)
    return values


def _state(cluster):
    """What the run may change: ConfigMap data and Deployment pod templates, as the API serves them."""
    out = json.loads(cluster.kubectl("-n", NAMESPACE, "get", "configmaps,deployments", "-o", "json").stdout)
    state = {}
    for item in out["items"]:
        key = "%s/%s" % (item["kind"], item["metadata"]["name"])
        state[key] = item.get("data") if item["kind"] == "ConfigMap" else item["spec"]["template"]
    return state


def _lease(kube, holder, renewed):
    coordination = client.CoordinationV1Api(kube)
    body = client.V1Lease(metadata=client.V1ObjectMeta(name="flytesec-hardening"),
                          spec=client.V1LeaseSpec(holder_identity=holder, lease_duration_seconds=60, renew_time=renewed,
                                                  acquire_time=renewed))
    try:
        coordination.delete_namespaced_lease("flytesec-hardening", NAMESPACE)
    except client.exceptions.ApiException as exc:
        if exc.status != 404:
            raise
    coordination.create_namespaced_lease(NAMESPACE, body)


def test_run_rerun_summary_restore(cluster, kube, audit, tmp_path):
    install_flyte(cluster, "flyte-core", NAMESPACE)
    before = _state(cluster)
    first = run_playbook(HARDEN, cluster.kubeconfig, _vars(tmp_path))
    assert first.rc == 0, first.stdout[-4000:]
    run_id = first.result("Fix one run id")["ansible_facts"]["flytesec_run_id"]
    wait_for(rolled_out(kube, NAMESPACE), timeout=120, message="rollouts")
    after = _state(cluster)
    assert after != before

    # The summary files say what the cluster shows.
    summary = json.loads((tmp_path / "reports" / ("%s.json" % run_id)).read_text())
    assert summary["layout"] == "flyte-core" and summary["run_id"] == run_id
    assert summary["areas"]["rollout"]["restarted"] == ["Deployment/flyteadmin", "Deployment/flyteconsole"]
    assert sorted(c["object"] for c in summary["areas"]["cors"]["changed"]) == [
        "ConfigMap/flyte-admin-base-config", "ConfigMap/flyte-console-config"]
    assert "helm" in summary["owners"]
    markdown = (tmp_path / "reports" / ("%s.md" % run_id)).read_text()
    assert "restarted `Deployment/flyteadmin`" in markdown

    # Second run: changed=0 for every task. Its plan changes nothing, so it takes no lock, skips the real pass and
    # writes nothing at all (not even the lock's Lease); its summary still says what is there.
    start = audit.mark()
    second = run_playbook(HARDEN, cluster.kubeconfig, _vars(tmp_path))
    assert second.rc == 0, second.stdout[-4000:]
    assert second.changed() == 0, [name for name, res in second.tasks() if res.get("changed")]
    assert audit.events(since=start, writes=True, user=ADMIN) == []
    assert second.result("Take the hardening lock").get("skipped") is True
    assert second.result("Decide whether the plan changes anything")["ansible_facts"]["flytesec_write_pass"] is False
    rerun_id = second.result("Fix one run id")["ansible_facts"]["flytesec_run_id"]
    rerun_summary = json.loads((tmp_path / "reports" / ("%s.json" % rerun_id)).read_text())
    assert rerun_summary["status"] == "ok" and rerun_summary["areas"]["cors"]["changed"] == []
    fleet = [f for f in second.result("Summarise the run")["files"] if f.endswith("%s-clusters.json" % rerun_id)]
    assert len(fleet) == 1 and json.loads(Path(fleet[0]).read_text()) == [rerun_summary]

    # Restore the first run: every object back to its state before it, byte for byte.
    restored = run_playbook(RESTORE, cluster.kubeconfig, {"flytesec_run_id": run_id, "flytesec_namespace": NAMESPACE,
                                                          "flytesec_backup_dir": str(tmp_path / "backups")})
    assert restored.rc == 0, restored.stdout[-4000:]
    assert sorted(restored.result("Restore every object")["restored"]) == [
        "ConfigMap/%s/flyte-admin-base-config" % NAMESPACE, "ConfigMap/%s/flyte-console-config" % NAMESPACE,
        "Deployment/%s/flyteadmin" % NAMESPACE, "Deployment/%s/flyteconsole" % NAMESPACE]
    assert _state(cluster) == before
    wait_for(rolled_out(kube, NAMESPACE), timeout=120, message="rollouts after restore")


def test_check_mode_writes_nothing(cluster, audit, tmp_path):
    install_flyte(cluster, "flyte-core", NAMESPACE)
    before = _state(cluster)
    start = audit.mark()
    checked = run_playbook(HARDEN, cluster.kubeconfig, _vars(tmp_path), check=True, diff=True)
    assert checked.rc == 0, checked.stdout[-4000:]
    assert checked.result("Configure CORS in flyteadmin")["changed"] is True
    assert checked.result("Restart, once, every workload")["restarted"] == ["Deployment/flyteadmin", "Deployment/flyteconsole"]
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []
    assert _state(cluster) == before


def test_lock_held_by_another_run(cluster, kube, audit, tmp_path):
    install_flyte(cluster, "flyte-core", NAMESPACE)
    now = datetime.datetime.now(datetime.timezone.utc)
    _lease(kube, "awx-job-42", now)
    start = audit.mark()
    held = run_playbook(HARDEN, cluster.kubeconfig, _vars(tmp_path, flytesec_lock_timeout=3))
    assert held.rc != 0
    msg = held.result("Take the hardening lock")["msg"]
    assert "held by awx-job-42" in msg and "wait_timeout" in msg
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN, resource="configmaps") == []
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN, resource="deployments") == []

    # A crashed run's Lease (renewed long ago) expires: the next run takes it over.
    _lease(kube, "crashed-run", now - datetime.timedelta(hours=1))
    taken = run_playbook(HARDEN, cluster.kubeconfig, _vars(tmp_path))
    assert taken.rc == 0, taken.stdout[-4000:]
    assert taken.result("Take the hardening lock")["previous_holder"] == "crashed-run"
    lease = client.CoordinationV1Api(kube).read_namespaced_lease("flytesec-hardening", NAMESPACE)
    assert lease.spec.holder_identity is None


def test_two_runs_at_once_do_not_interleave(cluster, kube, tmp_path):
    install_flyte(cluster, "flyte-core", NAMESPACE)
    apps = client.AppsV1Api(kube)
    before_rs = len(apps.list_namespaced_replica_set(NAMESPACE).items)
    import playbook as pb
    procs = []
    for index in range(2):
        extra = _vars(tmp_path / str(index), flytesec_run_id="concurrent-%d-%s" % (index, uuid.uuid4().hex[:4]))
        vars_file = tmp_path / ("vars-%d.json" % index)
        vars_file.write_text(json.dumps(extra))
        env = pb.environment(cluster.kubeconfig)
        procs.append(subprocess.Popen([str(pb.BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(HARDEN),
                                       "-e", "@%s" % vars_file], env=env, cwd=str(ROOT),
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    data = [json.loads(o[o.index("{"):]) for o in outputs]

    def changed_after_the_lock(run):
        tasks = [t for play in run["plays"] for t in play["tasks"]]
        lock = [i for i, t in enumerate(tasks) if "Take the hardening lock" in t["task"]["name"]][0]
        return len([t for t in tasks[lock:] if t["hosts"].get("localhost", {}).get("changed")])
    changed = sorted(changed_after_the_lock(d) for d in data)
    # One run made the change and restarted; the other waited for the lock and then found nothing to do (both plan
    # passes, before the lock, saw the changes still to make).
    assert changed[0] == 0 and changed[1] > 0, changed
    wait_for(rolled_out(kube, NAMESPACE), timeout=120, message="rollouts")
    # flyteadmin and flyteconsole each got exactly one new ReplicaSet.
    assert len(apps.list_namespaced_replica_set(NAMESPACE).items) == before_rs + 2


@pytest.mark.parametrize("layout,namespace", [("flyte-core", "harden-full-core"), ("flyte-binary", "harden-full-binary")])
def test_full_default_run(cluster, kube, audit, tmp_path, layout, namespace):
    """Everything the playbook does by default, on a fresh upstream install: check mode, run, rerun."""
    install_flyte(cluster, layout, namespace)
    extra = _vars(tmp_path, flytesec_namespace=namespace)
    extra.pop("flytesec_pod_security")
    start = audit.mark()
    checked = run_playbook(HARDEN, cluster.kubeconfig, extra, check=True, diff=True)
    assert checked.rc == 0, checked.stdout[-4000:]
    assert checked.changed() > 0
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []

    apps = client.AppsV1Api(kube)

    def replicasets(name):
        return len([rs for rs in apps.list_namespaced_replica_set(namespace).items
                    if any(ref.name == name for ref in rs.metadata.owner_references or [])])
    admin = "flyteadmin" if layout == "flyte-core" else "flyte-flyte-binary"
    admin_rs = replicasets(admin)

    first = run_playbook(HARDEN, cluster.kubeconfig, extra)
    assert first.rc == 0, first.stdout[-6000:]
    wait_for(rolled_out(kube, namespace), timeout=180, message="rollouts in %s" % namespace)
    # CORS changed its configuration and Pod Security its securityContext: one rollout, not two.
    assert replicasets(admin) == admin_rs + 1
    assert first.result("Restart, once, every workload")["restarted"] == []
    labels = client.CoreV1Api(kube).read_namespace(namespace).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.34"
    summary = first.result("Summarise the run")["ansible_facts"]["flytesec_summary"]
    assert summary["areas"]["pod_security"]["compliant"] is True
    assert summary["areas"]["pod_security"]["changed"]
    wait_for(rolled_out(kube, namespace), timeout=180, message="rollouts in %s" % namespace)

    start = audit.mark()
    second = run_playbook(HARDEN, cluster.kubeconfig, extra)
    assert second.rc == 0, second.stdout[-4000:]
    assert second.changed() == 0, [name for name, res in second.tasks() if res.get("changed")]
    # nothing to change: no lock, no real pass, not one write
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []
    assert second.result("Take the hardening lock").get("skipped") is True


def test_tags_select_one_area(cluster, kube, audit, tmp_path):
    """--tags cors changes the CORS config only: no securityContext, no Pod Security label."""
    namespace = "harden-tags"
    install_flyte(cluster, "flyte-core", namespace)
    extra = _vars(tmp_path, flytesec_namespace=namespace)
    extra.pop("flytesec_pod_security")
    result = run_playbook(HARDEN, cluster.kubeconfig, extra, tags="cors")
    assert result.rc == 0, result.stdout[-4000:]
    names = [name for name, _res in result.tasks()]
    assert any("Configure CORS in flyteadmin" in n for n in names)
    assert not any("securityContexts of the Flyte workloads" in n for n in names)
    labels = client.CoreV1Api(kube).read_namespace(namespace).metadata.labels or {}
    assert "pod-security.kubernetes.io/enforce" not in labels
    start = audit.mark()
    rest = run_playbook(HARDEN, cluster.kubeconfig, extra, tags="pod_security")
    assert rest.rc == 0, rest.stdout[-4000:]
    assert client.CoreV1Api(kube).read_namespace(namespace).metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert not any(e["objectRef"]["resource"] == "configmaps" for e in audit.events(since=start, writes=True, user=ADMIN))
