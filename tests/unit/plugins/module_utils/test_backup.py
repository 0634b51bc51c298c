# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for backup records: make, store, load and restore."""
import copy
import datetime
import json
import os
import stat

import pytest

from upstream_manifests import BINARY, CORE, as_live_secret, find, load
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey

T0 = datetime.datetime(2026, 11, 24, 9, 30, 0, tzinfo=datetime.timezone.utc)


def live(obj, uid="uid-1", version="1234"):
    """An upstream object as the API returns it: server-managed fields added."""
    obj = copy.deepcopy(obj)
    obj["metadata"].update({"uid": uid, "resourceVersion": version, "creationTimestamp": "2026-11-24T08:00:00Z",
                            "managedFields": [{"manager": "helm", "operation": "Update"}]})
    obj["status"] = {"observed": True}
    return obj


@pytest.fixture
def admin_cm():
    return live(find(load(CORE), "ConfigMap", "flyte-admin-base-config"))


@pytest.fixture
def auth_secret():
    secret = live(as_live_secret(find(load(CORE), "Secret", "flyte-secret-auth")), uid="uid-2")
    secret["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": '{"stringData":{"client_secret":"foobar"}}'}
    return secret


def apply_merge_patch(target, patch):
    """RFC 7386 merge patch, as the API server applies it."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def test_record_holds_everything_to_restore_and_strips_server_fields(admin_cm):
    before = copy.deepcopy(admin_cm)
    record = bk.make_record(admin_cm, run_id="run-1", now=T0)
    assert admin_cm == before, "input not mutated"
    assert record["format"] == bk.FORMAT and record["run_id"] == "run-1" and record["timestamp"] == "2026-11-24T09:30:00.000000Z"
    assert (record["apiVersion"], record["kind"], record["namespace"], record["name"]) == ("v1", "ConfigMap", "flyte", "flyte-admin-base-config")
    assert (record["uid"], record["resourceVersion"]) == ("uid-1", "1234")
    assert record["labels"] == admin_cm["metadata"]["labels"] and record["restorable"] is True
    assert record["data_keys"] == sorted(admin_cm["data"])
    body = bk.restore_body(record)
    assert body["data"] == admin_cm["data"]
    assert "status" not in body
    for field in ("uid", "resourceVersion", "managedFields", "creationTimestamp"):
        assert field not in body["metadata"]
    assert body["metadata"]["labels"] == admin_cm["metadata"]["labels"] and body["metadata"]["namespace"] == "flyte"


def test_file_roundtrip_mode_and_naming(tmp_path, admin_cm):
    record = bk.make_record(admin_cm, run_id="run-1", now=T0)
    path = bk.write_record(str(tmp_path), record)
    assert path == os.path.join(str(tmp_path), "run-1", "flyte_ConfigMap_flyte-admin-base-config.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) & 0o077 == 0
    assert bk.read_record(path) == json.loads(json.dumps(record))
    assert os.listdir(os.path.dirname(path)) == [os.path.basename(path)], "no temporary file left behind"


def test_first_backup_of_a_run_is_kept(tmp_path, admin_cm):
    first = bk.make_record(admin_cm, run_id="run-1", now=T0)
    path = bk.write_record(str(tmp_path), first)
    changed = copy.deepcopy(admin_cm)
    changed["data"]["server.yaml"] = "server: {}\n"
    assert bk.write_record(str(tmp_path), bk.make_record(changed, run_id="run-1")) == path
    assert bk.read_record(path)["object"]["data"] == admin_cm["data"]
    bk.write_record(str(tmp_path), bk.make_record(changed, run_id="run-1"), overwrite=True)
    assert bk.read_record(path)["object"]["data"]["server.yaml"] == "server: {}\n"


def test_load_records_filters_and_orders(tmp_path, admin_cm, auth_secret):
    later = T0 + datetime.timedelta(minutes=5)
    bk.write_record(str(tmp_path), bk.make_record(admin_cm, run_id="run-2", now=later))
    bk.write_record(str(tmp_path), bk.make_record(admin_cm, run_id="run-1", now=T0))
    bk.write_record(str(tmp_path), bk.make_record(auth_secret, run_id="run-1", now=T0))
    records = bk.load_records(str(tmp_path))
    assert [(r["run_id"], r["kind"]) for r in records] == [("run-1", "ConfigMap"), ("run-1", "Secret"), ("run-2", "ConfigMap")]
    assert [r["kind"] for r in bk.load_records(str(tmp_path), run_id="run-1", kind="Secret")] == ["Secret"]
    assert bk.load_records(str(tmp_path), namespace="other") == []
    assert bk.load_records(str(tmp_path / "missing")) == []
    latest = bk.latest_per_object(records)
    assert [(r["kind"], r["run_id"]) for r in latest] == [("ConfigMap", "run-2"), ("Secret", "run-1")]


def test_secret_backup_without_data_does_not_leak_and_cannot_restore(tmp_path, auth_secret):
    record = bk.make_record(auth_secret, run_id="run-1", omit_secret_data=True)
    path = bk.write_record(str(tmp_path), record)
    with open(path) as handle:
        text = handle.read()
    assert "foobar" not in text and auth_secret["data"]["client_secret"] not in text
    assert record["restorable"] is False and "omits its data" in record["reason"]
    assert record["data_keys"] == ["client_secret"]
    with pytest.raises(bk.BackupError, match="omits its data"):
        bk.restore_body(record)
    assert auth_secret["data"]["client_secret"] and auth_secret["metadata"]["annotations"], "input not mutated"


def test_secret_backup_with_data_restores_exactly(tmp_path, auth_secret):
    record = bk.make_record(auth_secret, run_id="run-1")
    path = bk.write_record(str(tmp_path), record)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    body = bk.restore_body(bk.read_record(path))
    assert body["data"] == auth_secret["data"] and body["type"] == "Opaque"
    assert body["metadata"]["annotations"] == auth_secret["metadata"]["annotations"]


def test_configmap_payload_roundtrip_and_refusal_of_secret_data(admin_cm, auth_secret):
    records = [bk.make_record(admin_cm, run_id="run-1", now=T0),
               bk.make_record(auth_secret, run_id="run-1", omit_secret_data=True, now=T0)]
    body = bk.to_object(records, "flytesec-backup-run-1", "flyte")
    assert body["kind"] == "ConfigMap" and body["metadata"]["labels"][bk.RUN_LABEL] == "run-1"
    assert sorted(body["data"]) == ["flyte_ConfigMap_flyte-admin-base-config.json", "flyte_Secret_flyte-secret-auth.json"]
    assert [r["name"] for r in bk.from_object(body)] == ["flyte-admin-base-config", "flyte-secret-auth"]
    assert bk.from_object(body)[0] == json.loads(json.dumps(records[0]))

    with_data = [bk.make_record(auth_secret, run_id="run-1")]
    with pytest.raises(bk.BackupError, match="refusing to put the data of Secret flyte/flyte-secret-auth"):
        bk.to_object(with_data, "flytesec-backup", "flyte")
    as_secret = bk.to_object(with_data, "flytesec-backup", "flyte", kind="Secret")
    assert bk.from_object(as_secret)[0]["object"]["data"] == auth_secret["data"]


def test_restore_patch_puts_an_edited_configmap_back(admin_cm):
    record = bk.make_record(admin_cm, run_id="run-1")
    plan = ey.plan_edits(admin_cm["data"], [("server.yaml", "server.security.allowedOrigins", ["https://c.example.com"]),
                                            ("100-extra.yaml", "a", 1)])
    current = copy.deepcopy(admin_cm)
    current["data"] = plan.data
    current["metadata"]["labels"]["added"] = "yes"
    patch = bk.restore_patch(record, current)
    assert patch["data"]["100-extra.yaml"] is None and patch["metadata"]["labels"] == {"added": None}
    restored = apply_merge_patch(current, patch)
    assert restored["data"] == admin_cm["data"] and restored["metadata"]["labels"] == admin_cm["metadata"]["labels"]
    assert bk.restore_patch(record, admin_cm) == {}


def test_deployment_backup_restores_the_pod_template():
    deployment = live(find(load(BINARY), "Deployment", "flyte-flyte-binary"))
    record = bk.make_record(deployment, run_id="run-1")
    assert record["apiVersion"] == "apps/v1"
    changed = copy.deepcopy(deployment)
    changed["spec"]["template"]["metadata"]["annotations"]["hardening.flytesec.io/config-hash"] = "sha256:x"
    restored = apply_merge_patch(changed, bk.restore_patch(record, changed))
    assert restored["spec"] == deployment["spec"]


def test_run_ids_and_bad_input(tmp_path):
    run_id = bk.new_run_id(T0)
    assert run_id.startswith("20261124T093000Z-") and len(run_id) == len("20261124T093000Z-") + 6
    with pytest.raises(bk.BackupError, match="without kind"):
        bk.make_record({"metadata": {"name": "x"}})
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "other"}')
    with pytest.raises(bk.BackupError, match="not a flytesec.hardening/backup/v1 record"):
        bk.read_record(str(bad))
