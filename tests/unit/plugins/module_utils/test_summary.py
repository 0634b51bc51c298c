# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the run summary (module_utils/summary.py).

The expected Markdown is what roles/flytesec/templates/summary.md.j2 rendered (ansible-core 2.19) for the same
results, before the module replaced it."""
from __future__ import absolute_import, division, print_function

import json

from ansible_collections.flytesec.hardening.plugins.module_utils import summary as sm

__metaclass__ = type

SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}

FULL = dict(
    planes=["control_plane", "data_plane"],
    preflight={"changed": False, "layout": "flyte-core", "kubernetes_version": "v1.34.4", "release": "",
               "owners": {"helm": ["ConfigMap/a", "ConfigMap/b"], "argocd": ["Deployment/x"]}},
    audit={"changed": False, "score": 87.5, "findings": [{"control": "FLYTE-NET-001", "severity": "medium"},
                                                         {"control": "FLYTE-CORS-002"}, {"control": "FLYTE-NET-001"}]},
    auth={"changed": True, "propeller_hash": "abc", "restart_required": ["Deployment/flyteadmin"],
          "changed_objects": [{"object": "ConfigMap/flyte-admin-base-config", "keys": ["server.yaml", "x.yaml"]}]},
    auth_secrets={"changed": True, "keys": [
        {"secret": "flyte-secret-auth", "key": "client_secret", "state": "generated"},
        {"secret": "flyte-admin-secrets", "key": "cookie", "state": "kept"},
        {"secret": "s", "key": "k", "state": "valid"}]},
    auth_restart_required=["Deployment/flyteadmin", "Deployment/flytepropeller"],
    data_plane_auth={"changed": False, "propeller_secret_verified": "true", "restart_required": [],
                     "keys": [{"secret": "flyte-secret-auth", "key": "client_secret", "state": "set"}]},
    cors={"changed": True, "restart_required": ["Deployment/flyteadmin"], "changed_objects": [
        {"object": "ConfigMap/flyte-admin-base-config", "keys": ["server.yaml"]},
        {"object": "ConfigMap/flyte-console-config", "keys": ["ADMIN_API_URL"]}]},
    cors_restart_required=["Deployment/flyteadmin", "Deployment/flyteconsole"],
    pod_security={"changed": True, "changed_workloads": ["Deployment/flyteadmin", "Deployment/datacatalog"],
                  "compliant": True},
    pod_security_enforce="restricted:v1.34",
    rbac={"changed": True, "changed_roles": ["ClusterRole/flytepropeller"], "wildcard_findings": [{"a": 1}, {"b": 2}]},
    config_hashes={"changed": False,
                   "template_annotations": {"Deployment/flyteconsole": {"a": "b"}, "Deployment/flyteadmin": {"a": "c"}}},
    rollout={"changed": True, "restarted": ["Deployment/flytepropeller"], "unchanged": ["Deployment/x"], "not_restarted": []},
)

FULL_MD = """# Flyte hardening: full

| | |
| --- | --- |
| run | `R1` |
| namespace | `flyte` (flyte-core) |
| Kubernetes | v1.34.4 |
| backups | `/b/k/R1` |
| managed by | helm (2 objects), argocd (1 objects) |

## Audit
Score 87.5% ; controls still open: FLYTE-CORS-002, FLYTE-NET-001
(reports in `audit/`).

## Authentication
- Secret `flyte-secret-auth` key `client_secret`: generated
- changed `ConfigMap/flyte-admin-base-config`: server.yaml, x.yaml

## CORS and console
- changed `ConfigMap/flyte-admin-base-config`: server.yaml
- changed `ConfigMap/flyte-console-config`: ADMIN_API_URL

## Pod Security
Namespace `flyte` enforces `restricted:v1.34`; workloads compliant: True.
- securityContext changed: `Deployment/flyteadmin`
- securityContext changed: `Deployment/datacatalog`

## Restarts
- `Deployment/flyteadmin` rolled out once, with its securityContext change (new configuration included)
- `Deployment/flyteconsole` rolled out once, with its securityContext change (new configuration included)
- restarted `Deployment/flytepropeller`
"""

FAILED_MD = """# Flyte hardening: failed

| | |
| --- | --- |
| run | `R1` (check mode: nothing was written) |
| namespace | `flyte` () |
| Kubernetes |  |
| backups | `/b/k/R1` |
| FAILED | Preflight, cluster reachable and Flyte found: connection refused |

## Audit
Not run.

## Authentication
Not configured (no `auth_public_url`).

## CORS and console
Not configured (no `cors_console_origins`).

## Pod Security
Not run (`flytesec_pod_security: false`).

