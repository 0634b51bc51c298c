# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_controls on the upstream flyte-core manifest: the expected findings, each justified."""
import datetime
import json

import pytest
import yaml

import upstream_manifests as um
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import audit_controls as ac

# Upstream flyte-core-eks (v1.16.8), per control, and why:
EXPECTED = {
    "FLYTE-PROJ-001",  # the Namespace template of the cluster resource templates carries no pod-security labels
    "FLYTE-PROJ-002",  # no NetworkPolicy template
    "FLYTE-PROJ-003",  # the default ServiceAccount template mounts a token
    "FLYTE-TASK-001",  # flytepropeller sets no default securityContext on task pods
    "FLYTE-PSS-001",   # every workload fails restricted (no seccomp; spc_t; propeller has no runAsNonRoot)
    "FLYTE-PSS-002",   # the namespace carries no pod-security labels
    "FLYTE-PSS-003",   # flyteadmin, datacatalog, flyteconsole, flytescheduler, webhook set seLinuxOptions type spc_t
    "FLYTE-PSS-004",   # flytepropeller and syncresources have no runAsNonRoot
    "FLYTE-PSS-005",   # no workload sets a seccomp profile
    "FLYTE-PSS-006",   # no container drops ALL capabilities
    "FLYTE-AUTH-001",  # server.yaml: useAuth false
    "FLYTE-AUTH-002",  # flyte-secret-auth client_secret is the chart default 'foobar'
    "FLYTE-CORS-001",  # allowedOrigins ['*']
    "FLYTE-NET-001",   # the manifest has no NetworkPolicy
    "FLYTE-IMG-001",   # images by tag (cr.flyte.org/...:v1.16.8)
    "FLYTE-TLS-001",   # the Ingresses have no tls section
}


def _objects():
    docs = um.load(um.CORE)
    for doc in docs:
        if doc.get("kind") == "Secret" and "stringData" in doc:
            import base64
            doc["data"] = dict((k, base64.b64encode(str(v).encode()).decode()) for k, v in (doc.pop("stringData") or {}).items())
    return docs + [{"kind": "Namespace", "metadata": {"name": "flyte", "labels": {}}}]


def test_upstream_findings_are_the_expected_ones():
    found = ac.evaluate(_objects(), "flyte")
    assert set(f["control"] for f in found) == EXPECTED
    assert all(f["cis"]["benchmark"] == ac.CIS and f["nist_800_53"] for f in found)
    assert "foobar" not in json.dumps(found)


def test_waivers_expiry_and_drift():
    found = ac.evaluate(_objects(), "flyte")
    waivers = [{"control": "FLYTE-IMG-001", "scope": "*", "justification": "immutable tags", "expiry": "2099-01-01"},
               {"control": "FLYTE-TLS-001", "scope": "*", "justification": "TLS at the load balancer", "expiry": "2000-01-01"}]
    ac.validate_waivers(waivers)
    open_, waived = ac.apply_waivers(found, waivers, today=datetime.date(2026, 11, 24))
    assert set(f["control"] for f in waived) == {"FLYTE-IMG-001"}
    assert "FLYTE-TLS-001" in set(f["control"] for f in open_)  # expired waiver: a finding again
    new, resolved = ac.drift(open_[1:], open_[:-1])
    assert new == [open_[0]] and resolved == [open_[-1]]


def test_report_formats():
    found = ac.evaluate(_objects(), "flyte")
    report = {"namespace": "flyte", "score": ac.score(found), "findings": found, "waived": [], "new": [], "resolved": []}
    assert json.loads(ac.to_sarif(report))["version"] == "2.1.0"
    import xml.dom.minidom
    assert xml.dom.minidom.parseString(ac.to_junit(report)).documentElement.getAttribute("failures") == str(len(EXPECTED))
    assert "<table>" in ac.to_html(report) and "| FLYTE-" in ac.to_markdown(report)


@pytest.mark.parametrize("text", [
    "storage:\n  stow:\n    config:\n      secret_key: miniostorage\n",
    "connection:\n  secret-key: miniostorage\n",
    "secretKey: \"abcdef123\"\n",
    "database:\n  postgres:\n    password: hunter2hunter2\n",
    "api_key=0123456789abcdef\n",
    "access-key: AKIAEXAMPLEKEY\n",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n",
    "{\"password\": \"s3cr3tvalue\"}",
])
def test_secret_like_values_are_found(text):
    assert ac.secret_like_values(text), text


