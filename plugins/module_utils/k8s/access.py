# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permissions a run needs, asked before the first request that needs them (flyte_info's ``access_rules``).

Rules are given in RBAC form (``apiGroups``, ``resources``, ``verbs``) with the ``namespace`` they apply in (none
for cluster-wide ones), as awx/rbac/role.yml and clusterrole.yml ship them; ``expand`` turns them into single
permissions, ``missing`` asks the API server (SelfSubjectAccessReview, through ``FlyteK8sClient.can``) for each and
returns the refused ones, and ``message`` names them. ``permission`` is the one a request on an object needs (flyte_restore
asks those of the reads and writes it is about to make).
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


def permission(client, api_version, kind, verb, namespace=None, name=None):
    """The ``(group, resource, verb, namespace)`` that ``verb`` on the object ``kind`` ``namespace``/``name`` needs.

    The resource is discovery's plural; a Namespace is asked in itself (RBAC authorizes a request on the Namespace N
    in N, so a Role there grants it), another cluster-scoped object cluster-wide."""
    found = client.resource(api_version, kind)
    group = api_version.rpartition("/")[0]
    if kind == "Namespace":
        namespace = name
    elif not getattr(found, "namespaced", True):
        namespace = None
    return (group, found.name, verb, namespace or None)


def unique(items):
    """``items`` without repeats, in their order."""
    out = []
    for item in items:
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


def message(refused, total, prefix="preflight", needs="the run needs"):
    return ("%s: the identity of this run lacks %d of the %d permissions %s (asked with "
            "SelfSubjectAccessReview, nothing was written): %s. Grant them (awx/rbac/role.yml, awx/rbac/clusterrole.yml)"
            % (prefix, len(refused), total, needs, "; ".join("cannot %s" % describe(item) for item, _reason in refused)))
