#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_rbac
short_description: Least-privilege RBAC for flytepropeller and flyteadmin
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Replaces the rules of each role bound to the flytepropeller service account that holds a wildcard rule
    (C(apiGroups) or C(resources) C(*), which flyte-core ships) with an explicit list. The list covers
    pods, events, podtemplates, namespaces (read), flyteworkflows, CRDs (read) and leases, plus the custom
    resources of the task plugins in O(task_plugins) and O(extra_rules).
  - Replaces the C(*) verbs of the roles bound to flyteadmin with explicit ones (no C(escalate), C(bind) or
    C(impersonate)).
  - Rules of the other Flyte service accounts' roles with C(apiGroups) C(*) and named resources (the pod webhook's) are split
    into the resources' own API groups.
  - Reports every other wildcard rule still bound to a Flyte service account.
  - Backs up each role before it changes it. Helm owns these roles, so put the same rules in the chart values
    (C(flytepropeller.clusterRole)) or the next C(helm upgrade) restores the wildcard.
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    details: Writes are server-side dry runs.
  diff_mode:
    support: full
    details: The rules of each role before and after.
options:
  namespace:
    description: Namespace of the Flyte service accounts.
    type: str
    default: flyte
  propeller_service_account:
    description: Service account of flytepropeller.
    type: str
    default: flytepropeller
  admin_service_account:
    description: Service account of flyteadmin.
    type: str
    default: flyteadmin
  other_service_accounts:
    description: Further Flyte service accounts whose wildcard rules are reported (not changed).
    type: list
    elements: str
    default: [flyte-pod-webhook, datacatalog, flytescheduler]
  task_plugins:
    description: Task plugins that create custom resources (spark, ray, pytorch, tensorflow, mpi, dask).
    type: list
    elements: str
    default: []
  extra_rules:
    description: More rules for flytepropeller, as in a ClusterRole.
    type: list
    elements: dict
    default: []
  narrow_admin:
    description: Replace the C(*) verbs of flyteadmin's roles.
    type: bool
    default: true
  backup_dir:
    description: Directory for a backup record of every role before it changes.
    type: path
  run_id:
    description: Identifier of the hardening run; groups its backups.
    type: str
"""

EXAMPLES = r"""
- name: Least-privilege RBAC, with the Spark plugin
  flytesec.hardening.flyte_rbac:
    namespace: flyte
    task_plugins: [spark]
"""

RETURN = r"""
changed_roles:
  description: Roles whose rules changed, as C(Kind/name).
  returned: always
  type: list
  elements: str
wildcard_findings:
  description: Wildcard rules still bound to Flyte service accounts after the change.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.flytesec.hardening.plugins.module_utils import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils import k8s as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils import rbac

RBAC = "rbac.authorization.k8s.io/v1"


def main():
    module = k8s_utils.new_module(
        argument_spec=dict(
            namespace=dict(type="str", default="flyte"),
            propeller_service_account=dict(type="str", default="flytepropeller"),
            admin_service_account=dict(type="str", default="flyteadmin"),
            other_service_accounts=dict(type="list", elements="str",
                                        default=["flyte-pod-webhook", "datacatalog", "flytescheduler"]),
            task_plugins=dict(type="list", elements="str", default=[]),
            extra_rules=dict(type="list", elements="dict", default=[]),
            narrow_admin=dict(type="bool", default=True),
            backup_dir=dict(type="path"),
            run_id=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        plugin_rules = rbac.plugin_rules(p["task_plugins"])
    except rbac.RbacError as exc:
        module.fail_json(msg=str(exc))
    for index, rule in enumerate(p["extra_rules"]):
        if not rule.get("verbs") or not (rule.get("resources") or rule.get("nonResourceURLs")):
            module.fail_json(msg="extra_rules[%d]: a rule needs verbs and resources" % index)
        if rbac.is_wildcard(rule):
            module.fail_json(msg="extra_rules[%d]: wildcard apiGroups/resources are what this module removes" % index)
    client = k8s_utils.connect(module)
    ns = p["namespace"]
    result = dict(changed=False, changed_roles=[], wildcard_findings=[], backups=[])
    diffs = []
    try:
        if client.get("v1", "Namespace", ns) is None:
            module.fail_json(msg="namespace: %s does not exist" % ns)
        bindings = []
        for kind, namespace in (("ClusterRoleBinding", None), ("RoleBinding", ns)):
            for item in client.list(RBAC, kind, namespace):
                item["kind"] = kind
                bindings.append(item)

        def roles_of(sa):
            roles = []
            for kind, name, _binding in rbac.bound_roles(bindings, ns, sa):
                role = client.get(RBAC, kind, name, None if kind == "ClusterRole" else ns)
                if role is not None:
                    role["kind"] = kind
                    roles.append(role)
            return roles

        plans = []
        for role in roles_of(p["propeller_service_account"]):
            if any(rbac.is_wildcard(r) for r in role.get("rules") or []):
                plans.append((role, rbac.PROPELLER_RULES + plugin_rules + list(p["extra_rules"])))
        for sa in p["other_service_accounts"]:
            for role in roles_of(sa):
                if any("*" in (r.get("apiGroups") or []) for r in role.get("rules") or []):
                    rules = rbac.explicit_groups(role.get("rules") or [])
                    if rules is not None:
                        plans.append((role, rules))
        if p["narrow_admin"]:
            for role in roles_of(p["admin_service_account"]):
                if any("*" in (r.get("verbs") or []) for r in role.get("rules") or []):
                    plans.append((role, rbac.narrow_verbs(role.get("rules") or [])))
        writer = apply.Writer(client, module.check_mode, p["backup_dir"], p["run_id"])
        result["backups"] = writer.backups
        for role, rules in plans:
            if rbac.normalized(role.get("rules")) == rbac.normalized(rules):
                continue
            kind, name = role["kind"], role["metadata"]["name"]
            writer.patch(role, {"rules": rules}, api_version=RBAC, kind=kind)
            result["changed_roles"].append("%s/%s" % (kind, name))
            diffs.append(dict(before_header="%s/%s" % (kind, name), after_header="%s/%s" % (kind, name),
                              before={"rules": role.get("rules")}, after={"rules": rules}))
            role["rules"] = rules
        by_sa = {}
        for sa in [p["propeller_service_account"], p["admin_service_account"]] + list(p["other_service_accounts"]):
            roles = roles_of(sa)
            for role, rules in plans:  # in check mode, report as if the change had been made
                for current in roles:
                    if (current["kind"], current["metadata"]["name"]) == (role["kind"], role["metadata"]["name"]):
                        current["rules"] = rules
            by_sa[sa] = roles
        result["wildcard_findings"] = rbac.findings(by_sa)
    except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
        module.fail_json(msg=str(exc), **result)
    result["changed"] = bool(result["changed_roles"])
    if result["wildcard_findings"]:
        module.warn("wildcard RBAC rules remain bound to Flyte service accounts: %s" % ", ".join(
            sorted(set("%s (%s)" % (f["role"], f["service_account"]) for f in result["wildcard_findings"]))))
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
