# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 17: an install shaped like Flyte's kustomize-based deployment, built from the upstream fixture. Every
ConfigMap is hash-suffixed and flyteadmin mounts its auth Secret under another name (flyte-admin-auth).
harden-flyte.yml, given only what a user would naturally set, must write where the workloads read: a plain run,
a rerun with changed=0, and a check-mode run that exits 0. It must create no Secret that nothing mounts.

The same holds for flyte-core rendered with the chart's GCP values (GCS, Workload Identity, nginx ingresses) and for
the full sandbox: flyte-binary with its bundled minio, PostgreSQL, docker registry and envoy proxy in one namespace.

Before that, on the fresh kustomize-shaped install: a bad value or a missing object in any area, the last one included, fails the run
in its plan pass with zero writes, as the API server's audit log shows."""
from __future__ import absolute_import, division, print_function

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import install_chart
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
NS = "variant-kustomize"
ADMIN = "flytesec-admin"
SUFFIX = "-k7h2m9f4bt"
VALUES = {"flytesec_namespace": NS,
          "cors_admin_url": "https://flyte-api.example.test",
          "cors_console_origins": ["https://flyte.example.test"],
          "auth_public_url": "https://flyte-api.example.test",
          "auth_oidc": {"base_url": "https://idp.example.test/realms/flyte", "client_id": "flyteadmin"},
          "auth_oidc_client_secret": "variant-oidc-client-secret"}


def _kustomized(docs):
    """Hash-suffix every ConfigMap and rename flyteadmin's auth Secret, following every reference."""
    configmaps = set(d["metadata"]["name"] for d in docs if d.get("kind") == "ConfigMap")
    renamed_secret = {"flyte-admin-secrets": "flyte-admin-auth"}
    for doc in docs:
        if doc.get("kind") == "ConfigMap":
            doc["metadata"]["name"] += SUFFIX
        if doc.get("kind") == "Secret" and doc["metadata"]["name"] in renamed_secret:
            doc["metadata"]["name"] = renamed_secret[doc["metadata"]["name"]]
        if doc.get("kind") != "Deployment":
            continue
        spec = doc["spec"]["template"]["spec"]
        for volume in spec.get("volumes") or []:
            refs = [volume["configMap"]] if volume.get("configMap") else []
            refs += [s["configMap"] for s in (volume.get("projected") or {}).get("sources") or [] if s.get("configMap")]
            for ref in refs:
                if ref.get("name") in configmaps:
                    ref["name"] += SUFFIX
            if (volume.get("secret") or {}).get("secretName") in renamed_secret:
                volume["secret"]["secretName"] = renamed_secret[volume["secret"]["secretName"]]
                volume["name"] = "auth-files"
        for container in (spec.get("initContainers") or []) + spec["containers"]:
            for source in container.get("envFrom") or []:
                if (source.get("configMapRef") or {}).get("name") in configmaps:
                    source["configMapRef"]["name"] += SUFFIX
            for mount in container.get("volumeMounts") or []:
                if mount["name"] == "admin-secrets":
                    mount["name"] = "auth-files"
            # the chart's generate-secrets init container names the Secret it creates
            container["args"] = [a.replace("--name flyte-admin-secrets", "--name flyte-admin-auth")
                                 for a in container.get("args") or []] or None
            if container["args"] is None:
                del container["args"]
    return docs


@pytest.fixture(scope="module")
def variant(cluster):
    fixtures = Path(os.environ.get("FLYTESEC_FIXTURES", str(ROOT.parent / "shared" / "fixtures")))
    rendered = subprocess.run([sys.executable, str(ROOT / "hack" / "cluster" / "flyte_manifests.py"),
                               str(fixtures / "flyte-v1.16.8" / "flyte-core-eks.yaml"), NS],
                              capture_output=True, text=True, check=True).stdout
    docs = _kustomized([d for d in yaml.safe_load_all(rendered) if d])
    cluster.kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=300s")
    cluster.kubectl("create", "namespace", NS)
    namespaced = [d for d in docs if d.get("metadata", {}).get("namespace") == NS]
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=kustomize", "-f", "-",
                    input=yaml.safe_dump_all(namespaced))
    cluster.kubectl("-n", NS, "wait", "--for=condition=Available", "deployment", "--all", "--timeout=300s")
    return NS


