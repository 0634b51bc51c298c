# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least-privilege RBAC for Flyte's service accounts (pure functions over RBAC object dicts).

The flyte-core chart gives flytepropeller a rule ``apiGroups: ['*'], resources: ['*']`` ("all plugin
objects"): read and write on Secrets, RoleBindings and webhook configurations in every namespace (CIS
5.1.2-5.1.4). What propeller uses (flytepropeller on master): pods in the project namespaces, events,
podtemplates (informer), namespaces list (the garbage collector with limit-namespace=all), flyteworkflows,
and, per enabled task plugin, that plugin's custom resources. flyteadmin's ``"*"`` verbs include
``escalate`` and ``bind`` on Roles.

``plan_roles`` is the role plan of flyte_rbac: from the roles bound to each service account (as read), which Roles
and ClusterRoles change and their desired rules; the module writes them through apply.Writer.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
from collections import namedtuple

PROPELLER_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "update", "patch"]},
    {"apiGroups": [""], "resources": ["podtemplates"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["flyte.lyft.com"], "resources": ["flyteworkflows", "flyteworkflows/finalizers"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]},
    {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
]
# Custom resources of the task plugins that need them, for extra rules by plugin name.
PLUGIN_RULES = {
    "spark": {"apiGroups": ["sparkoperator.k8s.io"], "resources": ["sparkapplications"]},
    "ray": {"apiGroups": ["ray.io"], "resources": ["rayjobs", "rayclusters"]},
    "pytorch": {"apiGroups": ["kubeflow.org"], "resources": ["pytorchjobs"]},
    "tensorflow": {"apiGroups": ["kubeflow.org"], "resources": ["tfjobs"]},
    "mpi": {"apiGroups": ["kubeflow.org"], "resources": ["mpijobs"]},
    "dask": {"apiGroups": ["kubernetes.dask.org"], "resources": ["daskjobs"]},
}
# API group of the resources Flyte's roles name under ``apiGroups: ['*']`` (the pod webhook's role).
RESOURCE_GROUPS = {
    "mutatingwebhookconfigurations": "admissionregistration.k8s.io", "secrets": "", "pods": "", "configmaps": "",
    "replicasets/finalizers": "apps", "replicasets": "apps", "deployments": "apps", "events": "",
}
PLUGIN_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
EXPLICIT_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]


RolePlan = namedtuple("RolePlan", "kind name role rules")
RolePlan.__doc__ = """A Role or ClusterRole whose rules change: ``role`` as read, ``rules`` the desired ones."""


class RbacError(ValueError):
    """Bad input; the message names the option."""


def plugin_rules(plugins):
    rules = []
    for name in plugins or []:
        if name not in PLUGIN_RULES:
            raise RbacError("task_plugins: unknown plugin %r; known: %s" % (name, ", ".join(sorted(PLUGIN_RULES))))
        rules.append(dict(PLUGIN_RULES[name], verbs=list(PLUGIN_VERBS)))
    return rules


def is_wildcard(rule):
    """True when a rule grants every API group or every resource."""
    return "*" in (rule.get("apiGroups") or []) or "*" in (rule.get("resources") or [])


def bound_roles(bindings, namespace, service_account):
    """``[(kind, name, binding kind/name)]`` of the roles bound to ``namespace/service_account``."""
    found = []
    for binding in bindings:
        for subject in binding.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("name") == service_account and \
                    subject.get("namespace", binding["metadata"].get("namespace")) == namespace:
                ref = binding.get("roleRef") or {}
                found.append((ref.get("kind"), ref.get("name"), "%s/%s" % (binding.get("kind"), binding["metadata"]["name"])))
    return found


def narrow_verbs(rules):
    """Rules with ``"*"`` verbs replaced by the explicit CRUD verbs (no escalate, bind, impersonate)."""
    result = []
    for rule in rules:
        rule = copy.deepcopy(rule)
        if "*" in (rule.get("verbs") or []):
            rule["verbs"] = list(EXPLICIT_VERBS)
        result.append(rule)
    return result


def normalized(rules):
    """Comparable form of a rules list (order of rules and of list entries ignored)."""
    out = []
    for rule in rules or []:
        out.append(tuple((key, tuple(sorted(rule.get(key) or []))) for key in
                         ("apiGroups", "resources", "resourceNames", "verbs", "nonResourceURLs")))
    return sorted(out)


def findings(roles_by_sa):
    """Wildcard rules still bound to Flyte service accounts: ``[{service_account, role, rule}]``."""
    found = []
    for sa, roles in sorted(roles_by_sa.items()):
        for role in roles:
            for rule in role.get("rules") or []:
                if is_wildcard(rule) or "*" in (rule.get("verbs") or []):
                    found.append({"service_account": sa, "role": "%s/%s" % (role.get("kind"), role["metadata"]["name"]),
                                  "rule": rule})
    return found


