# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 17: a Flyte namespace that also runs bundled dependencies (the sandbox's envoy with host ports, minio as
root). harden-flyte.yml hardens Flyte's workloads, then stops before enforcing, at once and without retrying,
naming each workload that is not Flyte's, its violations, whether a securityContext can fix it, and the choices."""
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


def test_bundled_dependencies_stop_enforcement_with_choices(cluster, kube, tmp_path):
    install_flyte(cluster, "flyte-core", NS)
    apps = client.AppsV1Api(kube)
    apps.create_namespaced_daemon_set(NS, ENVOY)
    apps.create_namespaced_deployment(NS, MINIO)
    started = time.monotonic()
    result = run_playbook(HARDEN, cluster.kubeconfig, {"flytesec_namespace": NS, "flytesec_state_root": str(tmp_path)})
    elapsed = time.monotonic() - started
    assert result.rc != 0
    failed = [r for _n, r in result.tasks() if r.get("failed")]
    message = json.dumps(failed[0].get("msg"))
    assert "DaemonSet/envoy" in message and "hostPort" in message and "a securityContext cannot fix it" in message, message
    assert "Deployment/minio" in message and "a securityContext can fix it" in message, message
    assert "pod_security_enforce_level: baseline" in message and "move it" in message, message
    labels = client.CoreV1Api(kube).read_namespace(NS).metadata.labels or {}
    assert "pod-security.kubernetes.io/enforce" not in labels
    # Flyte's own workloads were hardened all the same (warn/audit set, securityContexts patched)
    assert labels.get("pod-security.kubernetes.io/warn") == "restricted"
    admin = apps.read_namespaced_deployment("flyteadmin", NS).spec.template.spec
    assert admin.security_context.run_as_non_root is True
    print("stopped %.0f s after the start (no 120 s of dry-run retries)" % elapsed)
