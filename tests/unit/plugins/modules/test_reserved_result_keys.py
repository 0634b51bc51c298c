# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No module result may carry a key that ansible-core reads itself (issue 22).

A module result with ``skipped`` makes ansible-core ignore ``changed_when``/``failed_when`` (flyte_rollout's list of
paused workloads turned a check job's ``changed_when: false`` off, and every scheduled drift job over-reported);
``failed``, ``rc``, ``unreachable``, ``results``... are read the same way. Every module's RETURN is checked here, and
the result of every module that ran in the other unit tests is checked by ``fake_client.run_module``.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib
import os

import pytest
import yaml

from fake_client import RESERVED_RESULT_KEYS, reserved_keys

MODULES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")
MODULES = sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.startswith("flyte_") and name.endswith(".py"))


def _returns(name):
    module = importlib.import_module("ansible_collections.flytesec.hardening.plugins.modules.%s" % name)
    return yaml.safe_load(module.RETURN) or {}


def test_every_module_is_checked():
    assert "flyte_rollout" in MODULES and len(MODULES) >= 15


@pytest.mark.parametrize("name", MODULES)
def test_return_documents_no_reserved_key(name):
    returns = _returns(name)
    assert reserved_keys(returns) == [], "%s documents result keys ansible-core reserves" % name


@pytest.mark.parametrize("name", MODULES)
def test_documentation_parses(name):
    module = importlib.import_module("ansible_collections.flytesec.hardening.plugins.modules.%s" % name)
    assert yaml.safe_load(module.DOCUMENTATION)["module"] == name
    assert isinstance(yaml.safe_load(module.EXAMPLES), list)


@pytest.mark.parametrize("name", MODULES)
def test_facts_are_the_collections_own(name):
    facts = (_returns(name).get("ansible_facts") or {}).get("contains") or {}
    assert all(key.startswith("flytesec_") for key in facts), sorted(facts)


def test_the_check_catches_the_keys_that_turned_changed_when_off():
    assert reserved_keys({"skipped": [], "restarted": []}) == ["skipped"]
    assert reserved_keys({"failed": False, "rc": 0, "ansible_python_interpreter": "x", "_ansible_no_log": True}) == \
        ["_ansible_no_log", "ansible_python_interpreter", "failed", "rc"]
    assert reserved_keys({"changed": True, "diff": [], "msg": "ok", "ansible_facts": {}, "not_restarted": []}) == []
    assert {"skipped", "failed", "unreachable", "results", "rc"} <= set(RESERVED_RESULT_KEYS)
