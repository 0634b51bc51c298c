# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_securitycontext's and flyte_rollout's main() against FakeClient (upstream flyte-core objects): check mode
writes nothing, a change is backed up and carries its resourceVersion, a failed rollout is rolled back. Real
rollouts, and PodSecurity admission refusing the new pods, are in tests/integration (test_pod_security.py,
test_cors_rollout.py)."""
from __future__ import absolute_import, division, print_function

import os

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout as ro
from ansible_collections.flytesec.hardening.plugins.modules import flyte_cors
from ansible_collections.flytesec.hardening.plugins.modules import flyte_rollout
from ansible_collections.flytesec.hardening.plugins.modules import flyte_securitycontext

from fake_client import FakeClient, run_module

__metaclass__ = type

SC = {"namespace": "flyte", "version": "v1.34", "wait_sleep": 1}
CORS = {"namespace": "flyte", "admin_url": "https://flyte-api.example.test", "console_origins": ["https://flyte.example.test"]}
RESTART = ["Deployment/flyteadmin", "Deployment/flyteconsole"]


def templates(client, kind="Deployment"):
    return dict((key[2], obj["spec"]["template"]) for key, obj in client.store.items() if key[0] == kind)


def data(client, name):
    return client.store[("ConfigMap", "flyte", name)]["data"]


# ------------------------------------------------------------------------------------------ flyte_securitycontext

def test_securitycontext_check_mode_writes_nothing(tmp_path):
    client = FakeClient()
    before = dict(client.store)
    result, failed = run_module(flyte_securitycontext, dict(SC, backup_dir=str(tmp_path), run_id="r1"), client,
                                check_mode=True, diff=True)
    assert not failed and result["changed"] and result["compliant"], result.get("msg")
    assert result["changed_workloads"] and result["diff"]
    assert client.writes() and all(w["dry_run"] for w in client.writes())
    assert client.store == before and os.listdir(str(tmp_path)) == [] and result["backups"] == []
    assert all("rollout" not in w for w in result["workloads"])


def test_securitycontext_writes_with_a_backup_and_the_resource_version(tmp_path):
    client = FakeClient()
    client.complete_rollouts()
    versions = dict((key[2], obj["metadata"]["resourceVersion"]) for key, obj in client.store.items()
                    if key[0] == "Deployment")
    before = templates(client)
    result, failed = run_module(flyte_securitycontext, dict(SC, backup_dir=str(tmp_path), run_id="r1"), client)
    assert not failed and result["changed"], result.get("msg")
    writes = client.writes()
    assert sorted("Deployment/%s" % w["name"] for w in writes) == sorted(result["changed_workloads"])
    for write in writes:
        assert write["patch_type"] == "strategic" and not write["dry_run"]
        assert write["body"]["metadata"]["resourceVersion"] == versions[write["name"]]
    records = [bk.read_record(path) for path in result["backups"]]
    assert sorted("Deployment/%s" % r["name"] for r in records) == sorted(result["changed_workloads"])
    for record in records:
        assert record["run_id"] == "r1" and record["apiVersion"] == "apps/v1"
        assert record["object"]["spec"]["template"] == before[record["name"]]
    assert result["restart"] == result["changed_workloads"]
    assert all(w["rollout"] == "complete" for w in result["workloads"] if w["changed"])
    again, failed = run_module(flyte_securitycontext, dict(SC, backup_dir=str(tmp_path), run_id="r2"), client)
    assert not failed and not again["changed"] and again["backups"] == []


def test_securitycontext_carries_the_template_annotations():
    client = FakeClient()
    client.complete_rollouts()
    annotations = {"Deployment/flyteadmin": {ro.CONFIG_HASH_ANNOTATION: "sha256:abc"}}
    result, failed = run_module(flyte_securitycontext, dict(SC, template_annotations=annotations), client)
    assert not failed, result.get("msg")
    admin = next(w for w in client.writes() if w["name"] == "flyteadmin")
    assert admin["body"]["spec"]["template"]["metadata"]["annotations"][ro.CONFIG_HASH_ANNOTATION] == "sha256:abc"
    assert ro.current_hash(client.store[("Deployment", "flyte", "flyteadmin")]) == "sha256:abc"
    console = next(w for w in client.writes() if w["name"] == "flyteconsole")
    assert ro.CONFIG_HASH_ANNOTATION not in str(console["body"])


def test_securitycontext_failed_rollout_rolls_back_templates_and_this_runs_config(tmp_path):
    client = FakeClient()
    client.complete_rollouts()
    # An earlier module of the same run changed flyteadmin's configuration (and backed it up).
    done, failed = run_module(flyte_cors, dict(CORS, backup_dir=str(tmp_path), run_id="r1"), client)
    assert not failed and done["changed"]
    changed_config = data(client, "flyte-admin-base-config")
    before = templates(client)
    client.fail_rollout("Deployment", "flyteadmin")
    result, failed = run_module(flyte_securitycontext, dict(SC, backup_dir=str(tmp_path), run_id="r1"), client)
    assert failed
    assert result["msg"].startswith("rollout failed: Deployment/flyteadmin: FailedCreate: pods is forbidden: "
                                    "violates PodSecurity"), result["msg"]
    configmaps = ["ConfigMap/flyte-admin-base-config", "ConfigMap/flyte-console-config"]
    assert result["rolled_back"] == configmaps + result["restart"]
    assert templates(client) == before
    assert data(client, "flyte-admin-base-config") != changed_config
    assert data(client, "flyte-admin-base-config") == bk.read_record(
        str(tmp_path / "r1" / "flyte_ConfigMap_flyte-admin-base-config.json"))["object"]["data"]
    admin = next(w for w in result["workloads"] if w["workload"] == "Deployment/flyteadmin")
    assert admin["rollout"] == "failed" and admin["reason"].startswith("FailedCreate")


def test_securitycontext_bad_wait_option_names_it():
    client = FakeClient()
    result, failed = run_module(flyte_securitycontext, dict(SC, wait_timeout=-1), client)
    assert failed and result["option"] == "wait_timeout" and client.writes() == []


# --------------------------------------------------------------------------------------------------- flyte_rollout

def test_rollout_check_mode_writes_nothing(tmp_path):
    client = FakeClient()
    before = dict(client.store)
    args = {"namespace": "flyte", "workloads": RESTART, "backup_dir": str(tmp_path), "run_id": "r1"}
    result, failed = run_module(flyte_rollout, args, client, check_mode=True, diff=True)
    assert not failed and result["changed"] and result["restarted"] == RESTART
    assert [w["dry_run"] for w in client.writes()] == [True, True]
    assert client.store == before and os.listdir(str(tmp_path)) == []
    assert sorted(result["template_annotations"]) == RESTART and len(result["diff"]) == 2


def test_rollout_writes_with_a_backup_and_the_resource_version_then_is_idempotent(tmp_path):
    client = FakeClient()
    client.complete_rollouts()
    version = client.store[("Deployment", "flyte", "flyteadmin")]["metadata"]["resourceVersion"]
    args = {"namespace": "flyte", "workloads": RESTART, "backup_dir": str(tmp_path), "run_id": "r1"}
    result, failed = run_module(flyte_rollout, args, client)
    assert not failed and result["restarted"] == RESTART, result.get("msg")
    admin = client.writes()[0]
    assert admin["name"] == "flyteadmin" and admin["patch_type"] == "strategic"
    assert admin["body"]["metadata"]["resourceVersion"] == version
    assert admin["body"]["spec"]["template"]["metadata"]["annotations"][ro.RESTARTED_BY_ANNOTATION] == "r1"
    record = bk.read_record(str(tmp_path / "r1" / "flyte_Deployment_flyteadmin.json"))
    assert ro.current_hash(record["object"]) is None
    assert [w["rollout"] for w in result["workloads"]] == ["complete", "complete"]
    writes = len(client.writes())
    again, failed = run_module(flyte_rollout, dict(args, run_id="r2"), client)
    assert not failed and not again["changed"] and again["unchanged"] == RESTART
    assert len(client.writes()) == writes


def test_rollout_failed_rolls_back_templates_and_config(tmp_path):
    client = FakeClient()
    client.complete_rollouts()
    original = {"flyte-admin-base-config": data(client, "flyte-admin-base-config"),
                "flyte-console-config": data(client, "flyte-console-config")}
    done, failed = run_module(flyte_cors, dict(CORS, backup_dir=str(tmp_path), run_id="r1"), client)
    assert not failed and sorted(done["restart_required"]) == RESTART
    before = templates(client)
    client.fail_rollout("Deployment", "flyteadmin")
    args = {"namespace": "flyte", "workloads": done["restart_required"], "backup_dir": str(tmp_path), "run_id": "r1"}
    result, failed = run_module(flyte_rollout, args, client)
    assert failed and "rollout failed" in result["msg"] and "FailedCreate" in result["msg"], result["msg"]
    assert result["msg"].endswith("; rolled back ConfigMap/flyte-admin-base-config, ConfigMap/flyte-console-config, "
                                  "Deployment/flyteadmin, Deployment/flyteconsole")
    assert sorted(result["rolled_back"]) == ["ConfigMap/flyte-admin-base-config", "ConfigMap/flyte-console-config"] + RESTART
    assert templates(client) == before
    for name, values in original.items():
        assert data(client, name) == values, name
    assert [w.get("rollout") for w in result["workloads"]] == ["failed", "complete"]


def test_rollout_failed_without_rollback_leaves_everything(tmp_path):
    client = FakeClient()
    client.complete_rollouts()
    client.fail_rollout("Deployment", "flyteconsole")
    args = {"namespace": "flyte", "workloads": RESTART, "backup_dir": str(tmp_path), "run_id": "r1",
            "rollback_on_failure": False}
    result, failed = run_module(flyte_rollout, args, client)
    assert failed and result["rolled_back"] == []
    assert result["msg"] == "rollout failed: Deployment/flyteconsole: FailedCreate: pods is forbidden: violates PodSecurity"
    assert [w["verb"] for w in client.writes()] == ["patch", "patch"]
    assert ro.current_hash(client.store[("Deployment", "flyte", "flyteconsole")])


def test_rollout_a_conflicting_edit_is_refused(tmp_path):
    client = FakeClient()
    real_get = client.get

    def get_then_someone_edits(api_version, kind, name, namespace=None):
        obj = real_get(api_version, kind, name, namespace)
        if kind == "Deployment" and obj is not None:
            client.add(dict(client.store[(kind, namespace, name)]))   # another writer, after our read
        return obj
    client.get = get_then_someone_edits
    result, failed = run_module(flyte_rollout, {"namespace": "flyte", "workloads": ["flyteadmin"], "wait": False}, client)
    assert failed and "Conflict" in result["msg"]
    assert ro.current_hash(client.store[("Deployment", "flyte", "flyteadmin")]) is None


def test_rollout_missing_workload_fails_before_any_write():
    client = FakeClient()
    result, failed = run_module(flyte_rollout, {"namespace": "flyte", "workloads": ["flyteadmin", "nope"]}, client)
    assert failed and result["msg"] == "workloads: Deployment/nope not found in namespace flyte"
    assert client.writes() == []
