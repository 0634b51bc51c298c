# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 19: every Flyte project namespace and task pod hardened, today's and tomorrow's (role projects).

On upstream flyte-core: harden-flyte.yml with ``flytesec_projects`` hardens the cluster resource templates,
flytepropeller's task pod defaults and the project namespaces that exist. Enforce is held back while a running
pod would be rejected, and set once it is gone. Then the real ``flyteadmin clusterresource sync`` (the chart's init
container, run by the harness from the hardened Deployment) creates the seeded projects' namespaces from the
hardened templates, and a project created through flyteadmin's API is hardened on the next sync. A pod built from
flytepropeller's hardened defaults is admitted where restricted is enforced; an upstream-default task pod is
refused. The NetworkPolicies the API server stored are read back and put through the independent evaluator.
"""
from __future__ import absolute_import, division, print_function

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from conftest import install_flyte, wait_for
from k8s_audit import summary
from flyte_live import ADMIN_GRPC, ADMIN_OVERRIDES, build_flyte, flytekit_python, free_port, livepod, request, secret_value, wait_http
from netpol_eval import PolicyEvaluator
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
NS = "projects-core"
ADMIN = "flytesec-admin"
TASK = "Harden the cluster resource templates"
# the chart's seeded projects (flyteadmin's seed-projects init container) x its three domains
SEEDED = ["%s-%s" % (p, d) for p in ("flytesnacks", "flytetester", "flyteexamples") for d in ("development", "staging", "production")]
NEW_PROJECT = "flytesecnew"
PSA = "pod-security.kubernetes.io/"
# A user's workflow module, registered (not fast: no code upload) and launched through flyteadmin with flytekit.
WORKFLOW_MODULE = """
from flytekit import task, workflow


@task
def hello() -> int:
    return 1


@workflow
def wf() -> int:
    return hello()
"""
LAUNCH = r"""
import json, sys
sys.path.insert(0, sys.argv[2])
import flytesec_wf
from flytekit.configuration import Config, ImageConfig, PlatformConfig, SerializationSettings
from flytekit.remote import FlyteRemote
remote = FlyteRemote(Config(platform=PlatformConfig(endpoint=sys.argv[1], insecure=True)),
                     default_project="flytesnacks", default_domain="development")
settings = SerializationSettings(image_config=ImageConfig.auto(img_name="task-image:1"), project="flytesnacks",
                                 domain="development", version="v1")
registered = remote.register_workflow(flytesec_wf.wf, serialization_settings=settings, version="v1")
execution = remote.execute(registered, inputs={}, wait=False)
print(json.dumps({"execution": execution.id.name}))
"""


def _delete_namespaces(kube, names):
    core = client.CoreV1Api(kube)
    custom = client.CustomObjectsApi(kube)
    existing = set(n.metadata.name for n in core.list_namespace().items)
    for name in sorted(set(names) & existing):
        # flytepropeller's finalizer stays on a workflow once the harness has stopped it: take it off, or the
        # namespace never finishes terminating
        try:
            workflows = custom.list_namespaced_custom_object("flyte.lyft.com", "v1alpha1", name, "flyteworkflows")["items"]
        except ApiException:
            workflows = []
        for workflow in workflows:
            custom.patch_namespaced_custom_object("flyte.lyft.com", "v1alpha1", name, "flyteworkflows",
                                                  workflow["metadata"]["name"], {"metadata": {"finalizers": None}})
    for name in names:
        try:
            core.delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def gone():
        existing = set(n.metadata.name for n in core.list_namespace().items)
        return not existing & set(names)
    wait_for(gone, timeout=120, message="project namespaces of an earlier run deleted")


def _root_pod(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "task", "image": "task-image:1", "securityContext": {"runAsUser": 0}}]}}


def _propeller_pod(kube, name):
    """A task pod as flytepropeller builds it from its k8s plugin configuration: the pod's securityContext is
    default-pod-security-context, the primary container's is default-security-context (flytek8s pod_helper)."""
    data = client.CoreV1Api(kube).read_namespaced_config_map("flyte-propeller-config", NS).data
    k8s = yaml.safe_load(data["k8s.yaml"])["plugins"]["k8s"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"securityContext": k8s["default-pod-security-context"], "restartPolicy": "Never",
                     "containers": [{"name": "primary", "image": "task-image:1", "args": ["pyflyte-execute"],
                                     "securityContext": k8s["default-security-context"]}]}}


def _labels(kube, name):
    return client.CoreV1Api(kube).read_namespace(name).metadata.labels or {}


def _assert_hardened(kube, name, enforce="restricted"):
    core = client.CoreV1Api(kube)
    labels = _labels(kube, name)
    assert labels.get(PSA + "warn") == "restricted" and labels.get(PSA + "audit") == "restricted", (name, labels)
    assert labels.get(PSA + "enforce") == enforce, (name, labels)
    assert core.read_namespaced_service_account("default", name).automount_service_account_token is False, name
    policies = [p.metadata.name for p in client.NetworkingV1Api(kube).list_namespaced_network_policy(name).items]
    assert "flytesec-default-deny" in policies and "flytesec-allow-flyte" in policies, (name, policies)
    assert [lr.metadata.name for lr in core.list_namespaced_limit_range(name).items] == ["flytesec-limits"], name
    assert [t.metadata.name for t in core.list_namespaced_pod_template(name).items] == ["flytesec-restricted"], name


