#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_security_audit
short_description: Audit a Flyte installation against controls mapped to CIS, NSA/CISA and NIST SP 800-53
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Read-only; never writes to the cluster. Evaluates the Flyte namespace against a catalogue of controls with
    stable ids (C(FLYTE-PSS-001) ...). The controls cover Pod Security per workload and the namespace labels,
    C(spc_t), root, seccomp and capabilities. They also cover secret-looking values in ConfigMaps,
    C(useAuth) off, the upstream default propeller secret, CORS wildcards, default-deny NetworkPolicies,
    wildcard RBAC bound to Flyte service accounts, images by tag and ingress TLS.
  - Each finding has evidence (object, field, value with secrets masked), the role of this collection that fixes
    it, and its mapping to the CIS Kubernetes Benchmark (with the benchmark version), the NSA/CISA guide and NIST
    SP 800-53.
  - O(waivers) accept findings until their expiry; an expired waiver makes the finding count again.
    O(previous_report) gives drift (new and resolved findings), and O(fail_on_new_severity) fails the run on a
    new finding at or above that severity.
  - With O(report_dir), writes JSON, JUnit XML, SARIF, Markdown and a self-contained HTML page. These are local
    files on the controller; they are written in check mode too.
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    details: The module never writes to the cluster.
  diff_mode:
    support: none
