# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""harden-flyte.yml on several clusters at once, as in Flyte's multi-cluster setup (issue 9).

Two real local control planes: one runs the flyte-core control plane (chart rendered with
values-controlplane.yaml: flyteadmin, flyteconsole, datacatalog, scheduler), the other a data plane
(values-dataplane.yaml: flytepropeller and the pod webhook). A third inventory host points at an API
server that does not exist: it fails, the others are hardened anyway, and the summary reports all three.
"""
from __future__ import absolute_import, division, print_function

import json

import pytest
import yaml

from conftest import install_chart
from playbook import run_playbook

__metaclass__ = type

pytestmark = pytest.mark.integration
NAMESPACE = "mc-flyte"


def test_control_plane_data_plane_and_a_broken_cluster(cluster, second_cluster, tmp_path):
    from pathlib import Path
    install_chart(cluster, NAMESPACE, "flyte-core", ["values-eks.yaml", "values-controlplane.yaml"], tmp_path)
    install_chart(second_cluster, NAMESPACE, "flyte-core", ["values-eks.yaml", "values-dataplane.yaml"], tmp_path)
    broken = tmp_path / "broken.kubeconfig"
    broken.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "x", "user": {"token": "none"}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}]}))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"flyte_clusters": {"hosts": {
        "control": {"flytesec_kubeconfig": str(cluster.kubeconfig)},
        "data": {"flytesec_kubeconfig": str(second_cluster.kubeconfig)},
        "broken": {"flytesec_kubeconfig": str(broken)}}}}))
    reports = tmp_path / "reports"
    extra = {"flytesec_target_hosts": "flyte_clusters", "flytesec_namespace": NAMESPACE,
             "flytesec_state_root": str(tmp_path / "state"), "flytesec_pod_security": False, "flytesec_fleet_report_dir": str(reports),
             "cors_admin_url": "https://flyte-api.example.com",
             "cors_console_origins": ["https://flyte.example.com"]}
    result = run_playbook(Path(__file__).resolve().parents[2] / "playbooks" / "harden-flyte.yml", cluster.kubeconfig,
                          extra, inventory=inventory)
    assert result.rc != 0  # the broken cluster fails the run...
    assert result.failed("broken") == 1
    assert result.failed("control") == 0 and result.failed("data") == 0  # ...and not the others

    summaries = dict((s["cluster"], s) for s in json.loads(next(reports.glob("*-clusters.json")).read_text()))
    assert sorted(summaries) == ["broken", "control", "data"]
    assert summaries["control"]["status"] == "ok" and summaries["control"]["planes"] == ["control_plane"]
    assert summaries["data"]["status"] == "ok" and summaries["data"]["planes"] == ["data_plane"]
    assert summaries["broken"]["status"] == "failed" and "Preflight" in summaries["broken"]["error"]
    assert summaries["control"]["areas"]["rollout"]["restarted"] == ["Deployment/flyteadmin", "Deployment/flyteconsole"]
    assert summaries["data"]["areas"]["cors"]["ran"] is False  # no flyteadmin on a data plane

    admin = json.loads(cluster.kubectl("-n", NAMESPACE, "get", "configmap", "flyte-admin-base-config", "-o", "json").stdout)
    assert yaml.safe_load(admin["data"]["server.yaml"])["server"]["security"]["allowedOrigins"] == ["https://flyte.example.com"]
    # One run id for the whole run.
    assert len(set(s["run_id"] for s in summaries.values())) == 1


def test_split_install_gets_one_propeller_secret_verified_against_flyteadmin(cluster, second_cluster, tmp_path):
    """Issue 17: control plane and data plane on two clusters, authentication on. The control plane's run makes the
    propeller secret and flyteadmin's hash; the data plane's run takes that secret from the control plane's cluster
    (inside the module, never as a variable) and verifies it against the hash before writing it."""
    import base64
    from pathlib import Path
    import bcrypt
    install_chart(cluster, NAMESPACE, "flyte-core", ["values-eks.yaml", "values-controlplane.yaml"], tmp_path)
    install_chart(second_cluster, NAMESPACE, "flyte-core", ["values-eks.yaml", "values-dataplane.yaml"], tmp_path)
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"flyte_clusters": {"hosts": {
        "control": {"flytesec_kubeconfig": str(cluster.kubeconfig)},
        "data": {"flytesec_kubeconfig": str(second_cluster.kubeconfig)}}}}))
    reports = tmp_path / "reports"
    extra = {"flytesec_target_hosts": "flyte_clusters", "flytesec_namespace": NAMESPACE,
             "flytesec_state_root": str(tmp_path / "state"), "flytesec_pod_security": False,
             "flytesec_fleet_report_dir": str(reports),
             "auth_public_url": "https://flyte-api.example.com",
             "auth_oidc": {"base_url": "https://idp.example.com/realms/flyte", "client_id": "flyteadmin"},
             "auth_oidc_client_secret": "split-oidc-client-secret"}
    harden = Path(__file__).resolve().parents[2] / "playbooks" / "harden-flyte.yml"
    # --check first: the data plane cannot verify a secret the control plane has not written yet, and says so
    checked = run_playbook(harden, cluster.kubeconfig, extra, inventory=inventory, check=True, diff=True)
    assert checked.rc == 0, checked.stdout[-4000:]
    summaries = dict((s["cluster"], s) for s in json.loads(sorted(reports.glob("*-clusters.json"))[-1].read_text()))
    assert summaries["data"]["areas"]["auth"]["data_plane_secret_verified"] == "pending"
    assert summaries["data"]["check_mode"] and summaries["data"]["status"] == "ok"
    for report in reports.glob("*-clusters.json"):
        report.unlink()
    result = run_playbook(harden, cluster.kubeconfig, extra, inventory=inventory)
    assert result.rc == 0, result.stdout[-4000:]

    def secret(c):
        data = json.loads(c.kubectl("-n", NAMESPACE, "get", "secret", "flyte-secret-auth", "-o", "json").stdout)["data"]
        return base64.b64decode(data["client_secret"]).decode()
    control_secret, data_secret = secret(cluster), secret(second_cluster)
    assert data_secret == control_secret and data_secret != "foobar"
    server = yaml.safe_load(json.loads(cluster.kubectl("-n", NAMESPACE, "get", "configmap", "flyte-admin-base-config", "-o",
                                                       "json").stdout)["data"]["server.yaml"])
    stored = server["auth"]["appAuth"]["selfAuthServer"]["staticClients"]["flytepropeller"]["client_secret"]
    assert bcrypt.checkpw(data_secret.encode(), base64.b64decode(stored))
    summaries = dict((s["cluster"], s) for s in json.loads(sorted(reports.glob("*-clusters.json"))[-1].read_text()))
    assert summaries["data"]["areas"]["auth"]["data_plane_secret_verified"] == "true"
    assert "Deployment/flytepropeller" in summaries["data"]["areas"]["rollout"]["restarted"]
    assert data_secret not in result.stdout

    rerun = run_playbook(harden, cluster.kubeconfig, extra, inventory=inventory)
    assert rerun.rc == 0, rerun.stdout[-4000:]
    assert rerun.changed("control") == 0 and rerun.changed("data") == 0, \
        [(h, n) for h in ("control", "data") for n, r in rerun.tasks(h) if r.get("changed")]


def test_a_data_plane_alone_says_what_it_needs(second_cluster, tmp_path):
    """Without its control plane in the inventory and without auth_propeller_client_secret, a data plane's run stops
    before it writes a propeller secret, and says what to give (runs after the split test, on its data plane)."""
    from pathlib import Path
    extra = {"flytesec_namespace": NAMESPACE, "flytesec_state_root": str(tmp_path / "state"), "flytesec_pod_security": False,
             "flytesec_audit": False,
             "auth_public_url": "https://flyte-api.example.com",
             "auth_oidc": {"base_url": "https://idp.example.com/realms/flyte", "client_id": "flyteadmin"}}
    harden = Path(__file__).resolve().parents[2] / "playbooks" / "harden-flyte.yml"
    result = run_playbook(harden, second_cluster.kubeconfig, extra)
    assert result.rc != 0
    failed = [r for _n, r in result.tasks() if r.get("failed")]
    assert "list its control plane in the inventory" in json.dumps(failed[0].get("msg")), failed[0].get("msg")