def explicit_groups(rules):
    """Rules with ``apiGroups: ['*']`` split into one rule per known group of their resources; None if one is unknown."""
    result = []
    for rule in rules:
        if "*" not in (rule.get("apiGroups") or []):
            result.append(copy.deepcopy(rule))
            continue
        resources = rule.get("resources") or []
        if "*" in resources or any(r not in RESOURCE_GROUPS for r in resources):
            return None
        groups = {}
        for resource in resources:
            groups.setdefault(RESOURCE_GROUPS[resource], []).append(resource)
        for group, names in sorted(groups.items()):
            result.append(dict(copy.deepcopy(rule), apiGroups=[group], resources=names))
    return result


# ---------------------------------------------------------------------------------------------- the role plan

def check_extra_rules(rules):
    """Validate the ``extra_rules`` option; raises RbacError naming the rule."""
    for index, rule in enumerate(rules or []):
        if not rule.get("verbs") or not (rule.get("resources") or rule.get("nonResourceURLs")):
            raise RbacError("extra_rules[%d]: a rule needs verbs and resources" % index)
        if is_wildcard(rule):
            raise RbacError("extra_rules[%d]: wildcard apiGroups/resources are what this module removes" % index)


def propeller_rules(task_plugins=None, extra_rules=None):
    """flytepropeller's explicit rules: PROPELLER_RULES, the task plugins' and ``extra_rules`` (validated)."""
    plugins = plugin_rules(task_plugins)
    check_extra_rules(extra_rules)
    return copy.deepcopy(PROPELLER_RULES) + plugins + copy.deepcopy(list(extra_rules or []))


def _ref(role):
    return role.get("kind"), role["metadata"]["name"]


def plan_roles(roles_by_sa, propeller_sa, admin_sa, other_sas=(), desired_propeller_rules=None, narrow_admin=True):
    """The roles whose rules change, as ``[RolePlan]``, in order: flytepropeller's, the other service accounts',
    flyteadmin's.

    ``roles_by_sa``: ``{service account: [Role/ClusterRole as read, with kind]}``. A propeller role with a wildcard
    rule gets ``desired_propeller_rules`` (``propeller_rules()``); an other service account's role with
    ``apiGroups: ['*']`` on named resources gets them split by group (``explicit_groups``, left alone when a group is
    unknown); with ``narrow_admin``, a flyteadmin role with ``*`` verbs gets explicit ones. A role bound to more than
    one of them is planned once, by the first. Roles already holding the desired rules are left out.
    """
    if desired_propeller_rules is None:
        desired_propeller_rules = propeller_rules()
    candidates = []
    for role in roles_by_sa.get(propeller_sa) or []:
        if any(is_wildcard(r) for r in role.get("rules") or []):
            candidates.append((role, copy.deepcopy(desired_propeller_rules)))
    for sa in other_sas or ():
        for role in roles_by_sa.get(sa) or []:
            if any("*" in (r.get("apiGroups") or []) for r in role.get("rules") or []):
                rules = explicit_groups(role.get("rules") or [])
                if rules is not None:
                    candidates.append((role, rules))
    if narrow_admin:
        for role in roles_by_sa.get(admin_sa) or []:
            if any("*" in (r.get("verbs") or []) for r in role.get("rules") or []):
                candidates.append((role, narrow_verbs(role.get("rules") or [])))
    plans, seen = [], set()
    for role, rules in candidates:
        ref = _ref(role)
        if ref in seen:
            continue
        seen.add(ref)
        if normalized(role.get("rules")) != normalized(rules):
            plans.append(RolePlan(ref[0], ref[1], role, rules))
    return plans


def roles_after(roles_by_sa, plans):
    """``roles_by_sa`` as it is once ``plans`` are applied (copies; the input is not changed)."""
    planned = dict(((plan.kind, plan.name), plan.rules) for plan in plans)
    after = {}
    for sa, roles in roles_by_sa.items():
        after[sa] = []
        for role in roles:
            role = copy.deepcopy(role)
            if _ref(role) in planned:
                role["rules"] = copy.deepcopy(planned[_ref(role)])
            after[sa].append(role)
    return after


def diff(plan):
    """The module's diff entry of one RolePlan: the rules before and after."""
    header = "%s/%s" % (plan.kind, plan.name)
    return dict(before_header=header, after_header=header, before={"rules": plan.role.get("rules")},
                after={"rules": plan.rules})
