# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import objects

__metaclass__ = type


def test_server_defaults_are_ignored_but_changes_are_not():
    desired = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "labels": {"m": "1"}},
               "spec": {"rules": [{"from": [{"principals": ["p1", "p2"]}]}]}}
    live = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "labels": {"m": "1", "other": "x"}, "uid": "u"},
            "spec": {"rules": [{"from": [{"principals": ["p1", "p2"]}], "when": []}], "admission": True}}
    assert objects.differences(live, desired) == []
    live["spec"]["rules"][0]["from"][0]["principals"] = ["p1", "p2", "intruder"]
    assert objects.differences(live, desired) == ["spec"]
    live["spec"]["rules"][0]["from"][0]["principals"] = ["p1", "p2"]
    live["metadata"]["labels"] = {}
    assert objects.differences(live, desired) == ["metadata.labels"]


def test_contains_handles_missing_and_empty():
    assert objects.contains(None, {}) and objects.contains(None, [])
    assert not objects.contains(None, {"a": 1}) and not objects.contains([1], [1, 2])


def test_plan_create_update_or_nothing():
    desired = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "namespace": "n", "labels": {"m": "1"}},
               "spec": {"a": [1]}}
    assert objects.plan(None, desired) == ("create", desired)
    live = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "labels": {"m": "1"}, "resourceVersion": "3"},
            "spec": {"a": [1], "defaulted": True}}
    assert objects.plan(live, desired) == (None, None)
    live["spec"]["a"] = [2]
    assert objects.plan(live, desired) == ("update", {"spec": {"a": [1]}, "metadata": {"labels": {"m": "1"}}})


def test_exact_fields_are_compared_whole_empty_values_aside():
    desired = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "a"},
               "spec": {"podSelector": {}, "ingress": [], "egress": [{"ports": [{"protocol": "TCP", "port": 5432}]}]}}
    live = {"metadata": {"name": "a"}, "spec": {"podSelector": {}, "egress": [{"ports": [{"protocol": "TCP", "port": 5432}]}]}}
    assert objects.differences(live, desired, exact=("spec",)) == []
    live["spec"]["egress"][0]["ports"][0]["endPort"] = 6000   # a wider range: contained, but not what was built
    assert objects.differences(live, desired) == []
    assert objects.differences(live, desired, exact=("spec",)) == ["spec"]