FAULTS = {
    # the last area: a bad value (role argument spec) and a missing object (the module reads it)
    "bad enforce level": ({"pod_security_enforce_level": "strict"}, "pod_security_enforce_level"),
    "missing workload": ({"pod_security_workloads": ["Deployment/flyteadmin", "Deployment/not-there"]}, "not-there"),
    # CORS comes after auth, which would write two Secrets and a ConfigMap before it
    "bad console origin": ({"cors_console_origins": ["flyte.example.test"]}, "flyte.example.test"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_failing_run_writes_nothing(cluster, kube, audit, variant, tmp_path, fault):
    extra, named = FAULTS[fault]
    values = dict(VALUES, flytesec_state_root=str(tmp_path / "state"), **extra)
    before = {s.metadata.name: s.metadata.resource_version
              for s in client.CoreV1Api(kube).list_namespaced_secret(NS).items}
    start = audit.mark()
    result = run_playbook(HARDEN, cluster.kubeconfig, values)
    assert result.rc != 0, result.stdout[-3000:]
    failure = [r for name, r in result.tasks() if name.endswith("Fail this cluster if its hardening failed")][0]["msg"]
    assert "planning, nothing written" in failure and named in failure, failure
    writes = audit.events(since=start, writes=True, dry_run=False, user=ADMIN)
    assert writes == [], ["%s %s" % (e["verb"], e["requestURI"]) for e in writes]
    after = {s.metadata.name: s.metadata.resource_version
             for s in client.CoreV1Api(kube).list_namespaced_secret(NS).items}
    assert after == before


def test_kustomize_shaped_install(cluster, kube, variant, tmp_path):
    values = dict(VALUES, flytesec_state_root=str(tmp_path / "state"))
    checked = run_playbook(HARDEN, cluster.kubeconfig, values, check=True, diff=True)
    assert checked.rc == 0, checked.stdout[-4000:]
    first = run_playbook(HARDEN, cluster.kubeconfig, values)
    assert first.rc == 0, first.stdout[-4000:]
    core = client.CoreV1Api(kube)
    server = yaml.safe_load(core.read_namespaced_config_map("flyte-admin-base-config" + SUFFIX, NS).data["server.yaml"])
    assert server["server"]["security"]["allowedOrigins"] == ["https://flyte.example.test"]
    assert server["server"]["security"]["useAuth"] is True
    auth = core.read_namespaced_secret("flyte-admin-auth", NS).data
    assert base64.b64decode(auth["oidc_client_secret"]).decode() == "variant-oidc-client-secret"
    assert set(auth) >= {"cookie_hash_key", "cookie_block_key", "claim_symmetric_key", "token_rsa_key.pem"}
    names = [s.metadata.name for s in core.list_namespaced_secret(NS).items]
    assert "flyte-admin-secrets" not in names   # nothing mounts it: never created
    propeller = yaml.safe_load(core.read_namespaced_config_map("flyte-propeller-config" + SUFFIX, NS).data["admin.yaml"])
    assert propeller["admin"]["authType"] == "ClientSecret"
    second = run_playbook(HARDEN, cluster.kubeconfig, values)
    assert second.rc == 0, second.stdout[-4000:]
    assert second.changed() == 0, [name for name, res in second.tasks() if res.get("changed")]


def _check_run_rerun(cluster, values):
    """What done means for an unseen install: --check --diff exits 0, a run passes, a rerun changes nothing."""
    checked = run_playbook(HARDEN, cluster.kubeconfig, values, check=True, diff=True)
    assert checked.rc == 0, checked.stdout[-4000:]
    first = run_playbook(HARDEN, cluster.kubeconfig, values)
    assert first.rc == 0, first.stdout[-4000:]
    second = run_playbook(HARDEN, cluster.kubeconfig, values)
    assert second.rc == 0, second.stdout[-4000:]
    assert second.changed() == 0, [name for name, res in second.tasks() if res.get("changed")]
    return first


GCP = "variant-gcp"
# the placeholders values-gcp.yaml asks its user to fill in
GCP_SETTINGS = {"userSettings.googleProjectId": "demo-project", "userSettings.dbHost": "10.1.2.3",
                "userSettings.dbPassword": "gcp-db-password", "userSettings.bucketName": "flyte-meta",
                "userSettings.rawDataBucketName": "flyte-raw", "userSettings.hostName": "flyte.example.test",
                # values-gcp.yaml requests more than the chart's default limits, which the API server refuses
                "flyteadmin.resources.limits.cpu": "500m", "flyteadmin.resources.limits.memory": "1G"}


def test_gcp_flyte_core(cluster, kube, tmp_path):
    install_chart(cluster, GCP, "flyte-core", ["values-gcp.yaml"], tmp_path, set_values=GCP_SETTINGS)
    values = dict(VALUES, flytesec_namespace=GCP, flytesec_state_root=str(tmp_path / "state"))
    _check_run_rerun(cluster, values)
    core = client.CoreV1Api(kube)
    server = yaml.safe_load(core.read_namespaced_config_map("flyte-admin-base-config", GCP).data["server.yaml"])
    assert server["server"]["security"]["allowedOrigins"] == ["https://flyte.example.test"]
    assert server["server"]["security"]["useAuth"] is True
    propeller = yaml.safe_load(core.read_namespaced_config_map("flyte-propeller-config", GCP).data["admin.yaml"])
    assert propeller["admin"]["authType"] == "ClientSecret"
    assert (core.read_namespace(GCP).metadata.labels or {}).get("pod-security.kubernetes.io/enforce") == "restricted"
    sa = core.read_namespaced_service_account("flyteadmin", GCP)   # Workload Identity left as it was
    assert sa.metadata.annotations["iam.gke.io/gcp-service-account"].startswith("gsa-flyteadmin@demo-project")


SANDBOX = "variant-sandbox"


def _bundled(name, image, kind="Deployment", port=None):
    """A bundled dependency of the flyte-sandbox chart as it ships: its image's user (often root), no securityContext."""
    container = {"name": name.rsplit("-", 1)[-1], "image": image}
    if port:
        container["ports"] = [{"containerPort": port}]
    spec = {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": SANDBOX}, "spec": spec}


BUNDLED = [_bundled("flyte-sandbox-minio", "bitnami/minio:2023.7.18-debian-11-r2", port=9000),
           _bundled("flyte-sandbox-postgresql", "bitnami/postgresql:15.1.0-debian-11-r20", "StatefulSet", 5432),
           _bundled("flyte-sandbox-docker-registry", "registry:sandbox", port=5000),
           _bundled("flyte-sandbox-proxy", "envoyproxy/envoy:sandbox", port=8000)]


def test_full_sandbox_with_bundled_dependencies(cluster, kube, tmp_path):
    fixtures = Path(os.environ.get("FLYTESEC_FIXTURES", str(ROOT.parent / "shared" / "fixtures")))
    rendered = subprocess.run([sys.executable, str(ROOT / "hack" / "cluster" / "flyte_manifests.py"),
                               str(fixtures / "flyte-v1.16.8" / "flyte-binary-sandbox.yaml"), SANDBOX],
                              capture_output=True, text=True, check=True).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d and d.get("metadata", {}).get("namespace") == SANDBOX]
    cluster.kubectl("delete", "namespace", SANDBOX, "--ignore-not-found", "--wait=true", "--timeout=300s")
    cluster.kubectl("create", "namespace", SANDBOX)
    cluster.kubectl("apply", "--server-side", "--field-manager=helm", "-f", "-", input=yaml.safe_dump_all(docs + BUNDLED))
    cluster.kubectl("-n", SANDBOX, "wait", "--for=condition=Available", "deployment", "--all", "--timeout=300s")
    cluster.kubectl("-n", SANDBOX, "rollout", "status", "statefulset/flyte-sandbox-postgresql", "--timeout=300s")
    # what the first run's message tells the user to set: harden the bundled dependencies too
    extra = ["%s/%s" % (d["kind"], d["metadata"]["name"]) for d in BUNDLED]
    # a sandbox user sets CORS for another console origin; the chart mounts no auth Secret without auth values
    values = {"flytesec_namespace": SANDBOX, "flytesec_state_root": str(tmp_path / "state"),
              "cors_admin_url": "http://localhost:30080",
              "cors_console_origins": ["http://localhost:30081"],
              "pod_security_extra_workloads": extra}
    _check_run_rerun(cluster, values)
    apps = client.AppsV1Api(kube)
    for kind, name in (w.split("/") for w in extra + ["Deployment/flyte-flyte-binary"]):
        read = apps.read_namespaced_stateful_set if kind == "StatefulSet" else apps.read_namespaced_deployment
        assert read(name, SANDBOX).spec.template.spec.security_context.run_as_non_root is True, name
    labels = client.CoreV1Api(kube).read_namespace(SANDBOX).metadata.labels or {}
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"
    config = client.CoreV1Api(kube).read_namespaced_config_map("flyte-flyte-binary-config", SANDBOX).data
    origins = [yaml.safe_load(text).get("server", {}).get("security", {}).get("allowedOrigins") for text in config.values()]
    assert ["http://localhost:30081"] in origins, origins
