# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit against an independent scanner, and its HTML report in a real browser (issue 11).

Upstream Flyte (flyte-core and flyte-binary) is installed on the real local cluster and audited by the
audit role. Then:
- checkov (PyPI, its own venv: hack/checkov.sh) scans the live manifests exported from the API server.
  Every failed checkov check on a Flyte object is either mapped to one of our controls, and then our
  audit has that finding on the same object, or listed in DISAGREEMENTS with the reason. An unknown
  check id fails the test, so a new checkov rule gets a decision. docs/audit-checkov.md has both tables.
- The HTML report opens in headless Chromium (Debian's, installed by hack/system-deps.sh): the DOM it
  renders holds the score and the findings, the page loads nothing from outside, and a screenshot is
  kept (build/report-screenshot.png).
"""
from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
import yaml

from conftest import install_flyte
from playbook import run_playbook

__metaclass__ = type

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
AUDIT = HERE / "playbooks" / "audit.yml"
LAYOUTS = {"xcheck-core": "flyte-core", "xcheck-binary": "flyte-binary"}

# checkov check -> our control: checkov failing it on an object means our audit reports that control there
# (on the same object, or on the object's namespace for the namespace-wide controls in NAMESPACE_WIDE).
NAMESPACE_WIDE = {"FLYTE-NET-001"}
CHECKOV_TO_FLYTE = {
    "CKV2_K8S_6": "FLYTE-NET-001",   # pod with no NetworkPolicy: ours is one finding on the namespace
    "CKV_K8S_20": "FLYTE-PSS-001",   # allowPrivilegeEscalation not false
    "CKV_K8S_23": "FLYTE-PSS-004",   # admission of root containers (runAsNonRoot)
    "CKV_K8S_28": "FLYTE-PSS-006",   # NET_RAW not dropped
    "CKV_K8S_31": "FLYTE-PSS-005",   # seccomp not RuntimeDefault/docker/default
    "CKV_K8S_37": "FLYTE-PSS-006",   # capabilities not dropped (ALL)
    "CKV_K8S_43": "FLYTE-IMG-001",   # image not by digest
    "CKV_K8S_49": "FLYTE-RBAC-001",  # wildcard in a Role/ClusterRole
    "CKV_K8S_156": "FLYTE-RBAC-001",  # approve CSRs, bind, escalate: here only through the wildcard rules
    "CKV_K8S_157": "FLYTE-RBAC-001",
    "CKV_K8S_158": "FLYTE-RBAC-001",
    # graph checks on a binding: escalation, impersonation, reading all secrets, all through a wildcard role
    "CKV2_K8S_1": "FLYTE-RBAC-001",
    "CKV2_K8S_3": "FLYTE-RBAC-001",
    "CKV2_K8S_5": "FLYTE-RBAC-001",
}
# checkov checks we do not report, each with the reason.
DISAGREEMENTS = {
    "CKV_K8S_8": "liveness probe: availability, not a hardening control of this collection",
    "CKV_K8S_9": "readiness probe: availability, not a hardening control",
    "CKV_K8S_10": "CPU requests: capacity planning; the charts' values set them",
    "CKV_K8S_11": "CPU limits: capacity planning, not security hardening",
    "CKV_K8S_12": "memory requests: capacity planning",
    "CKV_K8S_13": "memory limits: capacity planning",
    "CKV_K8S_14": "image tag 'latest' or none: FLYTE-IMG-001 asks for digests, which is stricter",
    "CKV_K8S_15": "imagePullPolicy Always: with digests (FLYTE-IMG-001) the pull policy adds nothing",
    "CKV_K8S_21": "default namespace: Flyte runs in its own namespaces; the exported objects carry theirs",
    "CKV_K8S_22": "read-only root filesystem: not in Pod Security 'restricted'; flyteadmin and the console write to "
                  "their filesystem, so forcing it breaks them",
    "CKV_K8S_29": "pod-level securityContext missing: our controls check the effective settings per container "
                  "(FLYTE-PSS-001..006), which is what PSA checks",
    "CKV_K8S_30": "container-level securityContext missing: same as CKV_K8S_29",
    "CKV_K8S_35": "secrets as environment variables: Flyte mounts its auth secrets as files; the env vars checkov "
                  "sees are the chart's (none carry a secret value, which FLYTE-SEC-001 checks in ConfigMaps)",
    "CKV_K8S_38": "service account token mounted: flyteadmin, propeller, the scheduler and the webhook call the API",
    "CKV_K8S_155": "control over admission webhook configurations: Flyte's pod webhook registers its own "
                   "MutatingWebhookConfiguration, so its ClusterRole needs it (not a wildcard, so no FLYTE-RBAC-001)",
    "CKV_K8S_41": "the namespace's default ServiceAccount: created by Kubernetes, used by no Flyte control-plane "
                  "workload (each has its own); task pods' service accounts are the project namespaces' concern",
    "CKV_K8S_40": "UID >= 10000: Pod Security 'restricted' requires non-root, not a high UID; the charts run Flyte "
                  "as UID 1000/1001 (and 65534), which PSA accepts",
}
STRIP = ("status",)
STRIP_META = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink")


def _export(cluster, namespace, out):
    """The live objects of ``namespace`` (and the cluster RBAC bound to its service accounts) as YAML files."""
    kinds = "deployments,statefulsets,daemonsets,cronjobs,jobs,services,serviceaccounts,roles,rolebindings,ingresses,networkpolicies"
    items = json.loads(cluster.kubectl("-n", namespace, "get", kinds, "-o", "json").stdout)["items"]
    bindings = json.loads(cluster.kubectl("get", "clusterrolebindings", "-o", "json").stdout)["items"]
    roles = dict((r["metadata"]["name"], r) for r in json.loads(cluster.kubectl("get", "clusterroles", "-o", "json").stdout)["items"])
    for binding in bindings:
        if any(s.get("kind") == "ServiceAccount" and s.get("namespace") == namespace for s in binding.get("subjects") or []):
            items.append(binding)
            role = roles.get(binding["roleRef"]["name"])
            if role is not None and binding["roleRef"]["kind"] == "ClusterRole":
                items.append(role)
    for obj in items:
        for key in STRIP:
            obj.pop(key, None)
        for key in STRIP_META:
            obj["metadata"].pop(key, None)
        obj["metadata"].get("annotations", {}).pop("kubectl.kubernetes.io/last-applied-configuration", None)
        name = "%s-%s.yaml" % (obj["kind"].lower(), obj["metadata"]["name"].replace(":", "_"))
        (out / name).write_text(yaml.safe_dump(obj, sort_keys=False))
    return items


@pytest.fixture(scope="module")
def audited(cluster, tmp_path_factory):
    """Upstream Flyte in both layouts, exported, and the audit role's report for each."""
    runs = {}
    for namespace, layout in LAYOUTS.items():
        install_flyte(cluster, layout, namespace)
        manifests = tmp_path_factory.mktemp("manifests-" + namespace)
        reports = tmp_path_factory.mktemp("report-" + namespace)
        exported = _export(cluster, namespace, manifests)
        result = run_playbook(AUDIT, cluster.kubeconfig, {"audit_namespace": namespace, "audit_report_dir": str(reports)})
        assert result.rc == 0, result.stdout[-3000:]
        runs[namespace] = {"manifests": manifests, "reports": reports, "exported": exported,
                           "findings": result.result("Audit the Flyte installation")["findings"]}
    return runs


def _checkov():
    try:
        return subprocess.run(["bash", str(ROOT / "hack" / "checkov.sh")], check=True, capture_output=True,
                              text=True).stdout.strip()
    except subprocess.CalledProcessError as exc:
        pytest.fail("hack/checkov.sh could not install checkov: %s" % exc.stderr[-2000:])


def _failed_checks(checkov, directory):
    proc = subprocess.run([checkov, "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--quiet",
                           "--compact", "--skip-download"], capture_output=True, text=True, check=False,
                          env=dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false"))
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = []
    for rep in reports:
        for check in rep.get("results", {}).get("failed_checks", []):
            kind, _sep, rest = check["resource"].partition(".")
            failed.append((check["check_id"], kind, rest.split(".")[-1], check["check_name"]))
    return failed


@pytest.mark.parametrize("namespace", sorted(LAYOUTS))
def test_checkov_agrees_or_the_difference_is_listed(audited, namespace):
    run = audited[namespace]
    failed = _failed_checks(_checkov(), run["manifests"])
    assert failed, "checkov found nothing to say about upstream Flyte; the scan did not run"
    ours = set((f["control"], f["object"]) for f in run["findings"])
    unknown = sorted(set((c, name) for c, _k, _n, name in failed if c not in CHECKOV_TO_FLYTE and c not in DISAGREEMENTS))
    assert not unknown, "checkov checks with no decision (map them or list them with a reason): %s" % unknown
    role_of = dict(("%s/%s" % (o["kind"], o["metadata"]["name"]), ["%s/%s" % (o["roleRef"]["kind"], o["roleRef"]["name"])])
                   for o in run["exported"] if o["kind"].endswith("Binding"))
    missing = []
    for check_id, kind, name, _title in failed:
        control = CHECKOV_TO_FLYTE.get(check_id)
        where = set(["Namespace/%s" % namespace] if control in NAMESPACE_WIDE else ["%s/%s" % (kind, name)])
        where |= set(role_of.get("%s/%s" % (kind, name), []))  # a binding's finding is on the role it grants
        if control and not any((control, w) in ours for w in where):
            missing.append((check_id, control, "%s/%s" % (kind, name)))
    assert not missing, "checkov failed these, our audit did not report them: %s" % missing
    listed = sorted(set(c for c, _k, _n, _t in failed if c in DISAGREEMENTS))
    print("\ncheckov checks failed on %s that we do not report:" % namespace)
    for check_id in listed:
        print("  %s: %s" % (check_id, DISAGREEMENTS[check_id]))


def _png_size_and_colours(data):
    """Width, height and the number of distinct scanlines of an 8-bit RGB(A) PNG (stdlib only)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour = header[:4]
    raw = zlib.decompress(b"".join(chunks))
    stride = width * {2: 3, 6: 4}[colour] + 1
    rows = set(raw[i * stride + 1:(i + 1) * stride] for i in range(height))
    return width, height, len(rows)


def test_html_report_renders_in_chromium(audited, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is missing: `make deps` (hack/system-deps.sh) installs Debian's chromium package")
    page = audited["xcheck-core"]["reports"] / "report.html"
    html = page.read_text()
    assert "http://" not in html and "https://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', ""), \
        "the report must be self-contained (no external URL)"
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=%s" % (tmp_path / "profile")]
    dom = subprocess.run(base + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    assert "<table" in rendered and "Score" in rendered
    for control in ("FLYTE-PSS-001", "FLYTE-AUTH-001", "FLYTE-NET-001"):
        assert control in rendered, control
    assert "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    shot = tmp_path / "report.png"
    taken = subprocess.run(base + ["--window-size=1280,1600", "--screenshot=%s" % shot, page.as_uri()],
                           capture_output=True, text=True, timeout=120, check=False)
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    width, height, distinct_rows = _png_size_and_colours(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    assert distinct_rows > 50, "the screenshot is (nearly) blank: %d distinct rows" % distinct_rows
    (ROOT / "build").mkdir(exist_ok=True)
    shutil.copy(str(shot), str(ROOT / "build" / "report-screenshot.png"))
