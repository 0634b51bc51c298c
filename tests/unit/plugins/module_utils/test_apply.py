# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply.Writer: the one write path (backup or absent record first, resourceVersion precondition), and the order in
which flyte_restore undoes a run (Namespaces first, deletions last). A recording client stands in for the API."""
from __future__ import absolute_import, division, print_function

import os

from ansible_collections.flytesec.hardening.plugins.module_utils import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import backup as bk
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
