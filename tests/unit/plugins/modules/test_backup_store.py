# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups in the cluster (issue 22): ``backup_dir: k8s:<namespace>`` keeps every record as Secrets that outlive the
job, labelled per run, owned by nothing, split under the 1 MiB limit or refused, pruned by retention; the Writer,
flyte_lock, flyte_restore and the rollback of a failed rollout read and write them through one store."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import os

import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup_store as bs
from ansible_collections.flytesec.hardening.plugins.modules import flyte_cors
from ansible_collections.flytesec.hardening.plugins.modules import flyte_lock
from ansible_collections.flytesec.hardening.plugins.modules import flyte_restore

from fake_client import FakeClient, run_module

CORS = {"namespace": "flyte", "admin_url": "https://flyte-api.example.test", "console_origins": ["https://flyte.example.test"]}
RUN = "20260101T000000Z-123456"


def _backup_secrets(client, namespace="flyte"):
    return dict((key, obj) for key, obj in client.store.items()
                if key[0] == "Secret" and key[1] == namespace and obj["metadata"]["name"].startswith(bs.NAME_PREFIX))


def test_locations():
    assert isinstance(bs.open_store("/tmp/x", None), bs.DirectoryStore) and bs.open_store("", None) is None
    store = bs.open_store("k8s:flyte-backups", FakeClient())
    assert isinstance(store, bs.SecretStore) and store.namespace == "flyte-backups"
    for bad in ("k8s:", "k8s:Flyte", "k8s:a/b", "k8s:" + "a" * 64):
        with pytest.raises(bk.BackupError, match="k8s:<namespace>"):
            bs.open_store(bad, FakeClient())
    with pytest.raises(bk.BackupError, match="need a Kubernetes client"):
        bs.open_store("k8s:flyte", None)
    assert bs.describe("k8s:flyte", RUN) == "k8s:flyte (Secrets labelled hardening.flytesec.io/backup-run=%s)" % RUN
    assert bs.describe("/b", RUN) == "/b/%s" % RUN
    assert bs.run_label_value("a b/c" + "x" * 80) == ("a-b-c" + "x" * 80)[:63]


def test_cors_run_keeps_secrets_then_restore_from_them_alone():
    client = FakeClient()
    before = dict(client.store)
    checked, failed = run_module(flyte_cors, dict(CORS, backup_dir="k8s:flyte", run_id=RUN), client, check_mode=True)
    assert not failed and checked["changed"] and _backup_secrets(client) == {}
    done, failed = run_module(flyte_cors, dict(CORS, backup_dir="k8s:flyte", run_id=RUN), client)
    assert not failed and done["changed"]
    secrets = _backup_secrets(client)
    assert len(secrets) == 2
    for obj in secrets.values():
        meta = obj["metadata"]
        assert meta["labels"][bk.RUN_LABEL] == RUN and meta["labels"][bs.KIND_LABEL] == "record"
        assert not meta.get("ownerReferences") and obj["immutable"] is True and obj["type"] == "Opaque"
        assert meta["annotations"][bs.CHUNK_ANNOTATION] == "0/1"
        record = bk.loads(base64.b64decode(obj["data"][bs.DATA_KEY]).decode("utf-8"))
        assert record["run_id"] == RUN and record["kind"] == "ConfigMap"
    # the same run again: the first record of each object wins, no new Secret
    run_module(flyte_cors, dict(CORS, admin_url="https://other.example.test", backup_dir="k8s:flyte", run_id=RUN), client)
    assert _backup_secrets(client) == secrets
    restored, failed = run_module(flyte_restore, {"backup_dir": "k8s:flyte", "run_id": RUN}, client)
    assert not failed, restored
    assert sorted(restored["restored"]) == ["ConfigMap/flyte/flyte-admin-base-config", "ConfigMap/flyte/flyte-console-config"]
    for key, obj in before.items():
        if key[0] == "ConfigMap":
            assert client.store[key]["data"] == obj["data"], key
    # restore leaves the backups in place: they are the record of the run
    assert _backup_secrets(client) == secrets


def _cors_run(client):
    done, failed = run_module(flyte_cors, dict(CORS, backup_dir="k8s:flyte", run_id=RUN), client)
    assert not failed and done["changed"]
    return done


