#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_pod_security_labels
short_description: Set the Pod Security admission labels of namespaces and report the API server's warnings
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Sets the C(pod-security.kubernetes.io/enforce), C(audit) and C(warn) labels and their C(-version) labels of the
    namespaces given by name or label selector. Labels not given are left as they are; other labels are never touched.
  - The labels are written with a JSON merge patch, and only when one differs; a second run changes nothing.
  - "When the enforce label changes, the API server evaluates the pods already running in the namespace against the new
    level and returns a warning for each violating one. Those warnings come back in RV(warnings_from_api) and
    RV(namespaces[].warnings). In check mode the patch is a server-side dry run, so a task with C(check_mode: true)
    tells, without changing anything, whether the running pods would pass an enforce level."
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - flytesec.hardening.backup
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    details: The label patch is sent as a server-side dry run; the API server's warnings about existing pods come back.
  diff_mode:
    support: full
options:
  namespaces:
    description: Namespaces to label, by name. Each must exist.
    type: list
    elements: str
    default: []
  namespace_selector:
    description: Also label the namespaces that match this label selector (for example Flyte project namespaces).
    type: str
  enforce:
    description: Level for C(pod-security.kubernetes.io/enforce). Unset leaves the label as it is.
    type: str
    choices: [privileged, baseline, restricted]
  enforce_version:
    description: Policy version for C(pod-security.kubernetes.io/enforce-version) (C(v1.34) or C(latest)). Pin it.
    type: str
  audit:
    description: Level for C(pod-security.kubernetes.io/audit).
    type: str
    choices: [privileged, baseline, restricted]
  audit_version:
    description: Policy version for C(pod-security.kubernetes.io/audit-version).
    type: str
  warn:
    description: Level for C(pod-security.kubernetes.io/warn).
    type: str
    choices: [privileged, baseline, restricted]
  warn_version:
    description: Policy version for C(pod-security.kubernetes.io/warn-version).
    type: str
"""

EXAMPLES = r"""
- name: Warn and audit restricted first
  flytesec.hardening.flyte_pod_security_labels:
    namespaces: [flyte]
    warn: restricted
    warn_version: v1.34
    audit: restricted
    audit_version: v1.34

- name: Would the running pods pass enforce=restricted? (server-side dry run)
  flytesec.hardening.flyte_pod_security_labels:
    namespaces: [flyte]
    enforce: restricted
    enforce_version: v1.34
  check_mode: true
  register: dry

- name: Enforce restricted in Flyte project namespaces too
  flytesec.hardening.flyte_pod_security_labels:
    namespaces: [flyte]
    namespace_selector: flyte.org/project
    enforce: restricted
    enforce_version: v1.34
"""

RETURN = r"""
backups:
  description: Backup files written (with O(backup_dir)), one per namespace changed.
  returned: always
  type: list
  elements: str
namespaces:
  description: Per namespace the Pod Security labels before and after and the API server's warnings.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Namespace name.
      type: str
    changed:
      description: Whether a label changed (or, in check mode, would change).
      type: bool
    before:
      description: The C(pod-security.kubernetes.io/*) labels before.
      type: dict
    after:
      description: The C(pod-security.kubernetes.io/*) labels after.
      type: dict
    warnings:
      description: Warnings the API server returned for this namespace's patch (for example existing pods that violate the new enforce level).
      type: list
      elements: str
warnings_from_api:
  description: Every warning the API server returned.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps

PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")


def desired_labels(params):
    """Labels to set from the module's parameters; ValueError naming the option for a bad version."""
    labels = {}
    for mode in MODES:
        if params[mode]:
            labels[PREFIX + mode] = params[mode]
        version = params["%s_version" % mode]
        if version is not None:
            try:
                ps.parse_version(version)
            except ps.PodSecurityError:
                raise ValueError("%s_version must be \"latest\" or \"v1.<minor>\", got %r" % (mode, version))
            labels[PREFIX + mode + "-version"] = version
    return labels


def psa_labels(namespace):
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    return dict((k, v) for k, v in labels.items() if k.startswith(PREFIX))


def main():
    module = k8s_utils.new_module(
        argument_spec=args_common.spec(
            args_common.BACKUP,
            namespaces=dict(type="list", elements="str", default=[]),
            namespace_selector=dict(type="str"),
            enforce=dict(type="str", choices=list(ps.LEVELS)),
            enforce_version=dict(type="str"),
            audit=dict(type="str", choices=list(ps.LEVELS)),
            audit_version=dict(type="str"),
            warn=dict(type="str", choices=list(ps.LEVELS)),
            warn_version=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False, namespaces=[], warnings_from_api=[])
    try:
        wanted = desired_labels(params)
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)
    if not params["namespaces"] and not params["namespace_selector"]:
        module.fail_json(msg="namespaces: give namespaces or namespace_selector", **result)

    client = k8s_utils.connect(module)
    writer = apply.Writer(client, module.check_mode, params["backup_dir"], params["run_id"])
    targets = []
    try:
        for name in dict.fromkeys(params["namespaces"]):
            obj = client.get("v1", "Namespace", name)
            if obj is None:
                module.fail_json(msg="namespaces: namespace %s not found" % name, **result)
            targets.append(obj)
        if params["namespace_selector"]:
            known = set(params["namespaces"])
            for obj in sorted(client.list("v1", "Namespace", label_selector=params["namespace_selector"]),
                              key=lambda o: o["metadata"]["name"]):
                if obj["metadata"]["name"] not in known:
                    targets.append(obj)
    except k8s_utils.FlyteK8sError as exc:
        module.fail_json(msg=str(exc), **result)

    diffs = []
    for obj in targets:
        name = obj["metadata"]["name"]
        before = psa_labels(obj)
        patch = dict((k, v) for k, v in wanted.items() if before.get(k) != v)
        after = dict(before, **patch)
        entry = dict(name=name, changed=bool(patch), before=before, after=after, warnings=[])
        result["namespaces"].append(entry)
        if not patch:
            continue
        seen = len(client.warnings)
        try:
            writer.patch(obj, {"metadata": {"labels": patch}}, api_version="v1", kind="Namespace")
        except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
            result["warnings_from_api"] = client.warnings
            module.fail_json(msg=str(exc), **result)
        entry["warnings"] = [w["warning"] for w in client.warnings[seen:]]
        result["changed"] = True
        diffs.append(dict(before_header="Namespace/%s labels" % name, after_header="Namespace/%s labels" % name,
                          before="".join("%s: %s\n" % kv for kv in sorted(before.items())),
                          after="".join("%s: %s\n" % kv for kv in sorted(after.items()))))
    if module._diff:
        result["diff"] = diffs
    result["warnings_from_api"] = client.warnings
    result["backups"] = writer.backups
    module.exit_json(**result)


if __name__ == "__main__":
    main()
