# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rollout_wait.wait_or_rollback against FakeClient (upstream flyte-core objects): when it waits, what a failure
puts back (pod templates, and only the consumed ConfigMaps and Secrets of this run's backups), the message."""
from __future__ import absolute_import, division, print_function

import copy
import os
import sys

import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout as ro
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout_wait as rw

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "modules"))
from fake_client import FakeClient  # noqa: E402  pylint: disable=wrong-import-position

__metaclass__ = type

OPTIONS = {"wait": True, "wait_timeout": 5, "wait_sleep": 1, "rollback_on_failure": True}
NS = "flyte"


def restart(client, writer, names):
    """Restart the Deployments ``names`` through the writer, as flyte_rollout does; return the Started list."""
    started = []
    for name in names:
        before = client.get("apps/v1", "Deployment", name, NS)
        writer.patch(before, ro.restart_patch("sha256:new", writer.run_id), patch_type="strategic")
        started.append(rw.Started("Deployment", name, before, {"workload": "Deployment/%s" % name}))
    return started


def edit_configmap(client, writer, name, key="edited"):
    """Change a ConfigMap through the writer (so this run has a backup of it); return its data before."""
    current = client.get("v1", "ConfigMap", name, NS)
    writer.patch(current, {"data": {key: "yes"}})
    return current["data"]


def template(client, name):
    return client.store[("Deployment", NS, name)]["spec"]["template"]


@pytest.fixture
def client():
    fake = FakeClient()
    fake.complete_rollouts()
    return fake


def test_nothing_is_waited_for_in_check_mode_without_wait_or_without_workloads(client):
    checked = apply.Writer(client, check_mode=True)
    client.check_mode = True
    started = restart(client, checked, ["flyteadmin"])
    client.fail_rollout("Deployment", "flyteadmin")
    reads = len(client.requests)
    assert rw.wait_or_rollback(client, checked, NS, started, OPTIONS) is None
    writer = apply.Writer(client)
    assert rw.wait_or_rollback(client, writer, NS, started, dict(OPTIONS, wait=False)) is None
    assert rw.wait_or_rollback(client, writer, NS, [], OPTIONS) is None
    assert len(client.requests) == reads and "rollout" not in started[0].entry


def test_complete_rollouts_return_none_and_mark_each_entry(client):
    writer = apply.Writer(client)
    started = restart(client, writer, ["flyteadmin", "flyteconsole"])
    assert rw.wait_or_rollback(client, writer, NS, started, OPTIONS) is None
    assert [s.entry["rollout"] for s in started] == ["complete", "complete"]
    assert all("reason" not in s.entry for s in started)


def test_a_failure_puts_back_every_template_and_this_runs_consumed_config(client, tmp_path):
    writer = apply.Writer(client, backup_dir=str(tmp_path), run_id="r1")
    admin_before = edit_configmap(client, writer, "flyte-admin-base-config")
    # consumed by no restarted workload: stays as the run left it
    edit_configmap(client, writer, "flyte-propeller-config")
    # changed by another run: not this run's to put back
    other = apply.Writer(client, backup_dir=str(tmp_path), run_id="r0")
    edit_configmap(client, other, "flyte-console-config", key="other-run")
    templates = dict((name, copy.deepcopy(template(client, name))) for name in ("flyteadmin", "flyteconsole"))
    started = restart(client, writer, ["flyteadmin", "flyteconsole"])
    client.fail_rollout("Deployment", "flyteadmin", message="pods \"flyteadmin-x\" is forbidden: violates PodSecurity")

    msg, rolled_back = rw.wait_or_rollback(client, writer, NS, started, OPTIONS)

    assert rolled_back == ["ConfigMap/flyte-admin-base-config", "Deployment/flyteadmin", "Deployment/flyteconsole"]
    assert msg == ("rollout failed: Deployment/flyteadmin: FailedCreate: pods \"flyteadmin-x\" is forbidden: violates "
                   "PodSecurity; rolled back ConfigMap/flyte-admin-base-config, Deployment/flyteadmin, Deployment/flyteconsole")
    assert [s.entry["rollout"] for s in started] == ["failed", "complete"]
    assert started[0].entry["reason"].startswith("FailedCreate: ")
    for name, before in templates.items():
        assert template(client, name) == before, name
    assert client.store[("ConfigMap", NS, "flyte-admin-base-config")]["data"] == admin_before
    assert client.store[("ConfigMap", NS, "flyte-propeller-config")]["data"]["edited"] == "yes"
    assert client.store[("ConfigMap", NS, "flyte-console-config")]["data"]["other-run"] == "yes"
    rollback = [w for w in client.writes() if w["patch_type"] in ("json", "merge")][-3:]
    assert [(w["kind"], w["patch_type"]) for w in rollback] == [
        ("ConfigMap", "merge"), ("Deployment", "json"), ("Deployment", "json")]


