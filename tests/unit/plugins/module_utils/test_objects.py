# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function

from ansible_collections.flytesec.hardening.plugins.module_utils import objects

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
