# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_cors + flyte_rollout on the real local cluster, both upstream layouts (issue 5).

Each test installs upstream Flyte v1.16.8 into a namespace of its own, runs the two roles the way
harden-flyte.yml composes them (tests/integration/playbooks/cors.yml), and checks the cluster:
the parsed admin config, the console's ADMIN_API_URL, how many ReplicaSets each Deployment has,
and the API audit log for the writes a run made.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import install_flyte, rolled_out, wait_for
from k8s_audit import summary
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration

ADMIN = "flytesec-admin"
PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "cors.yml"
ADMIN_URL = "https://flyte-api.example.com"
CONSOLE = "https://flyte.example.com"

LAYOUTS = {
    # layout: (namespace, admin ConfigMap, data key, consumers of the admin config, console ConfigMap)
    "flyte-core": ("cors-core", "flyte-admin-base-config", "server.yaml", "flyteadmin", "flyte-console-config"),
    "flyte-binary": ("cors-binary", "flyte-flyte-binary-config", "100-inline-config.yaml", "flyte-flyte-binary", None),
}


def _vars(namespace, backup_dir, **extra):
    values = {
        "cors_namespace": namespace,
        "cors_admin_url": ADMIN_URL,
        # a duplicate and a trailing slash: normalised to one origin
        "cors_console_origins": [CONSOLE + "/", CONSOLE],
        "cors_allowed_headers": ["X-Requested-With"],
        "cors_backup_dir": str(backup_dir),
        "run_id": "test-%s" % uuid.uuid4().hex[:8],
        "rollout_wait_timeout": 120,
    }
    values.update(extra)
    return values


def _configmap(kube, namespace, name):
    return client.CoreV1Api(kube).read_namespaced_config_map(name, namespace)


def _replicasets(kube, namespace):
    """{deployment name: number of ReplicaSets it owns}."""
    counts = {}
    for rs in client.AppsV1Api(kube).list_namespaced_replica_set(namespace).items:
        for ref in rs.metadata.owner_references or []:
            if ref.kind == "Deployment":
                counts[ref.name] = counts.get(ref.name, 0) + 1
    return counts


def _without_cors(doc):
    """The document without the three keys flyte_cors manages (and the mappings left empty by that)."""
    doc = json.loads(json.dumps(doc))
    security = (doc.get("server") or {}).get("security")
    if isinstance(security, dict):
        for field in ("allowCors", "allowedOrigins", "allowedHeaders"):
            security.pop(field, None)
        if not security:
            doc["server"].pop("security")
        if not doc["server"]:
            doc.pop("server")
    return doc


def _template(cluster, namespace, name):
    """A Deployment's pod template as the API serves it (JSON field names)."""
    return json.loads(cluster.kubectl("-n", namespace, "get", "deployment", name, "-o", "json").stdout)["spec"]["template"]


def _writes(audit, since, namespace):
    """Real (not dry-run) writes the admin user made in ``namespace`` since ``since``."""
    return audit.events(since=since, writes=True, dry_run=False, user=ADMIN, namespace=namespace)


