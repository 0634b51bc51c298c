# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight's permission check (issue 22): rules expanded to single permissions, each asked, the missing ones
named; the shipped awx/rbac rules are what the check asks by default."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import access

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")


class Reviewer:
    def __init__(self, denied=()):
        self.denied = set(denied)
        self.asked = []

    def can(self, verb, resource, group="", namespace=None):
        self.asked.append((group, resource, verb, namespace))
        return (group, resource, verb, namespace) not in self.denied, "RBAC: not allowed"


def _shipped():
    with open(os.path.join(ROOT, "awx", "rbac", "role.yml")) as handle:
        role = yaml.safe_load(handle)
    with open(os.path.join(ROOT, "awx", "rbac", "clusterrole.yml")) as handle:
        cluster = yaml.safe_load(handle)
    return role, cluster


def test_expand_and_name_the_missing_permission():
    rules = [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "update"], "namespace": "flyte"},
             {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["get"]},
             {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get"], "namespace": "flyte"}]
    items = access.expand(rules)
    assert items == [("coordination.k8s.io", "leases", "get", "flyte"), ("coordination.k8s.io", "leases", "update", "flyte"),
                     ("rbac.authorization.k8s.io", "clusterroles", "get", None)]
    reviewer = Reviewer(denied=[("coordination.k8s.io", "leases", "update", "flyte")])
    refused = access.missing(reviewer, items)
    assert reviewer.asked == items and [item for item, _reason in refused] == [items[1]]
    text = access.message(refused, len(items))
    assert "lacks 1 of the 3 permissions" in text and "cannot update leases.coordination.k8s.io in namespace flyte" in text
    assert access.describe(items[2]) == "get clusterroles.rbac.authorization.k8s.io cluster-wide"


@pytest.mark.parametrize("rule,option", [
    ("leases", "access_rules[0]"),
    ({"apiGroups": [""], "resources": [], "verbs": ["get"]}, "access_rules[0].resources"),
    ({"apiGroups": [""], "resources": ["pods"], "verbs": "get"}, "access_rules[0].verbs"),
    ({"resources": ["pods"], "verbs": ["get"]}, "access_rules[0].apiGroups"),
])
def test_malformed_rules_name_the_option(rule, option):
    with pytest.raises(access.AccessError, match=option.replace("[", r"\[").replace("]", r"\]")):
        access.expand([rule])


def test_shipped_rules_one_need_each_and_nothing_cluster_wide_that_writes():
    role, cluster = _shipped()
    assert role["kind"] == "Role" and cluster["kind"] == "ClusterRole"
    for rules in (role["rules"], cluster["rules"]):
        items = access.expand(rules)
        assert len(items) == sum(len(r["apiGroups"]) * len(r["resources"]) * len(r["verbs"]) for r in rules), \
            "a permission is granted twice"
        assert all("*" not in (r["apiGroups"] + r["resources"] + r["verbs"]) for r in rules)
    assert set(v for r in cluster["rules"] for v in r["verbs"]) <= set(["get", "list"])


def test_the_permission_of_a_request_on_an_object():
    """Discovery's plural and group; a Namespace is asked in itself, another cluster-scoped object cluster-wide."""
    class Discovery:
        PLURALS = {"Deployment": ("deployments", True), "Namespace": ("namespaces", False),
                   "ClusterRole": ("clusterroles", False), "NetworkPolicy": ("networkpolicies", True)}

        def resource(self, api_version, kind):
            found = type("Resource", (), {})()
            found.name, found.namespaced = self.PLURALS[kind]
            return found
    client = Discovery()
    assert access.permission(client, "apps/v1", "Deployment", "patch", "flyte", "flyteadmin") == ("apps", "deployments", "patch", "flyte")
    assert access.permission(client, "v1", "Namespace", "patch", None, "flyte") == ("", "namespaces", "patch", "flyte")
    assert access.permission(client, "rbac.authorization.k8s.io/v1", "ClusterRole", "patch", "flyte", "x") == \
        ("rbac.authorization.k8s.io", "clusterroles", "patch", None)
    assert access.permission(client, "networking.k8s.io/v1", "NetworkPolicy", "delete", "flyte") == \
        ("networking.k8s.io", "networkpolicies", "delete", "flyte")
    assert access.unique([1, 2, 1, 3, 2]) == [1, 2, 3]
