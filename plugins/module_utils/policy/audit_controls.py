# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compliance controls for a Flyte installation, findings, waivers, drift and report formats (pure).

Each control has a stable id, a severity, the role (and tag) of this collection that fixes it, and its mapping:
CIS Kubernetes Benchmark (control text and benchmark version: section numbers move between versions), the
NSA/CISA Kubernetes Hardening Guide (v1.2, section), and NIST SP 800-53 rev. 5. ``evaluate(objects)`` takes the
live objects of the Flyte namespace as plain dicts and returns findings; evidence never carries secret values.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import json
import re
from xml.sax.saxutils import escape

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as flyte_layout
from ansible_collections.flytesec.hardening.plugins.module_utils import masking
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import project_templates

CIS = "CIS Kubernetes Benchmark v1.12.0"
NSA = "NSA/CISA Kubernetes Hardening Guide v1.2"
SEVERITIES = ("low", "medium", "high", "critical")
UPSTREAM_DEFAULT_HASH = auth_config.UPSTREAM_DEFAULT_HASH

CONTROLS = {
    "FLYTE-PSS-001": dict(title="Workload fails Pod Security Standards 'restricted'", severity="high",
                          remediation="role pod_security (tag pod_security)",
                          cis="5.2 Pod Security Standards: minimize the admission of non-compliant pods", nsa="Kubernetes Pod security",
                          nist=["CM-7", "AC-6"]),
    "FLYTE-PSS-002": dict(title="Flyte namespace does not enforce Pod Security 'restricted' with a pinned version", severity="medium",
                          remediation="role pod_security (tag pod_security)",
                          cis="5.2.1 Ensure that the cluster has at least one active policy control mechanism in place",
                          nsa="Kubernetes Pod security: Pod security enforcement", nist=["CM-7", "CM-6"]),
    "FLYTE-PSS-003": dict(title="Container runs with SELinux type spc_t (super-privileged)", severity="high",
                          remediation="role pod_security (tag pod_security)",
                          cis="5.2.2 Minimize the admission of privileged containers", nsa="Kubernetes Pod security",
                          nist=["AC-6"]),
    "FLYTE-PSS-004": dict(title="Pod may run as root (no runAsNonRoot, or UID 0)", severity="high",
                          remediation="role pod_security (tag pod_security)",
                          cis="5.2.7 Minimize the admission of root containers", nsa="Non-root containers and rootless container engines",
                          nist=["AC-6(10)"]),
    "FLYTE-PSS-005": dict(title="No seccomp profile (RuntimeDefault) on the pod", severity="medium",
                          remediation="role pod_security (tag pod_security)",
                          cis="5.7.2 Ensure that the seccomp profile is set to docker/default in your pod definitions",
                          nsa="Kubernetes Pod security: seccomp", nist=["CM-7", "SC-39"]),
    "FLYTE-PSS-006": dict(title="Container does not drop all capabilities", severity="medium",
                          remediation="role pod_security (tag pod_security)",
                          cis="5.2.9 Minimize the admission of containers with capabilities assigned",
                          nsa="Kubernetes Pod security", nist=["AC-6"]),
    "FLYTE-SEC-001": dict(title="Secret-looking value in a ConfigMap", severity="high",
                          remediation="role auth_secrets (tag auth): keep secrets in Kubernetes Secrets",
                          cis="5.4.1 Prefer using secrets as files over secrets as environment variables",
                          nsa="Kubernetes Pod security: protect Pod service account tokens / secrets", nist=["SC-28", "IA-5"]),
    "FLYTE-AUTH-001": dict(title="flyteadmin authentication is off (server.security.useAuth: false)", severity="high",
                           remediation="role auth (tag auth)", cis="n/a (application setting)",
                           nsa="Authentication and authorization", nist=["IA-2", "AC-3"]),
    "FLYTE-AUTH-002": dict(title="flytepropeller uses the upstream default client secret or hash", severity="critical",
                           remediation="role auth (tag auth): a secret of your own", cis="n/a (application setting)",
                           nsa="Authentication and authorization", nist=["IA-5"]),
    "FLYTE-CORS-001": dict(title="CORS allows every origin ('*' or an empty allowedOrigins list)", severity="medium",
                           remediation="role cors (tag cors)", cis="n/a (application setting)",
                           nsa="Network separation and hardening", nist=["AC-4", "SC-7"]),
    "FLYTE-CORS-002": dict(title="flyteconsole's ADMIN_API_URL origin is not among flyteadmin's allowedOrigins' peer", severity="low",
                           remediation="role cors (tag cors)", cis="n/a (application setting)",
                           nsa="Network separation and hardening", nist=["CM-6"]),
    "FLYTE-NET-001": dict(title="No default-deny NetworkPolicy in the Flyte namespace", severity="medium",
                          remediation="role network_policies (tag network_policies)",
                          cis="5.3.2 Ensure that all Namespaces have Network Policies defined",
                          nsa="Network separation and hardening: network policies", nist=["SC-7", "AC-4"]),
    "FLYTE-RBAC-001": dict(title="Wildcard RBAC rule bound to a Flyte service account", severity="high",
                           remediation="role rbac (tag rbac)", cis="5.1.3 Minimize wildcard use in Roles and ClusterRoles",
                           nsa="Authentication and authorization: RBAC", nist=["AC-6", "AC-6(1)"]),
    "FLYTE-IMG-001": dict(title="Image referenced by tag, not by digest", severity="low",
                          remediation="set image digests in the chart values",
                          cis="5.5.1 Configure Image Provenance using ImagePolicyWebhook admission controller",
                          nsa="Threat detection / supply chain: image scanning and provenance", nist=["CM-14", "SI-7"]),
    "FLYTE-TLS-001": dict(title="Ingress serves Flyte without TLS", severity="medium",
                          remediation="role ingress_tls (tag ingress_tls)", cis="n/a (ingress setting)",
                          nsa="Network separation and hardening: encrypt traffic", nist=["SC-8"]),
    "FLYTE-PROJ-001": dict(title="New project namespaces do not enforce Pod Security (cluster resource Namespace template)",
                           severity="high", remediation="role projects (tag projects)",
                           cis="5.2.1 Ensure that the cluster has at least one active policy control mechanism in place",
                           nsa="Kubernetes Pod security: Pod security enforcement; namespaces separate workloads",
                           nist=["CM-7", "AC-4", "SC-7"]),
    "FLYTE-PROJ-002": dict(title="New project namespaces get no default-deny NetworkPolicy from the cluster resource templates",
                           severity="medium", remediation="role projects (tag projects)",
                           cis="5.3.2 Ensure that all Namespaces have Network Policies defined",
                           nsa="Network separation and hardening: network policies", nist=["SC-7", "AC-4"]),
    "FLYTE-PROJ-003": dict(title="Task pods mount a ServiceAccount token (project default ServiceAccount template)",
                           severity="medium", remediation="role projects (tag projects)",
                           cis="5.1.6 Ensure that Service Account Tokens are only mounted where necessary",
                           nsa="Kubernetes Pod security: protect Pod service account tokens", nist=["AC-6", "IA-5"]),
    "FLYTE-TASK-001": dict(title="Task pods get no restricted securityContext by default (flytepropeller k8s plugin)",
                           severity="high", remediation="role projects (tag projects)",
                           cis="5.2.7 Minimize the admission of root containers",
                           nsa="Non-root containers and rootless container engines", nist=["AC-6(10)", "CM-7"]),
}
# A key that names a secret (secret_key, secret-key, secretKey, password, apiKey, access-token, ...) with a value of
# six or more characters on the same line, or a PEM private key. Keys that only point at a secret are left out.
_SECRET_VALUE = re.compile(r"(?im)(-----BEGIN [A-Z ]*PRIVATE KEY-----|(?:^|(?<=[\s{,\"']))(?P<key>[\w.-]*(?:password|passwd|secret|token|"
                           r"api[_-]?key|access[_-]?key)[\w.-]*)[\"']?[ \t]*[:=][ \t]*[\"']?(?P<value>[^\s\"',}]{6,}))")