@pytest.fixture(scope="module")
def installed(cluster, kube):
    _delete_namespaces(kube, SEEDED + ["%s-%s" % (NEW_PROJECT, d) for d in ("development", "staging", "production")])
    install_flyte(cluster, "flyte-core", NS)
    core = client.CoreV1Api(kube)
    # two project namespaces exist before the run: one empty, one running a task pod as root
    for name in ("flytesnacks-staging", "flytesnacks-production"):
        core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_pod("flytesnacks-production", _root_pod("legacy-task"))
    wait_for(lambda: core.read_namespaced_pod("legacy-task", "flytesnacks-production").status.phase == "Running",
             timeout=60, message="the legacy task pod running")
    yield cluster
    _delete_namespaces(kube, SEEDED + ["%s-%s" % (NEW_PROJECT, d) for d in ("development", "staging", "production")])


def test_existing_projects_then_enforce_once_nothing_would_be_rejected(installed, kube, audit, tmp_path):
    values = {"flytesec_namespace": NS, "flytesec_state_root": str(tmp_path / "state"), "flytesec_projects": True,
              "projects_network": {"object_store_cidrs": ["10.20.0.0/16"]}}
    start = audit.mark()
    checked = run_playbook(HARDEN, installed.kubeconfig, values, check=True)
    assert checked.rc == 0, checked.stdout[-4000:]
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []

    run = run_playbook(HARDEN, installed.kubeconfig, values)
    assert run.rc == 0, run.stdout[-4000:]
    result = run.result(TASK)
    # the root pod blocks enforce in its namespace, and in the template (the sync would carry it there too)
    assert list(result["enforce_blocked"]) == ["flytesnacks-production"], result["enforce_blocked"]
    assert result["template_enforce"] is None
    assert "Deployment/syncresources" in result["restart_required"]
    _assert_hardened(kube, "flytesnacks-staging")
    production = _labels(kube, "flytesnacks-production")
    assert PSA + "enforce" not in production and production[PSA + "warn"] == "restricted"
    templates = client.CoreV1Api(kube).read_namespaced_config_map("clusterresource-template", NS).data
    assert "enforce" not in templates["aa_namespace.yaml"] and "{{ namespace }}" in templates["aa_namespace.yaml"]

    # the pod goes; the next scheduled run enforces everywhere, in the template too; a third run changes nothing
    client.CoreV1Api(kube).delete_namespaced_pod("legacy-task", "flytesnacks-production", grace_period_seconds=0)
    wait_for(lambda: not client.CoreV1Api(kube).list_namespaced_pod("flytesnacks-production").items, timeout=60,
             message="the legacy task pod gone")
    again = run_playbook(HARDEN, installed.kubeconfig, values)
    assert again.rc == 0, again.stdout[-4000:]
    result = again.result(TASK)
    assert result["enforce_blocked"] == {} and result["template_enforce"] == "restricted"
    _assert_hardened(kube, "flytesnacks-production")
    start = audit.mark()
    third = run_playbook(HARDEN, installed.kubeconfig, values)
    assert third.rc == 0 and third.changed() == 0, third.stdout[-4000:]
    writes = audit.events(since=start, writes=True, dry_run=False, user=ADMIN)
    assert writes == [], summary(writes)   # nothing to change: not even the run's lock