@pytest.fixture
def backup_dir(tmp_path):
    return tmp_path / "backups"


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_check_apply_rerun(cluster, kube, audit, backup_dir, layout):
    namespace, admin_cm, key, admin_workload, console_cm = LAYOUTS[layout]
    install_flyte(cluster, layout, namespace)
    before_cm = _configmap(kube, namespace, admin_cm)
    before_doc = yaml.safe_load(before_cm.data.get(key) or "") or {}
    before_rs = _replicasets(kube, namespace)
    extra = _vars(namespace, backup_dir)

    # Check mode on the fresh install: reports the change and what would restart, writes nothing.
    start = audit.mark()
    checked = run_playbook(PLAYBOOK, cluster.kubeconfig, extra, check=True, diff=True)
    assert checked.rc == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    cors_result = checked.result("Configure CORS in flyteadmin")
    assert cors_result["changed"] is True
    assert cors_result["origins"] == [CONSOLE]
    expected_restarts = sorted(["Deployment/%s" % admin_workload] + (["Deployment/flyteconsole"] if console_cm else []))
    assert cors_result["restart_required"] == expected_restarts
    assert checked.result("Restart, once, every workload")["restarted"] == expected_restarts
    audit.wait(since=start, writes=True, dry_run=True, user=ADMIN, namespace=namespace)
    assert _writes(audit, start, namespace) == []
    assert _configmap(kube, namespace, admin_cm).data == before_cm.data
    assert not backup_dir.exists()

    # Apply.
    applied = run_playbook(PLAYBOOK, cluster.kubeconfig, extra)
    assert applied.rc == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    after_cm = _configmap(kube, namespace, admin_cm)
    after_doc = yaml.safe_load(after_cm.data[key])
    security = after_doc["server"]["security"]
    assert security["allowCors"] is True
    assert security["allowedOrigins"] == [CONSOLE]
    assert security["allowedHeaders"] == ["Content-Type", "flyte-authorization", "X-Requested-With"]
    # Every other key is unchanged: the document without the three keys equals the one before.
    assert _without_cors(after_doc) == _without_cors(before_doc)
    for other in set(before_cm.data) - {key}:
        assert after_cm.data[other] == before_cm.data[other], other
    if console_cm:
        assert _configmap(kube, namespace, console_cm).data["ADMIN_API_URL"] == ADMIN_URL

    # Exactly the consumers rolled out, once each; nothing else restarted.
    wait_for(rolled_out(kube, namespace), timeout=120, message="rollouts in %s" % namespace)
    after_rs = _replicasets(kube, namespace)
    restarted = sorted("Deployment/%s" % name for name in after_rs if after_rs[name] != before_rs.get(name))
    assert restarted == expected_restarts
    for name in restarted:
        assert after_rs[name.split("/", 1)[1]] == before_rs[name.split("/", 1)[1]] + 1
    # The backup of the run holds the ConfigMap as it was, file mode 0600.
    records = [json.loads(p.read_text()) for p in backup_dir.glob("*/*.json")]
    cm_records = [r for r in records if r["kind"] == "ConfigMap" and r["name"] == admin_cm]
    assert cm_records and cm_records[0]["object"]["data"] == before_cm.data
    assert all(oct(os.stat(str(p)).st_mode & 0o777) == "0o600" for p in backup_dir.glob("*/*.json"))

    # Rerun: nothing changes, nothing restarts, no write request.
    start = audit.mark()
    again = run_playbook(PLAYBOOK, cluster.kubeconfig, dict(extra, run_id="test-rerun"))
    assert again.rc == 0, again.stdout[-3000:]
    assert again.changed() == 0, [(n, r.get("changed")) for n, r in again.tasks()]
    assert _writes(audit, start, namespace) == []
    assert audit.events(since=start, writes=True, user=ADMIN, namespace=namespace) == []
    assert _replicasets(kube, namespace) == after_rs


def test_formatting_difference_is_no_change(cluster, kube, audit, backup_dir):
    """Re-indent the admin document by hand: same values, so the module reports no change and writes nothing."""
    namespace, admin_cm, key, _workload, _console = LAYOUTS["flyte-core"]
    install_flyte(cluster, "flyte-core", namespace)
    extra = _vars(namespace, backup_dir)
    first = run_playbook(PLAYBOOK, cluster.kubeconfig, extra)
    assert first.rc == 0, first.stdout[-3000:]
    current = _configmap(kube, namespace, admin_cm)
    reformatted = yaml.safe_dump(yaml.safe_load(current.data[key]), indent=4, default_flow_style=False)
    assert reformatted != current.data[key]
    client.CoreV1Api(kube).patch_namespaced_config_map(admin_cm, namespace, {"data": {key: reformatted}})
    start = audit.mark()
    again = run_playbook(PLAYBOOK, cluster.kubeconfig, dict(extra, run_id="test-format"))
    assert again.rc == 0
    assert again.result("Configure CORS in flyteadmin")["changed"] is False
    assert _writes(audit, start, namespace) == []
    assert _configmap(kube, namespace, admin_cm).data[key] == reformatted