_POINTER_SUFFIXES = ("location", "path", "name", "file", "prefix", "envvar", "env", "url", "uri", "ref", "header",
                     "type", "endpoint", "lifespan", "policy", "dir", "mountpath", "id", "duration", "seconds")


def secret_like_values(text):
    """The secret-looking ``key: value`` pairs (and PEM private keys) in ``text``, as ``[(key, value)]``."""
    found = []
    for match in _SECRET_VALUE.finditer(text or ""):
        if match.group(0).startswith("-----BEGIN"):
            found.append(("private key", match.group(0)))
            continue
        key, value = match.group("key"), match.group("value")
        compact = key.lower().replace("_", "").replace("-", "").replace(".", "")
        if compact.endswith(_POINTER_SUFFIXES) or value.startswith(("/", "${", "{{", "$(")) or _is_bcrypt_verifier(value):
            continue
        found.append((key, value))
    return found


def _is_bcrypt_verifier(value):
    """base64 of a bcrypt hash: flyteadmin's static-client verifier (as upstream keeps it), not a secret."""
    return auth_config.decode_hash((value or "").strip("'\"")) is not None


def _name(obj):
    return (obj.get("metadata") or {}).get("name")


def _finding(control, obj, field, value, masker):
    meta = CONTROLS[control]
    return {"control": control, "title": meta["title"], "severity": meta["severity"],
            "object": "%s/%s" % (obj.get("kind"), _name(obj)), "field": field,
            "value": masker.mask_text(str(value)) if value is not None else None,
            "remediation": meta["remediation"], "cis": {"benchmark": CIS, "control": meta["cis"]},
            "nsa_cisa": {"guide": NSA, "section": meta["nsa"]}, "nist_800_53": list(meta["nist"])}