@pytest.mark.parametrize("denied,phase", [
    (("", "secrets", "list", "flyte"), "to read the backups of run"),
    (("", "configmaps", "get", "flyte"), "to read the objects of run"),
    (("", "configmaps", "patch", "flyte"), "to put back the objects of run"),
])
def test_restore_asks_for_every_permission_before_it_needs_it(denied, phase):
    """flyte_restore's preflight: list on the backup Secrets, get on every object, then the writes it will make; one
    refused fails the restore naming it, before the first request that needs it (no write, no read it lacks)."""
    client = FakeClient()
    _cors_run(client)
    client.denied = set([denied])
    seen = len(client.requests)
    result, failed = run_module(flyte_restore, {"backup_dir": "k8s:flyte", "run_id": RUN}, client)
    wanted = "cannot %s %s in namespace flyte" % (denied[2], denied[1])
    assert failed and wanted in result["msg"] and "SelfSubjectAccessReview" in result["msg"], result
    assert phase in result["msg"] and "lacks 1 of the 1 permissions" in result["msg"]
    assert result["access_denied"] == [wanted[len("cannot "):]] and result["restored"] == []
    asked = client.requests[seen:]
    assert [r for r in asked if r["verb"] in ("create", "patch", "replace", "delete")] == []
    assert not [r for r in asked if r["kind"] == ("Secret" if denied[1] == "secrets" else "ConfigMap")
                and r["verb"] == denied[2]], "a request it was refused"
    # granted again: the same restore asks the same permissions and puts the objects back
    client.denied = set()
    restored, failed = run_module(flyte_restore, {"backup_dir": "k8s:flyte", "run_id": RUN}, client)
    assert not failed and restored["permissions"] == [
        "list secrets in namespace flyte", "get configmaps in namespace flyte", "patch configmaps in namespace flyte"]
    assert len(restored["restored"]) == 2


def test_restore_without_check_access_asks_nothing():
    client = FakeClient()
    _cors_run(client)
    client.denied = set([("", "configmaps", "patch", "flyte")])
    restored, failed = run_module(flyte_restore, {"backup_dir": "k8s:flyte", "run_id": RUN, "check_access": False}, client)
    assert not failed and restored["permissions"] == [] and client.reviews == [] and len(restored["restored"]) == 2


def test_restore_of_an_unknown_run_names_where_it_looked():
    result, failed = run_module(flyte_restore, {"backup_dir": "k8s:flyte", "run_id": "nope"}, FakeClient())
    assert failed and "no backups of run nope in backup_dir k8s:flyte (Secrets labelled" in result["msg"]


def test_a_large_record_is_split_under_the_limit_and_read_back(monkeypatch):
    client = FakeClient()
    store = bs.SecretStore(client, "flyte")
    big = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big", "namespace": "flyte"},
           "data": {"blob": "x" * (2 * 1024 * 1024)}}
    record = bk.make_record(big, run_id=RUN)
    where = store.write(record)
    secrets = _backup_secrets(client)
    assert len(secrets) == 3 and where.startswith("secret/flyte/" + bs.NAME_PREFIX)
    for obj in secrets.values():
        assert len(base64.b64decode(obj["data"][bs.DATA_KEY])) <= bs.CHUNK_BYTES < bk.CONFIGMAP_LIMIT
    # chunk 0 was created last: its presence means the record is complete
    creates = [w["name"] for w in client.writes() if w["verb"] == "create"]
    assert creates[-1] == where.split("/")[-1]
    assert store.load(run_id=RUN)[0]["object"]["data"]["blob"] == "x" * (2 * 1024 * 1024)
    # a write cut short (chunk 0 missing) is no record; a missing later chunk is an error naming the Secret
    first = where.split("/")[-1]
    saved = client.store.pop(("Secret", "flyte", first))
    assert store.load(run_id=RUN) == []
    client.store[("Secret", "flyte", first)] = saved
    client.store.pop(("Secret", "flyte", first + "-1"))
    with pytest.raises(bk.BackupError, match="2 of 3 chunks"):
        store.load(run_id=RUN)