@pytest.mark.parametrize("text", [
    "admin:\n  clientSecretLocation: /etc/secrets/client_secret\n",
    "database:\n  passwordPath: /etc/db/pass.txt\n",
    "webhook:\n  secretName: flyte-pod-webhook\n",
    "auth:\n  userAuth:\n    cookieHashKeySecretName: cookie_hash_key\n",
    "admin:\n  tokenUrl: https://idp.example.com/token\n",
    "secrets:\n  secrets-prefix: /etc/secrets\n  env-prefix: FLYTE_SECRET_\n",
    "awsSecretManager:\n  sidecarImage: docker.io/amazon/aws-secrets-manager-secret-sidecar:v0.1.4\n",
    "password: \"\"\n",
    "password: ${DB_PASSWORD}\n",
    "appAuth:\n  selfAuthServer:\n    accessTokenLifespan: 30m0s\n",
])
def test_pointers_to_secrets_are_not_secrets(text):
    assert ac.secret_like_values(text) == [], text


def _binary_objects():
    docs = um.load(um.BINARY)
    return docs + [{"kind": "Namespace", "metadata": {"name": "flyte", "labels": {}}}]


def test_flyte_binary_defaults_are_audited():
    """flyte-binary's config sets no server.security: Flyte's defaults apply (useAuth false, allowedOrigins ['*'])."""
    found = dict((f["control"], f) for f in ac.evaluate(_binary_objects(), "flyte"))
    assert "FLYTE-AUTH-001" in found and "FLYTE-CORS-001" in found
    assert found["FLYTE-CORS-001"]["object"].endswith("flyte-flyte-binary-config")


def test_renamed_configmaps_are_audited():
    """kustomize-hashed ConfigMap names: the effective configuration is found through the workloads' mounts."""
    docs = _objects()
    for doc in docs:
        if doc.get("kind") == "ConfigMap" and doc["metadata"]["name"] == "flyte-admin-base-config":
            doc["metadata"]["name"] = "flyte-admin-base-config-5h2k9"
        if doc.get("kind") == "Deployment":
            for volume in doc["spec"]["template"]["spec"].get("volumes") or []:
                for source in [volume.get("configMap") or {}] + [s.get("configMap") or {} for s in
                                                                 (volume.get("projected") or {}).get("sources") or []]:
                    if source.get("name") == "flyte-admin-base-config":
                        source["name"] = "flyte-admin-base-config-5h2k9"
    found = dict((f["control"], f) for f in ac.evaluate(docs, "flyte"))
    assert "FLYTE-AUTH-001" in found and found["FLYTE-CORS-001"]["object"].endswith("flyte-admin-base-config-5h2k9")


def test_jobs_and_bare_pods_are_audited():
    job = {"kind": "Job", "metadata": {"name": "contour-certgen", "namespace": "flyte"},
           "spec": {"template": {"spec": {"containers": [{"name": "certgen", "image": "envoyproxy/contour:v1"}]}}}}
    pod = {"kind": "Pod", "metadata": {"name": "debug", "namespace": "flyte"},
           "spec": {"containers": [{"name": "sh", "image": "busybox"}]}}
    found = [(f["control"], f["object"]) for f in ac.evaluate(_objects() + [job, pod], "flyte")]
    assert ("FLYTE-PSS-001", "Job/contour-certgen") in found or any(
        c == "FLYTE-PSS-001" and o.endswith("contour-certgen") for c, o in found), found
    assert any(c == "FLYTE-PSS-001" and o.endswith("debug") for c, o in found), found


def test_project_and_task_findings_go_once_the_templates_and_propeller_are_hardened():
    from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import project_templates as pt
    objects = _objects()
    templates = next(o for o in objects if o.get("kind") == "ConfigMap" and o["metadata"]["name"] == "clusterresource-template")
    changes, _summary = pt.plan(templates["data"], {"pod_security": {"enforce": "restricted", "warn": "restricted"},
                                                    "service_account_automount": False, "network": {}, "pod_template": True})
    templates["data"].update(changes)
    propeller = next(o for o in objects if o.get("kind") == "ConfigMap" and o["metadata"]["name"] == "flyte-propeller-config")
    k8s = yaml.safe_load(propeller["data"]["k8s.yaml"])
    k8s["plugins"]["k8s"].update({"default-pod-security-context": pt.POD_SECURITY_CONTEXT,
                                  "default-security-context": pt.CONTAINER_SECURITY_CONTEXT})
    propeller["data"]["k8s.yaml"] = yaml.safe_dump(k8s)
    controls = set(f["control"] for f in ac.evaluate(objects, "flyte"))
    assert not controls & {"FLYTE-PROJ-001", "FLYTE-PROJ-002", "FLYTE-PROJ-003", "FLYTE-TASK-001"}, controls
