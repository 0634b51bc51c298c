# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""service_mesh, admission_policies and ingress_tls on the real API server (issue 10).

Without the CRDs the mesh and admission roles skip with a message and change nothing. With the real
CRDs (Istio's from the istio.io/api module, Kyverno's and Gatekeeper's from their modules, via
hack/policy-crds.sh) the API server must accept every object, which is read back; pruned fields would
show. Reruns make no write request (audit log), check mode creates nothing. Neither Istio, Kyverno nor
Gatekeeper controllers run here, so no traffic or admission decision is tested: only what the API
server stores.
"""
from __future__ import absolute_import, division, print_function

import json
import subprocess
from pathlib import Path

import pytest

from conftest import install_flyte
from playbook import run_playbook

__metaclass__ = type

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLAYBOOK = HERE / "playbooks" / "guardrail.yml"
ADMIN = "flytesec-admin"
CORE, BINARY = "guard-core", "guard-binary"


def _crd_file(engine):
    out = subprocess.run(["bash", str(ROOT / "hack" / "policy-crds.sh"), engine], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def _get(cluster, *args):
    proc = cluster.kubectl(*(list(args) + ["-o", "json"]), check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else None


def _run(cluster, role, extra=None, **kw):
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, dict(extra or {}, guard_role=role), **kw)
    assert result.rc == 0, result.stdout[-4000:]
    return result


def _messages(result):
    return " ".join(str(r.get("msg", "")) for _name, r in result.tasks())


@pytest.fixture(scope="module")
def flyte_pair(cluster):
    for engine in ("istio", "kyverno", "gatekeeper"):  # start without them
        cluster.kubectl("delete", "--ignore-not-found", "-f", _crd_file(engine), check=False)
    install_flyte(cluster, "flyte-core", CORE)
    install_flyte(cluster, "flyte-binary", BINARY)
    yield
    for engine in ("istio", "kyverno", "gatekeeper"):
        cluster.kubectl("delete", "--ignore-not-found", "--wait=false", "-f", _crd_file(engine), check=False)


DIGEST = "cr.flyte.org/flyteorg/flyteadmin@sha256:" + "a" * 64
HARDENED = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}


def _pod(image, security):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "flyteadmin", "namespace": CORE},
            "spec": {"containers": [{"name": "flyteadmin", "image": image, "securityContext": security}],
                     "initContainers": [{"name": "migrate", "image": image, "securityContext": security}]}}


PODS = {"hardened": _pod(DIGEST, HARDENED),
        "privileged": _pod("cr.flyte.org/flyteorg/flyteadmin:v1.16.8", {"privileged": True}),
        "by_tag": dict(_pod("cr.flyte.org/flyteorg/flyteadmin:v1.16.8", HARDENED), spec={
            "containers": [{"name": "flyteadmin", "image": "cr.flyte.org/flyteorg/flyteadmin:v1.16.8", "securityContext": HARDENED}]})}


def _policy_cli(name):
    out = subprocess.run(["bash", str(ROOT / "hack" / "policy-clis.sh"), name], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def _established(cluster, names):
    import time
    deadline = time.monotonic() + 120
    for name in names:  # kubectl wait fails at once while a new CRD has no status yet
        while True:
            crd = _get(cluster, "get", "crd", name) or {}
            if any(c["type"] == "Established" and c["status"] == "True" for c in (crd.get("status") or {}).get("conditions") or []):
                break
            assert time.monotonic() < deadline, "CRD %s not established" % name
            time.sleep(0.5)


def _install_crds(cluster, engine):
    path = _crd_file(engine)
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", path)
    import yaml
    with open(path) as handle:
        _established(cluster, [d["metadata"]["name"] for d in yaml.safe_load_all(handle) if d])


def test_skip_cleanly_without_the_crds(cluster, audit, flyte_pair):
    start = audit.mark()
    mesh = _run(cluster, "service_mesh", {"service_mesh_namespace": CORE})
    assert mesh.changed() == 0 and "Skipping service_mesh: Istio's CRDs" in _messages(mesh)
    adm = _run(cluster, "admission_policies", {"admission_policies_namespaces": [CORE]})
    assert adm.changed() == 0 and "neither Kyverno nor Gatekeeper is installed" in _messages(adm)
    assert audit.events(since=start, writes=True, user=ADMIN) == []


def test_service_mesh_both_layouts(cluster, audit, flyte_pair):
    _install_crds(cluster, "istio")
    # Check mode first: nothing is created.
    _run(cluster, "service_mesh", {"service_mesh_namespace": CORE}, check=True)
    assert _get(cluster, "-n", CORE, "get", "peerauthentications.security.istio.io", "default") is None

    _run(cluster, "service_mesh", {"service_mesh_namespace": CORE})
    strict = _get(cluster, "-n", CORE, "get", "peerauthentications.security.istio.io", "default")
    assert strict["spec"] == {"mtls": {"mode": "STRICT"}}
    webhook = _get(cluster, "-n", CORE, "get", "peerauthentications.security.istio.io", "flyte-pod-webhook")
    assert webhook["spec"]["selector"]["matchLabels"] == {"app": "flyte-pod-webhook"}
    assert webhook["spec"]["portLevelMtls"] == {"9443": {"mode": "PERMISSIVE"}}
    rule = _get(cluster, "-n", CORE, "get", "destinationrules.networking.istio.io", "flyteadmin")
    assert rule["spec"]["host"] == "flyteadmin.%s.svc.cluster.local" % CORE
    assert rule["spec"]["trafficPolicy"]["tls"] == {"mode": "ISTIO_MUTUAL"}
    assert rule["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"] == 5
    assert rule["spec"]["trafficPolicy"]["connectionPool"]["http"]["http1MaxPendingRequests"] == 1000
    rules = _get(cluster, "-n", CORE, "get", "destinationrules.networking.istio.io")["items"]
    assert [r["metadata"]["name"] for r in rules] == ["flyteadmin"]  # not datacatalog, console or the webhook
    policy = _get(cluster, "-n", CORE, "get", "authorizationpolicies.security.istio.io", "flyteadmin")
    assert policy["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "flyteadmin"}
    principals = policy["spec"]["rules"][0]["from"][0]["source"]["principals"]
    assert "cluster.local/ns/%s/sa/flytepropeller" % CORE in principals
    assert "cluster.local/ns/%s/sa/flyteconsole" % CORE in principals
    assert len(policy["spec"]["rules"]) == 1

    _run(cluster, "service_mesh", {"service_mesh_namespace": BINARY, "service_mesh_layout": "flyte-binary"})
    names = sorted(r["metadata"]["name"] for r in _get(cluster, "-n", BINARY, "get", "destinationrules.networking.istio.io")["items"])
    assert names == ["flyte-flyte-binary-grpc", "flyte-flyte-binary-http"]
    policy = _get(cluster, "-n", BINARY, "get", "authorizationpolicies.security.istio.io", "flyteadmin")
    assert policy["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "flyte-binary"}
    assert policy["spec"]["rules"][1] == {"to": [{"operation": {"ports": ["9443"]}}]}

    start = audit.mark()
    for ns, layout in ((CORE, "flyte-core"), (BINARY, "flyte-binary")):
        again = _run(cluster, "service_mesh", {"service_mesh_namespace": ns, "service_mesh_layout": layout})
        assert again.changed() == 0, [(n, r) for n, r in again.tasks() if r.get("changed")]
    assert audit.events(since=start, writes=True, user=ADMIN) == []


def test_admission_policies_kyverno(cluster, audit, flyte_pair, tmp_path):
    _install_crds(cluster, "kyverno")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(tmp_path / "k")], check=True)
    pub = subprocess.run(["openssl", "ec", "-in", str(tmp_path / "k"), "-pubout"], capture_output=True, text=True, check=True).stdout
    extra = {"admission_policies_namespaces": [CORE, BINARY], "admission_policies_cosign_public_key": pub}
    _run(cluster, "admission_policies", extra, check=True)
    assert _get(cluster, "get", "clusterpolicies.kyverno.io", "flyte-disallow-privileged") is None

    _run(cluster, "admission_policies", extra)
    priv = _get(cluster, "get", "clusterpolicies.kyverno.io", "flyte-disallow-privileged")
    rule = priv["spec"]["rules"][0]
    assert rule["match"]["any"][0]["resources"]["namespaces"] == [CORE, BINARY]
    assert rule["validate"]["failureAction"] == "Audit"  # stored, not pruned
    assert rule["validate"]["pattern"]["spec"]["=(initContainers)"][0]["securityContext"]["allowPrivilegeEscalation"] == "false"
    digest = _get(cluster, "get", "clusterpolicies.kyverno.io", "flyte-require-image-digest")
    assert digest["spec"]["rules"][0]["validate"]["pattern"]["spec"]["containers"][0]["image"] == "*@sha256:*"
    signed = _get(cluster, "get", "clusterpolicies.kyverno.io", "flyte-verify-images")
    verify = signed["spec"]["rules"][0]["verifyImages"][0]
    assert verify["attestors"][0]["entries"][0]["keys"]["publicKeys"].strip() == pub.strip()
    assert verify["mutateDigest"] is False and verify["verifyDigest"] is True and verify["required"] is True

    start = audit.mark()
    again = _run(cluster, "admission_policies", extra)
    assert again.changed() == 0
    assert audit.events(since=start, writes=True, user=ADMIN) == []

    # The real Kyverno engine (its CLI, hack/policy-clis.sh) on the stored policies: a privileged pod and one by tag
    # fail, a hardened pod by digest passes. (verifyImages would fetch signatures from a registry: not run here.)
    stored = tmp_path / "kyverno-policies.yaml"
    stored.write_text(cluster.kubectl("get", "clusterpolicies.kyverno.io", "flyte-disallow-privileged",
                                      "flyte-require-image-digest", "-o", "yaml").stdout)
    kyverno = _policy_cli("kyverno")
    verdicts = {}
    for name, pod in PODS.items():
        (tmp_path / (name + ".yaml")).write_text(json.dumps(pod))
        out = subprocess.run([kyverno, "apply", str(stored), "--resource", str(tmp_path / (name + ".yaml"))],
                             capture_output=True, text=True, check=False)
        verdicts[name] = out.stdout + out.stderr
    assert "fail: 0" in verdicts["hardened"] and "pass: 2" in verdicts["hardened"], verdicts["hardened"]
    assert "fail: 2" in verdicts["privileged"], verdicts["privileged"]
    assert "fail: 1" in verdicts["by_tag"] and "flyte-require-image-digest" in verdicts["by_tag"], verdicts["by_tag"]
    cluster.kubectl("delete", "clusterpolicies.kyverno.io", "-l", "app.kubernetes.io/managed-by=flytesec.hardening")
    cluster.kubectl("delete", "-f", _crd_file("kyverno"))


def test_admission_policies_gatekeeper(cluster, audit, flyte_pair, tmp_path):
    for plural in ("k8sflyteprivileged", "k8sflyteimagedigests"):  # left by an interrupted run
        cluster.kubectl("delete", "--ignore-not-found", "crd", "%s.constraints.gatekeeper.sh" % plural)
    _install_crds(cluster, "gatekeeper")
    extra = {"admission_policies_namespaces": [CORE], "admission_policies_engine": "gatekeeper"}
    first = _run(cluster, "admission_policies", extra)
    for name in ("k8sflyteprivileged", "k8sflyteimagedigests"):
        template = _get(cluster, "get", "constrainttemplates.templates.gatekeeper.sh", name)
        assert "violation[" in template["spec"]["targets"][0]["rego"]
    # No Gatekeeper controller runs here, so the constraint kinds do not exist yet: the role says so.
    assert "has not yet created the constraint kinds" in _messages(first)
    assert "Gatekeeper cannot verify image signatures" in _messages(first)
    start = audit.mark()
    assert _run(cluster, "admission_policies", extra).changed() == 0
    assert audit.events(since=start, writes=True, user=ADMIN) == []

    # Play Gatekeeper's controller: create the constraint kinds it would generate from the templates.
    kinds = {"K8sFlytePrivileged": "k8sflyteprivileged", "K8sFlyteImageDigests": "k8sflyteimagedigests"}
    for kind, plural in kinds.items():
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "%s.constraints.gatekeeper.sh" % plural},
               "spec": {"group": "constraints.gatekeeper.sh", "scope": "Cluster",
                        "names": {"kind": kind, "plural": plural, "listKind": kind + "List", "singular": plural},
                        "versions": [{"name": "v1beta1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                            "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
        cluster.kubectl("apply", "-f", "-", input=json.dumps(crd))
        _established(cluster, ["%s.constraints.gatekeeper.sh" % plural])
    _run(cluster, "admission_policies", extra)
    constraint = _get(cluster, "get", "k8sflyteprivileged.constraints.gatekeeper.sh", "flyte")
    assert constraint["spec"]["enforcementAction"] == "dryrun"
    assert constraint["spec"]["match"]["namespaces"] == [CORE]

    # The real Gatekeeper engine (gator, hack/policy-clis.sh) on the stored templates and constraints.
    stored = tmp_path / "gatekeeper.yaml"
    listed = json.loads(cluster.kubectl("get", "constrainttemplates.templates.gatekeeper.sh,k8sflyteprivileged,k8sflyteimagedigests",
                                        "-o", "json").stdout)["items"]
    stored.write_text("\n---\n".join(json.dumps(item) for item in listed))  # gator reads documents, not a List
    gator = _policy_cli("gator")
    verdicts = {}
    for name, pod in PODS.items():
        (tmp_path / (name + ".yaml")).write_text(json.dumps(pod))
        out = subprocess.run([gator, "test", "--filename", str(stored), "--filename", str(tmp_path / (name + ".yaml")),
                              "--output", "json"], capture_output=True, text=True, check=False)
        verdicts[name] = json.loads(out.stdout or "null") or []
    assert verdicts["hardened"] == [], verdicts["hardened"]
    messages = " ".join(v["msg"] for v in verdicts["privileged"])
    assert "is privileged" in messages and "allowPrivilegeEscalation" in messages and "not referenced by digest" in messages
    assert [v["msg"] for v in verdicts["by_tag"]] == ["container flyteadmin: image cr.flyte.org/flyteorg/flyteadmin:v1.16.8 is not referenced by digest"]
    for plural in kinds.values():
        cluster.kubectl("delete", "crd", "%s.constraints.gatekeeper.sh" % plural)


def test_ingress_tls(cluster, audit, scratch_namespace):
    def ingress(name, rules, tls=None):
        spec = {"rules": [{"host": h, "http": {"paths": [{"path": p, "pathType": "Prefix", "backend": {
            "service": {"name": svc, "port": {"number": 80}}}} for p, svc in (("/console", "flyteconsole"), ("/api", "flyteadmin"))]}}
            for h in rules]}
        if tls:
            spec["tls"] = tls
        body = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": name, "namespace": scratch_namespace},
                "spec": spec}
        cluster.kubectl("apply", "-f", "-", input=json.dumps(body))
    ingress("flyte-core-http", ["flyte.example.com", "grpc.flyte.example.com"], [{"hosts": ["flyte.example.com"], "secretName": "own"}])
    ingress("flyte-core-grpc", ["flyte.example.com"], [{"hosts": ["flyte.example.com"], "secretName": "own"}])
    base = {"ingress_tls_namespace": scratch_namespace, "ingress_tls_issuer": "letsencrypt"}

    start = audit.mark()
    report = _run(cluster, "ingress_tls", dict(base, ingress_tls_enforce=False))
    assert report.changed() == 0 and "grpc.flyte.example.com" in _messages(report)
    checked = _run(cluster, "ingress_tls", base, check=True)
    assert checked.changed() > 0
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []  # check mode: dry runs only

    _run(cluster, "ingress_tls", base)
    http = _get(cluster, "-n", scratch_namespace, "get", "ingress", "flyte-core-http")
    assert http["spec"]["tls"] == [{"hosts": ["flyte.example.com"], "secretName": "own"},
                                   {"hosts": ["grpc.flyte.example.com"], "secretName": "flyte-core-http-tls"}]
    assert http["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    grpc = _get(cluster, "-n", scratch_namespace, "get", "ingress", "flyte-core-grpc")
    assert grpc["spec"]["tls"] == [{"hosts": ["flyte.example.com"], "secretName": "own"}]  # only annotated
    assert grpc["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"

    start = audit.mark()
    again = _run(cluster, "ingress_tls", base)
    assert again.changed() == 0 and "Every Flyte Ingress host has TLS" in _messages(again)
    assert audit.events(since=start, writes=True, user=ADMIN) == []