def test_a_record_over_the_chunk_limit_is_refused_before_the_write():
    client = FakeClient()
    current = client.get("v1", "ConfigMap", "flyte-admin-base-config", "flyte")
    current["data"]["huge"] = "y" * (bs.CHUNK_BYTES * bs.MAX_CHUNKS + 1)
    client.add(current)
    current = client.get("v1", "ConfigMap", "flyte-admin-base-config", "flyte")
    writer = apply.Writer(client, False, "k8s:flyte", RUN)
    with pytest.raises(bk.BackupError, match="ConfigMap/flyte/flyte-admin-base-config is .* bytes: more than 8 Secrets"):
        writer.patch(current, {"data": {"a": "b"}})
    assert [w for w in client.writes() if w["verb"] in ("patch", "create")] == []


def test_a_bad_location_fails_the_first_write_not_the_constructor():
    client = FakeClient()
    writer = apply.Writer(client, False, "k8s:NOT_A_NS", RUN)
    current = client.get("v1", "ConfigMap", "flyte-admin-base-config", "flyte")
    with pytest.raises(bk.BackupError, match="k8s:<namespace>"):
        writer.patch(current, {"data": {"a": "b"}})
    assert client.writes() == []
    assert apply.Writer(client, True, "k8s:NOT_A_NS", RUN).store is None   # check mode keeps nothing


def _record(name, run_id, when):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "flyte"}, "data": {}}
    record = bk.make_record(obj, run_id=run_id)
    record["timestamp"] = when
    return record


@pytest.mark.parametrize("location", ["k8s:flyte", "dir"])
def test_retention_keeps_the_newest_runs_and_the_current_one(tmp_path, location):
    client = FakeClient()
    location = str(tmp_path) if location == "dir" else location
    store = bs.open_store(location, client)
    for i, run in enumerate(["r1", "r2", "r3", "r4"]):
        store.write(_record("a", run, "2026-01-0%dT00:00:00.000000Z" % (i + 1)))
        store.write(_record("b", run, "2026-01-0%dT00:00:01.000000Z" % (i + 1)))
    assert store.runs() == ["r1", "r2", "r3", "r4"]
    assert store.prune(0) == [] and store.runs() == ["r1", "r2", "r3", "r4"]
    assert store.prune(2, current="r1") == ["r2"]
    assert store.runs() == ["r1", "r3", "r4"]
    assert [r["name"] for r in store.load(run_id="r3")] == ["a", "b"]
    if location.startswith("k8s:"):
        assert len(_backup_secrets(client)) == 6


def test_lock_records_the_lease_in_the_cluster_and_prunes_on_release():
    client = FakeClient()
    store = bs.SecretStore(client, "flyte")
    for i, run in enumerate(["old1", "old2"]):
        store.write(_record("a", run, "2025-01-0%dT00:00:00.000000Z" % (i + 1)))
    taken, failed = run_module(flyte_lock, {"namespace": "flyte", "run_id": RUN, "backup_dir": "k8s:flyte",
                                            "wait_timeout": 0}, client)
    assert not failed and taken["holder"] == RUN
    assert [(r["kind"], r.get("absent")) for r in store.load(run_id=RUN)] == [("Lease", True)]
    args = {"namespace": "flyte", "run_id": RUN, "backup_dir": "k8s:flyte", "state": "released", "backup_retention": 2}
    planned, failed = run_module(flyte_lock, args, client, check_mode=True)
    assert not failed and planned["pruned_runs"] == ["old1"] and "old1" in store.runs()
    released, failed = run_module(flyte_lock, args, client)
    assert not failed and released["pruned_runs"] == ["old1"] and released["holder"] is None
    assert store.runs() == ["old2", RUN]
    bad, failed = run_module(flyte_lock, dict(args, backup_retention=-1), client)
    assert failed and "backup_retention" in bad["msg"]


def test_directory_location_is_unchanged(tmp_path):
    client = FakeClient()
    done, failed = run_module(flyte_cors, dict(CORS, backup_dir=str(tmp_path), run_id=RUN), client)
    assert not failed and done["changed"]
    assert _backup_secrets(client) == {} and len(os.listdir(str(tmp_path / RUN))) == 2