def _workloads(objects):
    """Everything that runs pods: controllers, Jobs and CronJobs (a bundled certgen Job too), and bare Pods."""
    return [o for o in objects if o.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")]


def _server_yaml(objects, name, key):
    cm = next((o for o in objects if o.get("kind") == "ConfigMap" and _name(o) == name), None)
    text = ((cm or {}).get("data") or {}).get(key)
    return cm, (ey.load(text, key) if text else None) or {}


def _config_findings(objects, namespace, admin_config=None):
    """AUTH-001, CORS-001 and AUTH-002 (hash) from the effective configuration flyteadmin reads: the viper merge of
    the files its ``--config`` mount holds, Go defaults included, found through the workloads (flyte_layout), so
    flyte-binary and renamed installs are covered. ``admin_config`` (name, key) forces one ConfigMap key instead."""
    if admin_config:
        cm, server = _server_yaml(objects, *admin_config)
        if cm is None:
            return []
        security = dict(flyte_layout.GO_DEFAULTS["cors"], **((server.get("server") or {}).get("security") or {}))
        auth = server.get("auth") or {}

        def anchor(_setting):
            return cm
    else:
        deployments = [o for o in objects if o.get("kind") == "Deployment"]
        configmaps = [_name(o) for o in objects if o.get("kind") == "ConfigMap"]
        try:
            model = flyte_layout.detect(deployments, configmaps, namespace=namespace)
        except flyte_layout.LayoutError:
            return []
        security = model.effective("cors", objects) or {}
        security["useAuth"] = model.effective("use_auth", objects)
        auth = model.effective("auth", objects, defaults=False) or {}
        by_ref = dict(((o.get("kind"), _name(o)), o) for o in objects)

        def anchor(setting):
            location = model.locate(setting)
            ref = (location.object_kind, location.object_name)
            return by_ref.get(ref) or {"kind": ref[0], "metadata": {"name": ref[1], "namespace": namespace}}
    found = []
    if not security.get("useAuth"):
        found.append((anchor("use_auth"), "server.security.useAuth", security.get("useAuth", False), "FLYTE-AUTH-001"))
    origins = security.get("allowedOrigins")
    if security.get("allowCors", True) and (origins is None or origins == [] or "*" in origins):
        found.append((anchor("cors"), "server.security.allowedOrigins", origins, "FLYTE-CORS-001"))
    stored = (((auth.get("appAuth") or {}).get("selfAuthServer") or {}).get("staticClients") or {}) \
        .get("flytepropeller", {}).get("client_secret")
    if stored and auth_config.decode_hash(stored) == UPSTREAM_DEFAULT_HASH:
        found.append((anchor("auth"), "auth.appAuth.selfAuthServer.staticClients.flytepropeller.client_secret",
                      "the built-in default hash", "FLYTE-AUTH-002"))
    return found


def _templates(objects):
    """``(ConfigMap, {key: object})`` of the ConfigMap holding cluster resource templates (a Namespace template with a
    ``{{ namespace }}`` placeholder), or ``(None, {})``."""
    for cm in (o for o in objects if o.get("kind") == "ConfigMap"):
        data = cm.get("data") or {}
        if not any("{{ namespace }}" in (v or "") for k, v in data.items() if k.endswith(".yaml")):
            continue
        try:
            rendered = dict((k, project_templates.instantiate(v, "p-d", "p", "d", dict(
                (n, "1") for n in project_templates.placeholders(v)))) for k, v in data.items() if k.endswith(".yaml"))
        except project_templates.TemplateError:
            continue
        if any(o.get("kind") == "Namespace" for o in rendered.values()):
            return cm, rendered
    return None, {}


def _project_findings(objects, namespace):
    """PROJ-001..003 from the cluster resource templates, TASK-001 from flytepropeller's effective k8s plugin config."""
    found = []
    cm, rendered = _templates(objects)
    if cm is not None:
        ns = next(o for o in rendered.values() if o.get("kind") == "Namespace")
        enforce = ((ns.get("metadata") or {}).get("labels") or {}).get("pod-security.kubernetes.io/enforce")
        if enforce not in ("baseline", "restricted"):
            found.append((cm, "Namespace template: metadata.labels", enforce, "FLYTE-PROJ-001"))
        if not any(o.get("kind") == "NetworkPolicy" and not ((o.get("spec") or {}).get("podSelector") or {}).get("matchLabels")
                   and "Ingress" in (o.get("spec") or {}).get("policyTypes", []) and not (o.get("spec") or {}).get("ingress")
                   for o in rendered.values()):
            found.append((cm, "NetworkPolicy template", "none", "FLYTE-PROJ-002"))
        sa = [o for o in rendered.values() if o.get("kind") == "ServiceAccount" and _name(o) == "default"]
        if not sa or sa[0].get("automountServiceAccountToken") is not False:
            found.append((cm, "ServiceAccount template: automountServiceAccountToken", None, "FLYTE-PROJ-003"))
    deployments = [o for o in objects if o.get("kind") == "Deployment"]
    configmaps = [_name(o) for o in objects if o.get("kind") == "ConfigMap"]
    try:
        model = flyte_layout.detect(deployments, configmaps, namespace=namespace)
        k8s = model.effective("task_pod_defaults", objects) or {}
    except flyte_layout.LayoutError:
        return found
    pod_sc, container_sc = k8s.get("default-pod-security-context") or {}, k8s.get("default-security-context") or {}
    if not ((pod_sc.get("runAsNonRoot") or container_sc.get("runAsNonRoot")) and container_sc.get("allowPrivilegeEscalation") is False
            and "ALL" in ((container_sc.get("capabilities") or {}).get("drop") or [])):
        location = model.locate("task_pod_defaults")
        anchor = next((o for o in objects if o.get("kind") == location.object_kind and _name(o) == location.object_name),
                      {"kind": location.object_kind, "metadata": {"name": location.object_name, "namespace": namespace}})
        found.append((anchor, "plugins.k8s.default-security-context", None, "FLYTE-TASK-001"))
    return found


def evaluate(objects, namespace, admin_config=None, masker=None):
    """Findings for the objects of one Flyte namespace (Deployments, ConfigMaps, Secrets, Namespace, NetworkPolicies,
    Ingresses, RBAC roles and bindings)."""
    masker = masker or masking.Masker()
    found = []
    for workload in _workloads(objects):
        meta, spec = ps.pod_template(workload)
        spec = spec or {}
        if ps.evaluate(spec, meta or {}, ps.LEVEL_RESTRICTED):
            found.append(_finding("FLYTE-PSS-001", workload, "spec.template", ps.highest_level_passed(spec, meta or {}), masker))
        pod_sc = spec.get("securityContext") or {}
        containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
        selinux = [c["name"] for c in containers if ((c.get("securityContext") or {}).get("seLinuxOptions") or {}).get("type") == "spc_t"]
        if (pod_sc.get("seLinuxOptions") or {}).get("type") == "spc_t" or selinux:
            found.append(_finding("FLYTE-PSS-003", workload, "securityContext.seLinuxOptions.type", "spc_t", masker))
        root = [c["name"] for c in containers
                if not ((c.get("securityContext") or {}).get("runAsNonRoot", pod_sc.get("runAsNonRoot")))
                or (c.get("securityContext") or {}).get("runAsUser", pod_sc.get("runAsUser")) == 0]
        if root:
            found.append(_finding("FLYTE-PSS-004", workload, "securityContext.runAsNonRoot", ", ".join(root), masker))
        seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost") and any(
                ((c.get("securityContext") or {}).get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost")
                for c in containers):
            found.append(_finding("FLYTE-PSS-005", workload, "securityContext.seccompProfile", seccomp, masker))
        caps = [c["name"] for c in containers
                if "ALL" not in (((c.get("securityContext") or {}).get("capabilities") or {}).get("drop") or [])]
        if caps:
            found.append(_finding("FLYTE-PSS-006", workload, "capabilities.drop", ", ".join(caps), masker))
        untagged = [c.get("image") for c in containers if "@sha256:" not in (c.get("image") or "")]
        if untagged:
            found.append(_finding("FLYTE-IMG-001", workload, "image", ", ".join(sorted(set(untagged))), masker))

    ns = next((o for o in objects if o.get("kind") == "Namespace" and _name(o) == namespace), None)
    labels = ((ns or {}).get("metadata") or {}).get("labels") or {}
    if labels.get("pod-security.kubernetes.io/enforce") != "restricted" or \
            labels.get("pod-security.kubernetes.io/enforce-version", "latest") == "latest":
        found.append(_finding("FLYTE-PSS-002", ns or {"kind": "Namespace", "metadata": {"name": namespace}},
                              "metadata.labels", labels.get("pod-security.kubernetes.io/enforce"), masker))

    for cm in (o for o in objects if o.get("kind") == "ConfigMap"):
        for key, text in sorted((cm.get("data") or {}).items()):
            if secret_like_values(text):
                found.append(_finding("FLYTE-SEC-001", cm, "data.%s" % key, masking.MASK, masker))

    for cm, field, value, control in _config_findings(objects, namespace, admin_config):
        found.append(_finding(control, cm, field, value, masker))
    for secret in (o for o in objects if o.get("kind") == "Secret"):
        data = secret.get("data") or {}
        for key, value in data.items():
            if key == "client_secret" and value and base64.b64decode(value) == b"foobar":
                found.append(_finding("FLYTE-AUTH-002", secret, "data.client_secret", "the chart default", masker))

    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    if not any(not ((p.get("spec") or {}).get("podSelector") or {}).get("matchLabels")
               and "Ingress" in (p.get("spec") or {}).get("policyTypes", []) and not (p.get("spec") or {}).get("ingress")
               for p in policies):
        found.append(_finding("FLYTE-NET-001", ns or {"kind": "Namespace", "metadata": {"name": namespace}},
                              "NetworkPolicy", "none", masker))

    for role in (o for o in objects if o.get("kind") in ("ClusterRole", "Role") and o.get("_bound_to_flyte")):
        for rule in role.get("rules") or []:
            if "*" in (rule.get("apiGroups") or []) or "*" in (rule.get("resources") or []) or "*" in (rule.get("verbs") or []):
                found.append(_finding("FLYTE-RBAC-001", role, "rules", json.dumps(rule, sort_keys=True), masker))
                break

    for obj, field, value, control in _project_findings(objects, namespace):
        found.append(_finding(control, obj, field, value, masker))

    for ingress in (o for o in objects if o.get("kind") == "Ingress"):
        if not (ingress.get("spec") or {}).get("tls"):
            found.append(_finding("FLYTE-TLS-001", ingress, "spec.tls", None, masker))
    return sorted(found, key=lambda f: (f["control"], f["object"]))


# ----------------------------------------------------------------------------------------------- waivers, drift

def apply_waivers(findings, waivers, today=None):
    """Split findings into (open, waived). A waiver: control, scope (object, or '*'), justification, expiry (date)."""
    today = today or datetime.date.today()
    open_, waived = [], []
    for finding in findings:
        match = None
        for waiver in waivers or []:
            if waiver.get("control") != finding["control"] or waiver.get("scope", "*") not in ("*", finding["object"]):
                continue
            expiry = waiver.get("expiry")
            if expiry and datetime.date.fromisoformat(str(expiry)) < today:
                finding = dict(finding, expired_waiver=waiver.get("justification"))
                continue
            match = waiver
            break
        if match:
            waived.append(dict(finding, waiver=match.get("justification")))
        else:
            open_.append(finding)
    return open_, waived


def validate_waivers(waivers):
    """Raise ValueError naming the waiver that lacks a field or names an unknown control."""
    for index, waiver in enumerate(waivers or []):
        for field in ("control", "justification", "expiry"):
            if not waiver.get(field):
                raise ValueError("waivers[%d]: %s is required" % (index, field))
        if waiver["control"] not in CONTROLS:
            raise ValueError("waivers[%d]: unknown control %s" % (index, waiver["control"]))
        datetime.date.fromisoformat(str(waiver["expiry"]))


def key(finding):
    return "%s|%s|%s" % (finding["control"], finding["object"], finding["field"])


def drift(previous, current):
    """``(new, resolved)`` findings between two reports' open findings."""
    before = dict((key(f), f) for f in previous or [])
    now = dict((key(f), f) for f in current)
    return [now[k] for k in sorted(set(now) - set(before))], [before[k] for k in sorted(set(before) - set(now))]


def score(findings):
    """Share of controls with no open finding, in percent."""
    failed = set(f["control"] for f in findings)
    return round(100.0 * (len(CONTROLS) - len(failed)) / len(CONTROLS), 1)


# ------------------------------------------------------------------------------------------------------ formats

def to_markdown(report):
    lines = ["# Flyte security audit: %s" % report["namespace"], "", "Score: **%s%%** (%d open findings, %d waived)" % (
        report["score"], len(report["findings"]), len(report["waived"])), "",
        "| control | severity | object | field | remediation |", "| --- | --- | --- | --- | --- |"]
    for f in report["findings"]:
        lines.append("| %s | %s | %s | %s | %s |" % (f["control"], f["severity"], f["object"], f["field"], f["remediation"]))
    return "\n".join(lines) + "\n"


def to_junit(report):
    cases = []
    for control, meta in sorted(CONTROLS.items()):
        failures = [f for f in report["findings"] if f["control"] == control]
        body = "".join('<failure message="%s">%s</failure>' % (escape(f["object"], {'"': "&quot;"}), escape(f["field"]))
                       for f in failures)
        cases.append('<testcase classname="flytesec.audit" name="%s %s">%s</testcase>' % (
            control, escape(meta["title"], {'"': "&quot;"}), body))
    failed = len(set(f["control"] for f in report["findings"]))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="flytesec-audit" tests="%d" failures="%d">%s</testsuite>\n'
            % (len(CONTROLS), failed, "".join(cases)))