options:
  namespace:
    description: The Flyte namespace.
    type: str
    default: flyte
  service_accounts:
    description: Flyte service accounts whose bound roles are checked for wildcard rules.
    type: list
    elements: str
    default: [flytepropeller, flyteadmin, flyte-pod-webhook, datacatalog, flytescheduler]
  waivers:
    description: Waivers, each with C(control), C(scope) (C(Kind/name) or C(*)), C(justification) and C(expiry) (YYYY-MM-DD).
    type: list
    elements: dict
    default: []
  previous_report:
    description:
      - JSON report of an earlier run (this module's C(report.json)), for drift. A missing file is no earlier run.
      - It may be the C(report.json) of O(report_dir), which is read before this run's report replaces it.
    type: path
  fail_on_new_severity:
    description: Fail when drift shows a new finding at or above this severity.
    type: str
    choices: [low, medium, high, critical]
  report_dir:
    description: Directory to write C(report.json), C(report.junit.xml), C(report.sarif), C(report.md) and C(report.html) to.
    type: path
"""

EXAMPLES = r"""
- name: Audit the Flyte namespace, keep the reports for the next run's drift
  flytesec.hardening.flyte_security_audit:
    namespace: flyte
    report_dir: /var/lib/flytesec/audit
    previous_report: /var/lib/flytesec/audit/report.json
    fail_on_new_severity: high
    waivers:
      - control: FLYTE-IMG-001
        scope: "*"
        justification: images are pinned by tag in our registry with immutable tags
        expiry: "2027-06-30"
"""

RETURN = r"""
findings:
  description: Open findings.
  returned: always
  type: list
  elements: dict
waived:
  description: Findings accepted by a valid waiver.
  returned: always
  type: list
  elements: dict
score:
  description: Share of controls with no open finding, in percent.
  returned: always
  type: float
new:
  description: Findings that are not in O(previous_report).
  returned: always
  type: list
  elements: dict
resolved:
  description: Findings of O(previous_report) that are gone.
  returned: always
  type: list
  elements: dict
files:
  description: Report files written.
  returned: always
  type: list
  elements: str
"""

import json
import os

from ansible_collections.flytesec.hardening.plugins.module_utils.policy import audit_controls as ac
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils

RBAC = "rbac.authorization.k8s.io/v1"


def read_objects(client, namespace, service_accounts):
    objects = []
    for api, kind in (("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"), ("batch/v1", "Job"),
                      ("batch/v1", "CronJob"), ("v1", "Pod"), ("v1", "ConfigMap"), ("v1", "Secret"),
                      ("networking.k8s.io/v1", "NetworkPolicy"), ("networking.k8s.io/v1", "Ingress")):
        for item in client.list(api, kind, namespace):
            if kind == "Pod" and (item.get("metadata") or {}).get("ownerReferences"):
                continue   # a controller's pod: audited through its controller's template
            item["kind"] = kind
            objects.append(item)
    ns = client.get("v1", "Namespace", namespace)
    if ns is not None:
        ns["kind"] = "Namespace"
        objects.append(ns)
    bindings = [dict(b, kind="ClusterRoleBinding") for b in client.list(RBAC, "ClusterRoleBinding")] + \
        [dict(b, kind="RoleBinding") for b in client.list(RBAC, "RoleBinding", namespace)]
    seen = set()
    for binding in bindings:
        if any(s.get("kind") == "ServiceAccount" and s.get("name") in service_accounts
               and s.get("namespace", namespace) == namespace for s in binding.get("subjects") or []):
            ref = binding.get("roleRef") or {}
            if (ref.get("kind"), ref.get("name")) in seen:
                continue
            seen.add((ref.get("kind"), ref.get("name")))
            role = client.get(RBAC, ref.get("kind"), ref.get("name"), None if ref.get("kind") == "ClusterRole" else namespace)
            if role is not None:
                role.update(kind=ref.get("kind"), _bound_to_flyte=True)
                objects.append(role)
    return objects


def main():
    module = k8s_utils.new_module(
        argument_spec=dict(
            namespace=dict(type="str", default="flyte"),
            service_accounts=dict(type="list", elements="str",
                                  default=["flytepropeller", "flyteadmin", "flyte-pod-webhook", "datacatalog", "flytescheduler"]),
            waivers=dict(type="list", elements="dict", default=[]),
            previous_report=dict(type="path"),
            fail_on_new_severity=dict(type="str", choices=list(ac.SEVERITIES)),
            report_dir=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        ac.validate_waivers(p["waivers"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    previous = None
    if p["previous_report"] and os.path.exists(p["previous_report"]):
        try:
            with open(p["previous_report"]) as handle:
                previous = json.load(handle).get("findings", [])
        except ValueError as exc:
            module.fail_json(msg="previous_report: %s is not a JSON report: %s" % (p["previous_report"], exc))
    client = k8s_utils.connect(module)
    try:
        if client.get("v1", "Namespace", p["namespace"]) is None:
            module.fail_json(msg="namespace: %s does not exist" % p["namespace"])
        objects = read_objects(client, p["namespace"], set(p["service_accounts"]))
    except k8s_utils.FlyteK8sError as exc:
        module.fail_json(msg=str(exc))
    findings, waived = ac.apply_waivers(ac.evaluate(objects, p["namespace"]), p["waivers"])
    new, resolved = ac.drift(previous, findings) if previous is not None else ([], [])
    report = {"namespace": p["namespace"], "score": ac.score(findings), "findings": findings, "waived": waived,
              "new": new, "resolved": resolved, "controls": ac.CONTROLS}
    files = []
    if p["report_dir"]:
        os.makedirs(p["report_dir"], exist_ok=True)
        for name, text in (("report.json", json.dumps(report, indent=2, sort_keys=True) + "\n"),
                           ("report.junit.xml", ac.to_junit(report)), ("report.sarif", ac.to_sarif(report)),
                           ("report.md", ac.to_markdown(report)), ("report.html", ac.to_html(report))):
            path = os.path.join(p["report_dir"], name)
            with open(path, "w") as handle:
                handle.write(text)
            files.append(path)
    result = dict(changed=False, findings=findings, waived=waived, score=report["score"], new=new, resolved=resolved, files=files)
    if p["fail_on_new_severity"]:
        floor = ac.SEVERITIES.index(p["fail_on_new_severity"])
        bad = [f for f in new if ac.SEVERITIES.index(f["severity"]) >= floor]
        if bad:
            module.fail_json(msg="%d new finding(s) at or above %s: %s" % (
                len(bad), p["fail_on_new_severity"], ", ".join("%s %s" % (f["control"], f["object"]) for f in bad)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
