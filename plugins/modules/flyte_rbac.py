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
  - flytesec.hardening.backup
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
"""

EXAMPLES = r"""
- name: Least-privilege RBAC, with the Spark plugin
  flytesec.hardening.flyte_rbac:
    namespace: flyte
    task_plugins: [spark]
"""

RETURN = r"""
backups:
  description: Backup files written (with O(backup_dir)).
  returned: always
  type: list
  elements: str
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

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import rbac

RBAC = "rbac.authorization.k8s.io/v1"


def argument_spec():
    # Only the namespace of args_common.TARGET: the service accounts are named by options, not found by layout.
    return args_common.spec(
        args_common.BACKUP,
        namespace=dict(type="str", default="flyte"),
        propeller_service_account=dict(type="str", default="flytepropeller"),
        admin_service_account=dict(type="str", default="flyteadmin"),
        other_service_accounts=dict(type="list", elements="str",
                                    default=["flyte-pod-webhook", "datacatalog", "flytescheduler"]),
        task_plugins=dict(type="list", elements="str", default=[]),
        extra_rules=dict(type="list", elements="dict", default=[]),
        narrow_admin=dict(type="bool", default=True),
    )


def read_roles(client, namespace, service_accounts):
    """``{service account: [Role/ClusterRole bound to it, with kind]}`` for ``namespace/service_account``."""
    bindings = []
    for kind, where in (("ClusterRoleBinding", None), ("RoleBinding", namespace)):
        for item in client.list(RBAC, kind, where):
            item["kind"] = kind
            bindings.append(item)
    read, roles_by_sa = {}, {}
    for sa in service_accounts:
        roles = []
        for kind, name, _binding in rbac.bound_roles(bindings, namespace, sa):
            if (kind, name) not in read:
                role = client.get(RBAC, kind, name, None if kind == "ClusterRole" else namespace)
                if role is not None:
                    role["kind"] = kind
                read[(kind, name)] = role
            if read[(kind, name)] is not None:
                roles.append(read[(kind, name)])
        roles_by_sa[sa] = roles
    return roles_by_sa


def main():
    module = k8s_utils.new_module(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        desired = rbac.propeller_rules(p["task_plugins"], p["extra_rules"])
    except rbac.RbacError as exc:
        module.fail_json(msg=str(exc))
    client = k8s_utils.connect(module)
    ns = p["namespace"]
    service_accounts = [p["propeller_service_account"], p["admin_service_account"]] + list(p["other_service_accounts"])
    result = dict(changed=False, changed_roles=[], wildcard_findings=[], backups=[])
    diffs = []
    try:
        # read
        if client.get("v1", "Namespace", ns) is None:
            module.fail_json(msg="namespace: %s does not exist" % ns)
        roles_by_sa = read_roles(client, ns, service_accounts)
        # plan
        plans = rbac.plan_roles(roles_by_sa, p["propeller_service_account"], p["admin_service_account"],
                                p["other_service_accounts"], desired, p["narrow_admin"])
        # apply
        writer = apply.Writer(client, module.check_mode, p["backup_dir"], p["run_id"])
        result["backups"] = writer.backups
        for plan in plans:
            writer.patch(plan.role, {"rules": plan.rules}, api_version=RBAC, kind=plan.kind)
            result["changed_roles"].append("%s/%s" % (plan.kind, plan.name))
            diffs.append(rbac.diff(plan))
        # report, as the roles are once the plan is applied (in check mode too)
        result["wildcard_findings"] = rbac.findings(rbac.roles_after(roles_by_sa, plans))
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
