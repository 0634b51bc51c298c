# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_summary's main(): the summary as result and host fact, no change, no cluster access."""
from __future__ import absolute_import, division, print_function

from ansible_collections.flytesec.hardening.plugins.modules import flyte_summary

from fake_client import FakeClient, run_module

__metaclass__ = type

ARGS = {
    "cluster": "control", "run_id": "R1", "namespace": "flyte", "backup_dir": "/b/k", "planes": ["control_plane"],
    "preflight": {"changed": False, "layout": "flyte-core", "kubernetes_version": "v1.34.4", "owners": {}},
    "cors": {"changed": True, "restart_required": ["Deployment/flyteadmin"],
             "changed_objects": [{"object": "ConfigMap/flyte-admin-base-config", "keys": ["server.yaml"]}]},
    "cors_restart_required": ["Deployment/flyteadmin"],
    "pod_security": {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"},
    "pod_security_enforce": False,
    "rollout": {"changed": True, "restarted": ["Deployment/flyteadmin"], "unchanged": [], "not_restarted": []},
}


def test_check_mode_summary_as_result_and_fact_without_a_change():
    client = FakeClient()
    result, failed = run_module(flyte_summary, ARGS, client, check_mode=True)
    assert not failed and result["changed"] is False
    summary = result["summary"]
    assert result["ansible_facts"]["flytesec_summary"] == summary
    assert summary["backups"] == "/b/k/R1" and summary["check_mode"] is True and summary["status"] == "ok"
    assert summary["areas"]["cors"]["ran"] is True and summary["areas"]["pod_security"]["ran"] is False
    assert summary["areas"]["pod_security"]["enforce"] == "not set"
    assert "| run | `R1` (check mode: nothing was written) |\n" in result["markdown"]
    assert "- restarted `Deployment/flyteadmin`\n" in result["markdown"]
    assert client.writes() == []


def test_an_error_fails_the_summary_not_the_module():
    result, failed = run_module(flyte_summary, dict(ARGS, error="Preflight: unreachable"), FakeClient())
    assert not failed and result["summary"]["status"] == "failed" and result["summary"]["check_mode"] is False
    assert "| FAILED | Preflight: unreachable |\n" in result["markdown"]


def test_an_unknown_option_is_refused():
    result, failed = run_module(flyte_summary, dict(ARGS, surprise=1), FakeClient())
    assert failed and "surprise" in result["msg"]
