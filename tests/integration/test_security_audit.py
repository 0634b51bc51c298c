# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_security_audit on the real cluster: upstream findings, then after harden-flyte.yml (issue 11)."""
from __future__ import absolute_import, division, print_function

import json
from pathlib import Path

import pytest

from conftest import install_flyte
from playbook import run_playbook

__metaclass__ = type

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
AUDIT = HERE / "playbooks" / "audit.yml"
HARDEN = HERE.parents[1] / "playbooks" / "harden-flyte.yml"
ADMIN = "flytesec-admin"
NS = "audit-core"
UPSTREAM = {  # unit test test_audit_controls.py justifies each; the live install adds the bound wildcard ClusterRole
    "FLYTE-PSS-001", "FLYTE-PSS-002", "FLYTE-PSS-003", "FLYTE-PSS-004", "FLYTE-PSS-005", "FLYTE-PSS-006",
    "FLYTE-AUTH-001", "FLYTE-AUTH-002", "FLYTE-CORS-001", "FLYTE-NET-001", "FLYTE-IMG-001", "FLYTE-TLS-001",
    "FLYTE-RBAC-001", "FLYTE-PROJ-001", "FLYTE-PROJ-002", "FLYTE-PROJ-003", "FLYTE-TASK-001",
}
WAIVERS = [
    {"control": "FLYTE-IMG-001", "scope": "*", "justification": "the test cluster pulls no images (kwok)", "expiry": "2099-12-31"},
    {"control": "FLYTE-TLS-001", "scope": "*", "justification": "TLS terminates at the load balancer in front", "expiry": "2099-12-31"},
]


def test_upstream_then_hardened(cluster, audit, tmp_path):
    install_flyte(cluster, "flyte-core", NS)
    reports = tmp_path / "audit"
    start = audit.mark()
    before = run_playbook(AUDIT, cluster.kubeconfig, {"audit_namespace": NS, "audit_report_dir": str(reports)})
    assert before.rc == 0, before.stdout[-3000:]
    found = before.result("Audit the Flyte installation")
    assert set(f["control"] for f in found["findings"]) == UPSTREAM
    assert audit.events(since=start, writes=True, user=ADMIN) == []  # read-only
    assert json.loads((reports / "report.sarif").read_text())["version"] == "2.1.0"
    assert "foobar" not in (reports / "report.json").read_text()

    hardened = run_playbook(HARDEN, cluster.kubeconfig, {
        "flytesec_namespace": NS, "flytesec_rbac": True, "flytesec_network_policies": True, "flytesec_projects": True,
        "network_policies_peers": {"apiserver_cidrs": ["10.0.0.10/32"]},
        "auth_public_url": "https://flyte.example.com",
        "auth_oidc": {"base_url": "https://keycloak.example.com/realms/flyte", "client_id": "flyteadmin"},
        "auth_oidc_client_secret": "audit-test-oidc-secret",
        "cors_admin_url": "https://flyte.example.com",
        "cors_console_origins": ["https://console.flyte.example.com"],
        "flytesec_state_root": str(tmp_path / "state")})
    assert hardened.rc == 0, hardened.stdout[-4000:]

    after = run_playbook(AUDIT, cluster.kubeconfig, {"audit_namespace": NS, "audit_report_dir": str(reports),
                                                     "audit_waivers": WAIVERS, "audit_fail_on_new_severity": "low"})
    assert after.rc == 0, after.stdout[-3000:]
    result = after.result("Audit the Flyte installation")
    assert result["findings"] == [], [(f["control"], f["object"]) for f in result["findings"]]
    assert set(f["control"] for f in result["waived"]) == {"FLYTE-IMG-001", "FLYTE-TLS-001"}
    assert set(f["control"] for f in result["resolved"]) >= UPSTREAM - {"FLYTE-IMG-001", "FLYTE-TLS-001"}
    assert result["score"] == 100.0


def test_bad_waiver(cluster, tmp_path):
    # Validation comes before any cluster access (the namespace need not even hold Flyte).
    bad = run_playbook(AUDIT, cluster.kubeconfig, {"audit_namespace": "default", "audit_report_dir": str(tmp_path),
                                                   "audit_waivers": [{"control": "FLYTE-IMG-001", "scope": "*", "expiry": "2099-01-01"}]})
    assert bad.rc != 0 and "waivers[0]: justification is required" in bad.result("Audit the Flyte installation")["msg"]
