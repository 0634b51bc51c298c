# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_projects main() against FakeClient on the upstream flyte-core objects: the templates ConfigMap found
by its mount, existing project namespaces found by the namespace mapping, enforce held back where a dry run warns,
check mode writes nothing, a second run changes nothing. Admission itself is proven on the real API server."""
import copy

import yaml

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import project_templates as pt
from ansible_collections.flytesec.hardening.plugins.modules import flyte_projects as mod

from fake_client import FakeClient, run_module


def _client():
    client = FakeClient()
    for name in ("flytesnacks-development", "flytesnacks-production", "unrelated", "monitoring-production", "newproj-staging"):
        client.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        client.add({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}})
    # a project created through flyteadmin's API (not seeded): its namespace holds the sync's ResourceQuota
    client.add({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "project-quota", "namespace": "newproj-staging"}})
    client.dry_run_warnings = {("Namespace", "flytesnacks-production"): [
        'existing pods in namespace "flytesnacks-production" violate the new PodSecurity enforce level "restricted:latest"']}
    return client


def test_templates_propeller_and_existing_namespaces(tmp_path):
    client = _client()
    result, failed = run_module(mod, {"backup_dir": str(tmp_path), "run_id": "r1"}, client)
    assert not failed, result
    assert result["template_configmap"] == {"name": "clusterresource-template",
                                            "mounted_by": ["Deployment/flyteadmin", "Deployment/syncresources"]}
    # one namespace would reject running pods: enforce is held back there and in the template
    assert list(result["enforce_blocked"]) == ["flytesnacks-production"] and result["template_enforce"] is None
    names = [e["name"] for e in result["project_namespaces"]]
    assert names == ["flytesnacks-development", "flytesnacks-production", "newproj-staging"]
    # the mapping matches monitoring-production, but nothing says it is a Flyte project: left alone
    assert result["discovery_skipped"] == ["monitoring-production"]
    assert "pod-security.kubernetes.io/warn" not in (client.store[("Namespace", None, "monitoring-production")]["metadata"]
                                                     .get("labels") or {})
    dev = client.store[("Namespace", None, "flytesnacks-development")]["metadata"]["labels"]
    prod = client.store[("Namespace", None, "flytesnacks-production")]["metadata"]["labels"]
    assert dev["pod-security.kubernetes.io/enforce"] == "restricted" and "pod-security.kubernetes.io/enforce" not in prod
    assert prod["pod-security.kubernetes.io/warn"] == "restricted"
    assert client.store[("ServiceAccount", "flytesnacks-development", "default")]["automountServiceAccountToken"] is False
    assert ("NetworkPolicy", "flytesnacks-development", "flytesec-default-deny") in client.store
    assert ("LimitRange", "flytesnacks-development", "flytesec-limits") in client.store
    assert ("PodTemplate", "flyte", pt.POD_TEMPLATE_NAME) in client.store
    assert ("ClusterRoleBinding", None, "flytesec-flyte-cluster-resources") in client.store
    assert not [k for k in client.store if k[1] == "unrelated" and k[0] != "ServiceAccount"]
    propeller = yaml.safe_load(client.store[("ConfigMap", "flyte", "flyte-propeller-config")]["data"]["k8s.yaml"])
    assert propeller["plugins"]["k8s"]["default-pod-template-name"] == pt.POD_TEMPLATE_NAME
    assert propeller["plugins"]["k8s"]["default-security-context"]["capabilities"] == {"drop": ["ALL"]}
    assert "Deployment/syncresources" in result["restart_required"]
    assert "Deployment/flytepropeller" in result["restart_required"]
    assert "Deployment/flyteadmin" not in result["restart_required"]
    assert result["backups"]
    # the second run changes nothing, and reads no object of a project namespace one by one (a LIST per kind)
    client.requests = []
    again, failed = run_module(mod, {"backup_dir": str(tmp_path), "run_id": "r2"}, client)
    assert not failed and not again["changed"], again
    assert not [r for r in client.requests if r["verb"] == "get" and (r["namespace"] or "").startswith("flytesnacks")]
    assert not [r for r in client.requests if r["verb"] == "patch" and not r["dry_run"]]


def test_check_mode_writes_nothing(tmp_path):
    client = _client()
    before = copy.deepcopy(client.store)
    result, failed = run_module(mod, {"backup_dir": str(tmp_path), "run_id": "r1"}, client, check_mode=True)
    assert not failed and result["changed"]
    assert client.writes(dry_run=False) == [] and client.store == before


def test_bad_input_names_the_option_and_writes_nothing():
    client = _client()
    result, failed = run_module(mod, {"network": {"allow_everything": True}}, client)
    assert failed and result["msg"].startswith("network: unknown key(s) allow_everything")
    result, failed = run_module(mod, {"project_namespaces": ["nope"]}, client)
    assert failed and "project_namespaces: namespace nope does not exist" in result["msg"]
    assert client.writes(dry_run=False) == []
