# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permissions a run needs, asked before the first request that needs them (flyte_info's ``access_rules``).

Rules are given in RBAC form (``apiGroups``, ``resources``, ``verbs``) with the ``namespace`` they apply in (none
for cluster-wide ones), as awx/rbac/role.yml and clusterrole.yml ship them; ``expand`` turns them into single
permissions, ``missing`` asks the API server (SelfSubjectAccessReview, through ``FlyteK8sClient.can``) for each and
returns the refused ones, and ``message`` names them.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class AccessError(Exception):
    """A rule is malformed; the message names it."""


def expand(rules):
    """Unique ``(group, resource, verb, namespace)`` of ``rules``, in their order."""
    out = []
    for index, rule in enumerate(rules or []):
        if not isinstance(rule, dict):
            raise AccessError("access_rules[%d]: must be a rule (apiGroups, resources, verbs, namespace), got %r" % (index, rule))
        for key in ("apiGroups", "resources", "verbs"):
            values = rule.get(key)
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                raise AccessError("access_rules[%d].%s: must be a non-empty list of strings" % (index, key))
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    item = (group, resource, verb, rule.get("namespace") or None)
                    if item not in out:
                        out.append(item)
    return out


def describe(item):
    group, resource, verb, namespace = item
    what = "%s%s" % (resource, "." + group if group else "")
    return "%s %s %s" % (verb, what, "in namespace %s" % namespace if namespace else "cluster-wide")


def missing(client, items):
    """The items of ``items`` the API server says this client may not do, each with the reason it gave."""
    refused = []
    for item in items:
        group, resource, verb, namespace = item
        allowed, reason = client.can(verb, resource, group, namespace)
        if not allowed:
            refused.append((item, reason))
    return refused


def message(refused, total):
    return ("preflight: the identity of this run lacks %d of the %d permissions the run needs (asked with "
            "SelfSubjectAccessReview, nothing was written): %s. Grant them (awx/rbac/role.yml, awx/rbac/clusterrole.yml)"
            % (len(refused), total, "; ".join("cannot %s" % describe(item) for item, _reason in refused)))
