# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 17: a Flyte namespace that also runs bundled dependencies (the sandbox's envoy with host ports, minio as
root). harden-flyte.yml's plan pass stops the run before any write, at once and without retrying, naming each
workload that is not Flyte's, its violations, whether a securityContext can fix it, and the choices. Each choice
is then taken as a user would: harden minio too, try baseline, move envoy out."""
from __future__ import absolute_import, division, print_function

import json
import time
from pathlib import Path

import pytest

from conftest import install_flyte
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration

HARDEN = Path(__file__).resolve().parents[2] / "playbooks" / "harden-flyte.yml"
NS = "bundled-core"
ADMIN = "flytesec-admin"

ENVOY = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "envoy"},
         "spec": {"selector": {"matchLabels": {"app": "envoy"}},
                  "template": {"metadata": {"labels": {"app": "envoy"}},
                               "spec": {"containers": [{"name": "envoy", "image": "envoyproxy/envoy:v1.31.0",
                                                        "ports": [{"containerPort": 8080, "hostPort": 80},
                                                                  {"containerPort": 8443, "hostPort": 443}]}]}}}}
MINIO = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "minio"},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "minio"}},
                  "template": {"metadata": {"labels": {"app": "minio"}},
                               "spec": {"containers": [{"name": "minio", "image": "minio/minio:RELEASE.2024-01-01T00-00-00Z"}]}}}}


def _failure(result):
    return json.dumps([r.get("msg") for _n, r in result.tasks() if r.get("failed")][:1])


def test_bundled_dependencies_stop_enforcement_with_choices(cluster, kube, audit, tmp_path):
    install_flyte(cluster, "flyte-core", NS)
    apps = client.AppsV1Api(kube)
    core = client.CoreV1Api(kube)
    apps.create_namespaced_daemon_set(NS, ENVOY)
    apps.create_namespaced_deployment(NS, MINIO)
    values = {"flytesec_namespace": NS, "flytesec_state_root": str(tmp_path)}

    # 1. The plan pass sees that enforce would reject envoy and minio: the run stops at once, nothing written.
    start = audit.mark()
    started = time.monotonic()
    result = run_playbook(HARDEN, cluster.kubeconfig, values)
    elapsed = time.monotonic() - started
    assert result.rc != 0
    message = _failure(result)
    assert "DaemonSet/envoy" in message and "hostPort" in message and "a securityContext cannot fix it" in message, message
    assert "Deployment/minio" in message and "a securityContext can fix it" in message, message
    assert "pod_security_extra_workloads" in message and "pod_security_enforce_level: baseline" in message, message
    assert "move it" in message, message
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []
    assert "pod-security.kubernetes.io/warn" not in (core.read_namespace(NS).metadata.labels or {})
    print("stopped %.0f s after the start (no 120 s of dry-run retries)" % elapsed)

    # 2. Harden minio too and enforce baseline: envoy's host ports break baseline as well, so again nothing written.
    values.update(pod_security_extra_workloads=["Deployment/minio"], pod_security_enforce_level="baseline")
    start = audit.mark()
    result = run_playbook(HARDEN, cluster.kubeconfig, values)
    assert result.rc != 0
    message = _failure(result)
    assert "DaemonSet/envoy" in message and "baseline" in message and "Deployment/minio" not in message, message
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []

    # 3. Move envoy out of the Flyte namespace: now restricted is enforced, with minio hardened beside Flyte.
    apps.delete_namespaced_daemon_set("envoy", NS)
    _wait_gone(core, "app=envoy")
    values.update(pod_security_enforce_level="restricted")
    result = run_playbook(HARDEN, cluster.kubeconfig, values)
    assert result.rc == 0, _failure(result)
    labels = core.read_namespace(NS).metadata.labels or {}
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"
    for name in ("flyteadmin", "minio"):
        assert apps.read_namespaced_deployment(name, NS).spec.template.spec.security_context.run_as_non_root is True
    again = run_playbook(HARDEN, cluster.kubeconfig, values)
    assert again.rc == 0 and again.changed() == 0, [n for n, r in again.tasks() if r.get("changed")]


def _wait_gone(core, selector, timeout=60):
    deadline = time.monotonic() + timeout
    while core.list_namespaced_pod(NS, label_selector=selector).items:
        assert time.monotonic() < deadline, "pods %s still there" % selector
        time.sleep(1)
