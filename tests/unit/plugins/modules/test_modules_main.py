# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Modules' main() end to end against FakeClient (upstream flyte-core objects): check mode, diff, bad input, a
conflicting edit, backups. What needs the API server (admission, dry-run validation, rollouts) is in tests/integration."""
import os

import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.modules import flyte_auth_secrets
from ansible_collections.flytesec.hardening.plugins.modules import flyte_network_policies
from ansible_collections.flytesec.hardening.plugins.modules import flyte_pod_security_labels
from ansible_collections.flytesec.hardening.plugins.modules import flyte_restore

from fake_client import FakeClient, dumps, run_module

LABELS = {"namespaces": ["flyte"], "warn": "restricted", "warn_version": "v1.34", "audit": "restricted",
          "audit_version": "v1.34"}
SECRET = "data-plane-secret-0123456789"


def test_labels_check_mode_writes_nothing_and_shows_the_diff(tmp_path):
    client = FakeClient()
    result, failed = run_module(flyte_pod_security_labels, dict(LABELS, backup_dir=str(tmp_path), run_id="r1"), client,
                                check_mode=True, diff=True)
    assert not failed and result["changed"]
    assert [w["dry_run"] for w in client.writes()] == [True]
    assert "pod-security.kubernetes.io/warn: restricted" in result["diff"][0]["after"]
    assert os.listdir(str(tmp_path)) == [] and client.store[("Namespace", None, "flyte")]["metadata"].get("labels") is None


def test_labels_run_backs_up_then_rerun_changes_nothing(tmp_path):
    client = FakeClient()
    result, failed = run_module(flyte_pod_security_labels, dict(LABELS, backup_dir=str(tmp_path), run_id="r1"), client)
    assert not failed and result["changed"] and len(result["backups"]) == 1
    assert bk.read_record(result["backups"][0])["kind"] == "Namespace"
    again, dummy = run_module(flyte_pod_security_labels, dict(LABELS, backup_dir=str(tmp_path), run_id="r2"), client)
    assert not again["changed"] and again["backups"] == []


def test_labels_bad_input_names_the_option():
    client = FakeClient()
    result, failed = run_module(flyte_pod_security_labels, {"namespaces": ["flyte"], "enforce": "strict"}, client)
    assert failed and "enforce" in result["msg"] and client.writes() == []
    result, failed = run_module(flyte_pod_security_labels, dict(LABELS, namespaces=["nope"]), client)
    assert failed and "namespaces: namespace nope not found" in result["msg"] and client.writes() == []


def test_a_conflicting_edit_is_refused_not_overwritten(tmp_path):
    client = FakeClient()
    real_get = client.get

    def get_then_someone_edits(api_version, kind, name, namespace=None):
        obj = real_get(api_version, kind, name, namespace)
        if kind == "Namespace" and obj is not None:
            edited = dict(client.store[(kind, namespace, name)])
            client.add(edited)   # another writer: a new resourceVersion after our read
        return obj
    client.get = get_then_someone_edits
    result, failed = run_module(flyte_pod_security_labels, LABELS, client)
    assert failed and "Conflict" in result["msg"]


def test_network_policies_are_created_and_restore_deletes_them(tmp_path):
    client = FakeClient()
    args = {"namespace": "flyte", "peers": {"apiserver_cidrs": ["10.0.0.1/32"]}, "backup_dir": str(tmp_path), "run_id": "r1"}
    result, failed = run_module(flyte_network_policies, args, client)
    assert not failed and result["changed"] and result["changed_policies"]
    created = [w for w in client.writes() if w["verb"] == "create"]
    assert len(created) == len(result["changed_policies"])
    assert all(bk.read_record(path).get("absent") for path in result["backups"])
    restored, failed = run_module(flyte_restore, {"backup_dir": str(tmp_path), "run_id": "r1", "namespace": "flyte"}, client)
    assert not failed and len(restored["deleted"]) == len(created)
    assert not [k for k in client.store if k[0] == "NetworkPolicy"]


def test_auth_secrets_scope_propeller_masks_the_secret(tmp_path):
    client = FakeClient()
    args = {"namespace": "flyte", "scope": "propeller", "propeller_client_secret": SECRET,
            "backup_dir": str(tmp_path), "run_id": "r1"}
    result, failed = run_module(flyte_auth_secrets, args, client, diff=True)
    assert not failed and result["changed"], result.get("msg")
    assert SECRET not in dumps(result)
    assert [w["name"] for w in client.writes()] == ["flyte-secret-auth"]
    assert bk.read_record(result["backups"][0])["name"] == "flyte-secret-auth"


@pytest.mark.parametrize("secret", ["foobar", " padded "])
def test_auth_secrets_refuses_a_public_or_padded_secret(secret):
    client = FakeClient()
    result, failed = run_module(flyte_auth_secrets, {"namespace": "flyte", "scope": "propeller",
                                                     "propeller_client_secret": secret}, client)
    assert failed and "propeller_client_secret" in result["msg"] and client.writes() == []


CORS = {"namespace": "flyte", "admin_url": "https://flyte-api.example.test", "console_origins": ["https://flyte.example.test"]}


def test_cors_check_run_rerun_and_restore(tmp_path):
    import yaml
    from ansible_collections.flytesec.hardening.plugins.modules import flyte_cors
    client = FakeClient()
    before = dict(client.store)
    checked, failed = run_module(flyte_cors, dict(CORS, backup_dir=str(tmp_path), run_id="r1"), client, check_mode=True,
                                 diff=True)
    assert not failed and checked["changed"] and checked["diff"]
    assert client.store == before and os.listdir(str(tmp_path)) == []
    done, failed = run_module(flyte_cors, dict(CORS, backup_dir=str(tmp_path), run_id="r1"), client)
    assert not failed and done["changed"]
    server = yaml.safe_load(client.store[("ConfigMap", "flyte", "flyte-admin-base-config")]["data"]["server.yaml"])
    assert server["server"]["security"]["allowedOrigins"] == ["https://flyte.example.test"]
    # every patch carried the resourceVersion it read
    assert all(w["body"]["metadata"]["resourceVersion"] for w in client.writes())
    again, dummy = run_module(flyte_cors, dict(CORS, backup_dir=str(tmp_path), run_id="r2"), client)
    assert not again["changed"]
    restored, failed = run_module(flyte_restore, {"backup_dir": str(tmp_path), "run_id": "r1", "namespace": "flyte"}, client)
    assert not failed and sorted(restored["restored"]) == ["ConfigMap/flyte/flyte-admin-base-config",
                                                           "ConfigMap/flyte/flyte-console-config"]
    for key, obj in before.items():
        if key[0] == "ConfigMap":
            assert client.store[key]["data"] == obj["data"], key


def test_cors_bad_origin_names_the_option():
    from ansible_collections.flytesec.hardening.plugins.modules import flyte_cors
    client = FakeClient()
    result, failed = run_module(flyte_cors, dict(CORS, console_origins=["flyte.example.test"]), client)
    assert failed and "console_origins" in result["msg"] and client.writes() == []