def to_sarif(report):
    level = {"low": "note", "medium": "warning", "high": "error", "critical": "error"}
    rules = [{"id": c, "name": c, "shortDescription": {"text": m["title"]},
              "properties": {"severity": m["severity"], "nist": m["nist"], "cis": m["cis"]}} for c, m in sorted(CONTROLS.items())]
    results = [{"ruleId": f["control"], "level": level[f["severity"]],
                "message": {"text": "%s: %s (%s)" % (f["object"], f["title"], f["field"])},
                "locations": [{"logicalLocations": [{"fullyQualifiedName": "%s/%s" % (report["namespace"], f["object"])}]}]}
               for f in report["findings"]]
    return json.dumps({"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
                       "runs": [{"tool": {"driver": {"name": "flytesec.hardening", "rules": rules}}, "results": results}]},
                      indent=2) + "\n"


def to_html(report):
    rows = "".join("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % tuple(
        escape(str(x)) for x in (f["control"], f["severity"], f["object"], f["field"], f["remediation"])) for f in report["findings"])
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Flyte security audit</title>"
            "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px}</style></head><body>"
            "<h1>Flyte security audit: %s</h1><p>Score: <b id=\"score\">%s%%</b></p>"
            "<table><tr><th>control</th><th>severity</th><th>object</th><th>field</th><th>remediation</th></tr>%s</table>"
            "</body></html>\n" % (escape(report["namespace"]), report["score"], rows))