def test_without_rollback_on_failure_nothing_is_put_back(client, tmp_path):
    writer = apply.Writer(client, backup_dir=str(tmp_path), run_id="r1")
    edit_configmap(client, writer, "flyte-admin-base-config")
    started = restart(client, writer, ["flyteadmin"])
    client.fail_rollout("Deployment", "flyteadmin")
    writes = len(client.writes())
    msg, rolled_back = rw.wait_or_rollback(client, writer, NS, started, dict(OPTIONS, rollback_on_failure=False))
    assert rolled_back == [] and msg == "rollout failed: Deployment/flyteadmin: FailedCreate: pods is forbidden: violates PodSecurity"
    assert len(client.writes()) == writes


def test_a_timeout_is_a_failure(client):
    client.default_rollout = None   # the fixture's Deployments have no status: never rolled out
    writer = apply.Writer(client)
    started = restart(client, writer, ["flyteconsole"])
    msg, rolled_back = rw.wait_or_rollback(client, writer, NS, started, dict(OPTIONS, wait_timeout=0))
    assert msg.startswith("rollout failed: Deployment/flyteconsole: timed out after 0s: 0 of 2 updated replicas")
    assert rolled_back == ["Deployment/flyteconsole"] and started[0].entry["rollout"] == "failed"


def test_the_rollback_goes_on_past_an_error_and_says_so(client, tmp_path):
    writer = apply.Writer(client, backup_dir=str(tmp_path), run_id="r1")
    started = restart(client, writer, ["flyteadmin", "flyteconsole"])
    client.fail_rollout("Deployment", "flyteconsole")
    real_patch = client.patch

    def refuse_flyteadmin(api_version, kind, name, namespace, body, patch_type="strategic"):
        if name == "flyteadmin" and patch_type == "json":
            raise k8s_utils.FlyteK8sError("patch Deployment flyte/flyteadmin failed: Forbidden", 403, "Forbidden")
        return real_patch(api_version, kind, name, namespace, body, patch_type)
    client.patch = refuse_flyteadmin
    msg, rolled_back = rw.wait_or_rollback(client, writer, NS, started, OPTIONS)
    assert rolled_back == ["Deployment/flyteconsole"]
    assert msg == ("rollout failed: Deployment/flyteconsole: FailedCreate: pods is forbidden: violates PodSecurity; "
                   "rollback of Deployment/flyteadmin failed: patch Deployment flyte/flyteadmin failed: Forbidden; "
                   "rolled back Deployment/flyteconsole")


def test_records_of_created_objects_and_unrestorable_ones_are_left_alone(client, tmp_path):
    writer = apply.Writer(client, backup_dir=str(tmp_path), run_id="r1")
    started = restart(client, writer, ["flyteadmin"])
    bk.write_record(str(tmp_path), bk.absent_record("v1", "ConfigMap", "flyte-admin-base-config", NS, run_id="r1"))
    secret = client.get("v1", "Secret", "flyte-admin-secrets", NS)
    bk.write_record(str(tmp_path), bk.make_record(secret, run_id="r1", omit_secret_data=True))
    rolled_back, errors = rw.rollback(client, NS, started, str(tmp_path), "r1")
    assert rolled_back == ["Deployment/flyteadmin"] and errors == []
    assert ("ConfigMap", NS, "flyte-admin-base-config") in client.store


def test_consumed_inputs_reads_the_template_before_the_change(client):
    before = client.get("apps/v1", "Deployment", "flyteconsole", NS)
    assert rw.consumed_inputs([rw.Started("Deployment", "flyteconsole", before, {})]) == {("ConfigMap", "flyte-console-config")}
