# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 17: an install shaped like Flyte's kustomize-based deployment, built from the upstream fixture. Every
ConfigMap is hash-suffixed and flyteadmin mounts its auth Secret under another name (flyte-admin-auth).
harden-flyte.yml, given only what a user would naturally set, must write where the workloads read: a plain run,
a rerun with changed=0, and a check-mode run that exits 0. It must create no Secret that nothing mounts."""
from __future__ import absolute_import, division, print_function

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
NS = "variant-kustomize"
SUFFIX = "-k7h2m9f4bt"
VALUES = {"flytesec_namespace": NS,
          "admin_console_config_admin_url": "https://flyte-api.example.test",
          "admin_console_config_console_origins": ["https://flyte.example.test"],
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
