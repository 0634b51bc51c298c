# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply.Writer: the one write path (backup or absent record first, resourceVersion precondition), and the order in
which flyte_restore undoes a run (Namespaces first, deletions last). A recording client stands in for the API."""
from __future__ import absolute_import, division, print_function

import os

import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.modules import flyte_restore

__metaclass__ = type


class RecordingClient:
    def __init__(self):
        self.calls = []

    def create(self, api_version, kind, body, namespace=None):
        self.calls.append(("create", kind, body["metadata"]["name"], namespace, body))
        return body

    def patch(self, api_version, kind, name, namespace, body, patch_type="strategic"):
        self.calls.append(("patch", kind, name, namespace, body, patch_type))
        return body


NAMESPACE = {"metadata": {"name": "flyte", "resourceVersion": "41", "labels": {"team": "ml"}}}


def test_patch_backs_up_first_and_carries_the_resource_version(tmp_path):
    client = RecordingClient()
    writer = apply.Writer(client, backup_dir=str(tmp_path), run_id="run-1")
    patch = {"metadata": {"labels": {"pod-security.kubernetes.io/warn": "restricted"}}}
    writer.patch(NAMESPACE, patch, api_version="v1", kind="Namespace")
    verb, kind, name, namespace, body, patch_type = client.calls[0]
    assert (verb, kind, name, namespace, patch_type) == ("patch", "Namespace", "flyte", None, "merge")
    assert body["metadata"]["resourceVersion"] == "41"          # a conflicting edit is refused (409), not overwritten
    assert "resourceVersion" not in patch["metadata"]           # the caller's patch is left alone
    record = bk.read_record(writer.backups[0])
    assert record["kind"] == "Namespace" and record["object"]["metadata"]["labels"] == {"team": "ml"}
    assert oct(os.stat(writer.backups[0]).st_mode & 0o777) == "0o600"
    assert writer.changed == ["Namespace/-/flyte"]


def test_json_patches_get_no_resource_version():
    client = RecordingClient()
    apply.Writer(client).patch(dict(NAMESPACE), [{"op": "add", "path": "/x", "value": 1}], patch_type="json",
                               api_version="v1", kind="Namespace")
    assert client.calls[0][4] == [{"op": "add", "path": "/x", "value": 1}]


def test_create_records_the_object_as_absent(tmp_path):
    client = RecordingClient()
    writer = apply.Writer(client, backup_dir=str(tmp_path), run_id="run-1")
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "default-deny", "namespace": "flyte"}, "spec": {}}
    writer.create(policy)
    record = bk.read_record(writer.backups[0])
    assert record["absent"] and record["object"] is None and record["namespace"] == "flyte"
    assert client.calls[0][:4] == ("create", "NetworkPolicy", "default-deny", "flyte")


def test_check_mode_writes_no_backup(tmp_path):
    writer = apply.Writer(RecordingClient(), check_mode=True, backup_dir=str(tmp_path), run_id="run-1")
    writer.patch(NAMESPACE, {"metadata": {"labels": {"a": "b"}}}, api_version="v1", kind="Namespace")
    assert writer.backups == [] and os.listdir(str(tmp_path)) == []


def test_restore_order_namespaces_first_deletions_last():
    records = {
        ("apps/v1", "Deployment", "flyte", "flyteadmin"): {"kind": "Deployment"},
        ("v1", "Namespace", None, "flyte"): {"kind": "Namespace"},
        ("networking.k8s.io/v1", "NetworkPolicy", "flyte", "deny"): {"kind": "NetworkPolicy", "absent": True},
        ("v1", "ConfigMap", "flyte", "flyte-admin-base-config"): {"kind": "ConfigMap"},
    }
    ordered = [key[1] for key, _r in sorted(records.items(), key=flyte_restore.order)]
    assert ordered[0] == "Namespace" and ordered[-1] == "NetworkPolicy"


class MovingClient(RecordingClient):
    """Answers the first patch with 409, as the API server does when the object moved after it was read."""

    def __init__(self, fresh):
        super(MovingClient, self).__init__()
        self.fresh = fresh

    def patch(self, api_version, kind, name, namespace, body, patch_type="strategic"):
        if not [c for c in self.calls if c[0] == "patch"]:
            self.calls.append(("patch", kind, name, namespace, body, patch_type))
            raise k8s_utils.FlyteK8sError("conflict", 409, "Conflict")
        return super(MovingClient, self).patch(api_version, kind, name, namespace, body, patch_type)

    def get(self, api_version, kind, name, namespace=None):
        self.calls.append(("get", kind, name, namespace))
        return self.fresh


DEPLOYMENT = {"metadata": {"name": "flyteadmin", "namespace": "flyte", "resourceVersion": "7", "generation": 3},
              "spec": {"replicas": 1}, "status": {"observedGeneration": 2}}


def test_conflict_on_status_only_is_retried_with_the_new_version():
    fresh = {"metadata": {"name": "flyteadmin", "namespace": "flyte", "resourceVersion": "9", "generation": 3,
                          "annotations": {"deployment.kubernetes.io/revision": "4"}},
             "spec": {"replicas": 1}, "status": {"observedGeneration": 3}}
    client = MovingClient(fresh)
    apply.Writer(client).patch(DEPLOYMENT, {"spec": {"paused": False}}, patch_type="strategic",
                               api_version="apps/v1", kind="Deployment")
    patches = [c for c in client.calls if c[0] == "patch"]
    assert [p[4]["metadata"]["resourceVersion"] for p in patches] == ["7", "9"]


def test_conflict_on_content_is_not_overwritten():
    fresh = {"metadata": {"name": "flyteadmin", "namespace": "flyte", "resourceVersion": "9"}, "spec": {"replicas": 5}}
    client = MovingClient(fresh)
    with pytest.raises(k8s_utils.FlyteK8sError, match="changed since this run read it"):
        apply.Writer(client).patch(DEPLOYMENT, {"spec": {"paused": False}}, patch_type="strategic",
                                   api_version="apps/v1", kind="Deployment")
    assert len([c for c in client.calls if c[0] == "patch"]) == 1
