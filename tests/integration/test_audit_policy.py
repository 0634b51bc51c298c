# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit_policy role's policy, loaded by a real kube-apiserver (issue 10).

The role writes the policy; a separate local control plane is started with it (hack/cluster/up.sh
--audit-policy). Then a RoleBinding change must be logged at RequestResponse with its bodies, a Secret
read and write at Metadata without them, and the Secret's value (plain or base64) nowhere in the log.
"""
from __future__ import absolute_import, division, print_function

import base64
import json
import os
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import Cluster, _bin_dir, _run_script
from playbook import run_playbook

__metaclass__ = type

pytestmark = pytest.mark.integration
PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "audit_policy.yml"
TASK = "Kube-apiserver audit policy for Flyte"


@pytest.fixture(scope="module")
def policy(cluster, tmp_path_factory):
    path = tmp_path_factory.mktemp("audit-policy") / "flyte-audit-policy.yaml"
    first = run_playbook(PLAYBOOK, cluster.kubeconfig, {"audit_policy_path": str(path)})
    assert first.rc == 0, first.stdout[-3000:]
    assert first.result(TASK)["changed"] is True
    flags = first.result("The kube-apiserver flags")["ansible_facts"]["audit_policy_flags"]
    assert "--audit-policy-file=%s" % path in flags and "--audit-log-format=json" in flags
    return path


@pytest.fixture(scope="module")
def policed(cluster, policy):
    """A control plane of its own (API port + 700) whose kube-apiserver runs with the generated policy."""
    name = "%s-auditpolicy" % cluster.name
    port = int(cluster.server.rsplit(":", 1)[1]) + 700
    kubeconfig = _run_script("up.sh", "--name", name, "--port", str(port), "--audit-policy", str(policy))
    run_dir = os.path.dirname(kubeconfig)
    yield Cluster(name, kubeconfig, run_dir, os.path.join(run_dir, "audit.log"), os.path.join(run_dir, "dev.kubeconfig"),
                  _bin_dir(), started=True)
    _run_script("down.sh", "--name", name)


def test_policy_is_valid_yaml_with_secrets_first(policy):
    doc = yaml.safe_load(policy.read_text())
    assert doc["kind"] == "Policy" and doc["omitStages"] == ["RequestReceived"]
    levels = [r["level"] for r in doc["rules"]]
    secret_rule = next(i for i, r in enumerate(doc["rules"]) if any("secrets" in g.get("resources", []) for g in r.get("resources", [])))
    assert doc["rules"][secret_rule]["level"] == "Metadata"
    assert all(level in ("None", "Metadata") for level in levels[:secret_rule + 1])
    assert doc["rules"][-1] == {"level": "Metadata"}


def test_rerun_and_check_mode(cluster, policy, tmp_path):
    again = run_playbook(PLAYBOOK, cluster.kubeconfig, {"audit_policy_path": str(policy)})
    assert again.rc == 0 and again.result(TASK)["changed"] is False
    fresh = tmp_path / "new" / "policy.yaml"
    checked = run_playbook(PLAYBOOK, cluster.kubeconfig, {"audit_policy_path": str(fresh)}, check=True)
    assert checked.rc == 0 and not fresh.exists()
    managed = run_playbook(PLAYBOOK, cluster.kubeconfig, {"audit_policy_path": str(policy), "audit_policy_managed_cluster": True})
    assert managed.rc == 0
    assert "cannot be set" in " ".join(managed.result("Managed control plane")["msg"])
    bad = run_playbook(PLAYBOOK, cluster.kubeconfig, {"audit_policy_path": str(policy), "audit_policy_catch_all_level": "RequestResponse"})
    assert bad.rc != 0 and "audit_policy_catch_all_level" in bad.stdout


def test_apiserver_logs_rbac_bodies_and_only_secret_metadata(policed):
    from kubernetes import client
    api = policed.api_client()
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    ns = "audit-%s" % uuid.uuid4().hex[:6]
    value = "s3cret-%s" % uuid.uuid4().hex
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_secret(ns, {"metadata": {"name": "flyte-secret-auth"}, "stringData": {"client_secret": value}})
    core.read_namespaced_secret("flyte-secret-auth", ns)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "flyte-admin-config"}, "data": {"k": "v"}})
    rbac.create_namespaced_role_binding(ns, {
        "metadata": {"name": "flytepropeller"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "flytepropeller", "namespace": ns}]})
    rbac.patch_namespaced_role_binding("flytepropeller", ns, {"subjects": [{"kind": "ServiceAccount", "name": "intruder", "namespace": ns}]})

    events = []
    with open(policed.audit_log) as log:
        text = log.read()
    for line in text.splitlines():
        event = json.loads(line)
        if (event.get("objectRef") or {}).get("namespace") == ns:
            events.append(event)

    def one(verb, resource):
        found = [e for e in events if e["verb"] == verb and e["objectRef"]["resource"] == resource
                 and e["stage"] == "ResponseComplete"]
        assert found, (verb, resource, [(e["verb"], e["objectRef"]["resource"]) for e in events])
        return found[-1]

    patched = one("patch", "rolebindings")
    assert patched["level"] == "RequestResponse"
    assert patched["requestObject"]["subjects"][0]["name"] == "intruder"
    assert patched["responseObject"]["subjects"][0]["name"] == "intruder"
    assert one("create", "rolebindings")["level"] == "RequestResponse"
    for verb in ("create", "get"):
        event = one(verb, "secrets")
        assert event["level"] == "Metadata" and "requestObject" not in event and "responseObject" not in event
    assert one("create", "configmaps")["level"] == "Metadata"
    assert value not in text
    assert base64.b64encode(value.encode()).decode() not in text