def test_failed_rollout_is_rolled_back(cluster, kube, backup_dir):
    """A rollout whose new pods the namespace's enforce=restricted rejects: config and template go back."""
    namespace = "cors-rollback"
    install_flyte(cluster, "flyte-core", namespace)
    core = client.CoreV1Api(kube)
    before_cm = core.read_namespaced_config_map("flyte-admin-base-config", namespace).data
    before_console = core.read_namespaced_config_map("flyte-console-config", namespace).data
    templates = dict((name, _template(cluster, namespace, name)) for name in ("flyteadmin", "flyteconsole"))
    # Upstream pods violate "restricted" (spc_t, no seccomp...): running pods stay, new ones are refused.
    core.patch_namespace(namespace, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})
    extra = _vars(namespace, backup_dir, rollout_wait_timeout=60)
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, extra)
    assert result.rc != 0
    failed = result.result("Restart, once, every workload")
    assert failed.get("failed") is True
    assert "violates PodSecurity" in failed["msg"] and "FailedCreate" in failed["msg"], failed["msg"]
    assert sorted(failed["rolled_back"]) == ["ConfigMap/flyte-admin-base-config", "ConfigMap/flyte-console-config",
                                             "Deployment/flyteadmin", "Deployment/flyteconsole"]
    # Byte for byte: the ConfigMaps equal the backup (the state before the run), and so do the pod templates.
    records = dict(((r["kind"], r["name"]), r) for r in (json.loads(p.read_text()) for p in backup_dir.glob("*/*.json")))
    assert core.read_namespaced_config_map("flyte-admin-base-config", namespace).data == before_cm
    assert records[("ConfigMap", "flyte-admin-base-config")]["object"]["data"] == before_cm
    assert core.read_namespaced_config_map("flyte-console-config", namespace).data == before_console
    for name, template in templates.items():
        assert _template(cluster, namespace, name) == template, name
        assert records[("Deployment", name)]["object"]["spec"]["template"] == template, name
    # And the old ReplicaSets take over again.
    wait_for(rolled_out(kube, namespace), timeout=120, message="rollback of %s" % namespace)


BAD_INPUTS = [
    ({"cors_console_origins": ["*"]}, "console_origins: '*' is refused"),
    ({"cors_console_origins": []}, "console_origins: an empty list is refused"),
    ({"cors_console_origins": ["https://flyte.example.com/console"]}, "no path"),
    ({"cors_console_origins": ["http://flyte.example.com"]}, "uses http"),
    ({"cors_console_origins": ["flyte.example.com"]}, "scheme://host[:port]"),
    ({"cors_admin_url": "ftp://flyte-api.example.com"}, "admin_url:"),
    ({"cors_namespace": "no-such-namespace"}, "namespace: no-such-namespace does not exist"),
    ({"cors_allowed_headers": ["bad header"]}, "allowed_headers:"),
]


@pytest.mark.parametrize("extra,message", BAD_INPUTS, ids=[m for _e, m in BAD_INPUTS])
def test_bad_input_fails_clearly_without_writing(cluster, kube, audit, backup_dir, extra, message):
    namespace = "cors-core"
    install_flyte(cluster, "flyte-core", namespace, fresh=False)
    values = _vars(namespace, backup_dir)
    values.update(extra)
    start = audit.mark()
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, values)
    assert result.rc != 0
    failed = result.result("Configure CORS in flyteadmin")
    assert failed.get("failed") is True
    assert message in failed["msg"], failed["msg"]
    writes = audit.events(since=start, writes=True, user=ADMIN)
    assert writes == [], summary(writes)