def test_real_sync_creates_hardened_projects_and_task_pods_pass(installed, kube, tmp_path):
    bin_dir = build_flyte()
    core = client.CoreV1Api(kube)
    pg = livepod.Postgres().start()
    admin = propeller = None
    store = Path("/nonexistent")
    try:
        db = yaml.safe_load(core.read_namespaced_config_map("flyte-admin-base-config", NS).data["db.yaml"])["database"]
        pg.user(db["username"], secret_value(kube, NS, "db-pass", "pass.txt").strip(), db["dbname"])
        # the bucket stand-in lives outside /tmp: the hardened pod mounts an emptyDir there
        store = Path(tempfile.mkdtemp(prefix="flytesec-store-", dir="/var/tmp"))
        (store / "flyte-live").mkdir()
        admin = livepod.LivePod(kube, NS, "flyteadmin", tmp_path / "admin", bin_dir, overrides=ADMIN_OVERRIDES(pg, store))
        for init in ("run-migrations", "seed-projects", "sync-cluster-resources"):
            proc = admin.run(init)
            output = proc.stdout + proc.stderr
            assert proc.returncode == 0 and "caught panic" not in output, "%s:\n%s" % (init, output[-4000:])
        # every seeded project's namespaces, created by flyteadmin from the hardened templates
        for name in SEEDED:
            _assert_hardened(kube, name)
        assert core.read_namespaced_resource_quota("project-quota", "flytesnacks-development")  # upstream's still works

        # a project created through flyteadmin's API is hardened on the next sync
        serve = admin.start("flyteadmin")
        assert wait_http("/healthcheck", serve), admin.log(serve)[-4000:]
        body = json.dumps({"project": {"id": NEW_PROJECT, "name": NEW_PROJECT, "description": "issue 19"}})
        status, _h, text = request("POST", "/api/v1/projects", body=body,
                                   headers={"Content-Type": "application/json", "Accept": "application/json"})
        assert status == 200, text
        proc = admin.run("sync-cluster-resources")
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        _assert_hardened(kube, "%s-development" % NEW_PROJECT)

        # a workflow registered and launched with flytekit; the real flytepropeller creates its task pod
        propeller = livepod.LivePod(kube, NS, "flytepropeller", tmp_path / "propeller", bin_dir, overrides={
            "admin.endpoint": "dns:///127.0.0.1:%d" % ADMIN_GRPC, "propeller.prof-port": str(free_port()),
            "propeller.leader-election.lock-config-map.namespace": NS,
            "storage.type": "stow", "storage.container": "flyte-live",
            "storage.stow": {"kind": "local", "config": {"path": str(store)}}})
        running = propeller.start("flytepropeller")
        (tmp_path / "wf").mkdir()
        (tmp_path / "wf" / "flytesec_wf.py").write_text(WORKFLOW_MODULE)
        launched = subprocess.run([flytekit_python(), "-c", LAUNCH, "127.0.0.1:%d" % ADMIN_GRPC, str(tmp_path / "wf")],
                                  capture_output=True, text=True, timeout=300, check=False,
                                  env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        assert launched.returncode == 0, (launched.stdout + launched.stderr)[-4000:]
        execution = json.loads(launched.stdout.strip().splitlines()[-1])["execution"]
        deadline = time.monotonic() + 120
        pods = []
        while time.monotonic() < deadline and not pods and running.poll() is None:
            pods = core.list_namespaced_pod("flytesnacks-development", label_selector="execution-id=%s" % execution).items
            time.sleep(1)
        assert pods, "flytepropeller made no task pod:\n%s" % propeller.log(running)[-4000:]
        task_pod = pods[0]
        assert task_pod.spec.security_context.run_as_non_root is True
        assert task_pod.spec.security_context.seccomp_profile.type == "RuntimeDefault"
        for container in task_pod.spec.containers:
            assert container.security_context.allow_privilege_escalation is False, container.name
            # the PodTemplate's and default-security-context's lists both land here (flytepropeller appends slices)
            assert set(container.security_context.capabilities.drop) == {"ALL"}, container.name
        assert task_pod.spec.automount_service_account_token is not True
    finally:
        if propeller is not None:
            propeller.stop()
        if admin is not None:
            admin.stop()
        pg.stop()
        shutil.rmtree(str(store), ignore_errors=True)

    # admission: the pod flytepropeller builds from its hardened defaults passes restricted; an upstream task pod fails
    created = core.create_namespaced_pod("flytesnacks-development", _propeller_pod(kube, "hardened-task"))
    assert created.metadata.name == "hardened-task"
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod("flytesnacks-development", {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "upstream-task"},
            "spec": {"containers": [{"name": "primary", "image": "task-image:1"}]}})
    assert refused.value.status == 403 and "violates PodSecurity" in refused.value.body

    # the stored policies allow a task exactly DNS, flyteadmin, datacatalog and the object store
    policies = json.loads(installed.kubectl("-n", "flytesnacks-development", "get", "networkpolicies", "-o", "json").stdout)["items"]
    pods = {"task": ("flytesnacks-development", {"app": "task"}, {"kubernetes.io/metadata.name": "flytesnacks-development"}),
            "other-task": ("flytetester-development", {"app": "task"}, {"kubernetes.io/metadata.name": "flytetester-development"}),
            "flyteadmin": (NS, {"app.kubernetes.io/name": "flyteadmin"}, {"kubernetes.io/metadata.name": NS}),
            "datacatalog": (NS, {"app.kubernetes.io/name": "datacatalog"}, {"kubernetes.io/metadata.name": NS}),
            "flyteconsole": (NS, {"app.kubernetes.io/name": "flyteconsole"}, {"kubernetes.io/metadata.name": NS}),
            "dns": ("kube-system", {"k8s-app": "kube-dns"}, {"kubernetes.io/metadata.name": "kube-system"})}
    ips = {"store": "10.20.3.4", "internet": "93.184.216.34", "metadata": "169.254.169.254"}
    evaluator = PolicyEvaluator(policies, pods, ips)
    allowed = set((dst, port) for dst in list(pods) + list(ips) for port in (53, 443, 8080, 8088, 8089)
                  if dst != "task" and evaluator.allowed("task", dst, port, "UDP" if port == 53 else "TCP"))
    assert allowed == {("flyteadmin", 8088), ("flyteadmin", 8089), ("datacatalog", 8089), ("dns", 53), ("store", 443)}
    assert not evaluator.allowed("other-task", "task", 8080) and not evaluator.allowed("flyteadmin", "task", 8080)