## Restarts
No workload restarted.
"""


def _build(cluster, **results):
    return sm.build(cluster, "R1", "flyte", "/b/k/R1", **results)


def test_every_area_reported_as_the_template_did():
    summary = _build("full", **FULL)
    assert sm.markdown(summary) == FULL_MD
    assert summary["status"] == "ok" and summary["error"] is None and summary["check_mode"] is False
    assert summary["layout"] == "flyte-core" and summary["kubernetes_version"] == "v1.34.4"
    assert summary["audit_score"] == 87.5 and summary["audit_open_findings"] == ["FLYTE-CORS-002", "FLYTE-NET-001"]
    auth = summary["areas"]["auth"]
    assert auth["ran"] is True and [c.get("state", c.get("object")) for c in auth["changed"]] == [
        "generated", "ConfigMap/flyte-admin-base-config"]
    assert auth["data_plane_secret_verified"] == "true" and auth["data_plane_secret"][0]["state"] == "set"
    assert auth["restart_required"] == ["Deployment/flyteadmin", "Deployment/flytepropeller"]
    assert sorted(c["object"] for c in summary["areas"]["cors"]["changed"]) == [
        "ConfigMap/flyte-admin-base-config", "ConfigMap/flyte-console-config"]
    assert summary["areas"]["pod_security"] == {"ran": True, "changed": ["Deployment/flyteadmin", "Deployment/datacatalog"],
                                                "compliant": True, "enforce": "restricted:v1.34"}
    assert summary["areas"]["rbac"] == {"ran": True, "changed": ["ClusterRole/flytepropeller"], "wildcard_findings": 2}
    assert summary["areas"]["rollout"] == {"with_securitycontext": ["Deployment/flyteadmin", "Deployment/flyteconsole"],
                                           "restarted": ["Deployment/flytepropeller"], "unchanged": ["Deployment/x"],
                                           "not_restarted": []}
    json.dumps(summary)   # what the role writes as <run id>.json


def test_a_failed_preflight_in_check_mode():
    summary = sm.build("failed", "R1", "flyte", "/b/k/R1", check_mode=True,
                       error="Preflight, cluster reachable and Flyte found: connection refused",
                       preflight={"failed": True, "msg": "connection refused", "changed": False})
    assert summary["status"] == "failed" and summary["check_mode"] is True
    assert summary["layout"] is None and summary["owners"] == {} and summary["planes"] == []
    assert not any(area.get("ran") for area in summary["areas"].values())
    assert sm.markdown(summary) == FAILED_MD


def test_skipped_tasks_did_not_run():
    summary = _build("skipped", auth=SKIPPED, auth_secrets=SKIPPED, data_plane_auth=SKIPPED, rbac=SKIPPED,
                     pod_security={"changed": False, "changed_workloads": [], "compliant": False},
                     cors={"changed": False, "changed_objects": [], "restart_required": []},
                     config_hashes=SKIPPED, rollout=SKIPPED, pod_security_enforce=sm.enforce_label(False, "restricted", "v1"))
    areas = summary["areas"]
    assert areas["auth"]["ran"] is False and areas["auth"]["changed"] == [] and areas["auth"]["data_plane_secret"] == []
    assert areas["rbac"] == {"ran": False, "changed": [], "wildcard_findings": 0}
    assert areas["rollout"] == {"with_securitycontext": [], "restarted": [], "unchanged": [], "not_restarted": []}
    text = sm.markdown(summary)
    assert "## CORS and console\nAlready compliant: nothing changed.\n" in text
    assert ("Namespace `flyte` enforces `not set`; workloads compliant: False.\n"
            "Already compliant: no securityContext changed.\n") in text
    assert text.endswith("## Restarts\nNo workload restarted.\n")


def test_nothing_to_change_and_unknown_values():
    summary = _build("quiet", auth={"changed": False, "changed_objects": [], "propeller_hash": "$2b$.."},
                     auth_secrets={"keys": [{"secret": "flyte-secret-auth", "key": "client_secret", "state": "kept"}]},
                     pod_security={"changed_workloads": ["Deployment/a"]}, audit={"score": 0, "findings": []},
                     preflight={"layout": "flyte-core", "kubernetes_version": None, "owners": {}})
    text = sm.markdown(summary)
    assert "Already configured: nothing changed (propeller hash $2b$..).\n" in text
    assert "| Kubernetes |  |\n" in text and "managed by" not in text
    assert "Score 0% ; controls still open: none\n" in text
    assert "workloads compliant: .\n- securityContext changed: `Deployment/a`\n" in text


def test_rollout_lists_the_workloads_it_skipped():
    paused = {"workload": "Deployment/flyteadmin", "reason": "Deployment is paused: resume it to apply the change"}
    summary = _build("paused", rollout={"changed": False, "restarted": [], "unchanged": [], "not_restarted": [paused]})
    assert sm.ran({"not_restarted": [paused]}) and not sm.ran(SKIPPED) and not sm.ran(None)
    assert summary["areas"]["rollout"]["not_restarted"] == [paused]
    assert sm.markdown(summary).endswith(
        "No workload restarted.\n- not restarted `Deployment/flyteadmin`: Deployment is paused: resume it to apply the change\n")


def test_enforce_label():
    assert sm.enforce_label(True, "baseline", "latest") == "baseline:latest"
    assert sm.enforce_label(False, "restricted", "v1.34") == "not set"


def test_values_synced_from_an_external_store_are_no_change():
    synced = {"secret": "flyte-secret-auth", "key": "client_secret", "state": "synced", "store_key": "flyte/x:client_secret"}
    pending = dict(synced, state="pending-sync")
    assert sm.auth_changes({"changed_objects": []}, {"keys": [synced]}) == []
    assert sm.auth_changes({"changed_objects": []}, {"keys": [pending]}) == [pending]
