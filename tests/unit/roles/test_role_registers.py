# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every task of the areas that can change something registers a result the flytesec role reads after its plan pass.

roles/flytesec/tasks/main.yml skips the lock and the real pass when no registered result of the plan pass is changed
(roles/flytesec/vars/main.yml: flytesec_change_registers). A task missing from that list would make a run that has
something to change skip it: this test finds such tasks in the roles that tasks/areas.yml includes.
"""
from __future__ import absolute_import, division, print_function

import os

import yaml

__metaclass__ = type

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# Modules that never change anything, and task keywords that are not modules.
READ_ONLY = {
    "ansible.builtin.set_fact", "ansible.builtin.assert", "ansible.builtin.fail", "ansible.builtin.debug",
    "ansible.builtin.include_role", "ansible.builtin.include_tasks", "ansible.builtin.import_tasks",
    "ansible.builtin.meta", "ansible.builtin.set_stats", "kubernetes.core.k8s_info",
}


def _areas_roles():
    with open(os.path.join(ROOT, "roles", "flytesec", "tasks", "areas.yml")) as handle:
        tasks = yaml.safe_load(handle)
    roles = [t["ansible.builtin.include_role"]["name"].rsplit(".", 1)[1] for t in tasks if "ansible.builtin.include_role" in t]
    found = set(roles)
    for role in roles:   # roles those roles include (auth includes auth_secrets)
        for task in _tasks(role):
            if "ansible.builtin.include_role" in task:
                found.add(task["ansible.builtin.include_role"]["name"].rsplit(".", 1)[1])
    return sorted(found)


def _tasks(role):
    folder = os.path.join(ROOT, "roles", role, "tasks")
    out = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as handle:
            out.extend(_flatten(yaml.safe_load(handle) or []))
    return out


def _flatten(tasks):
    for task in tasks:
        for key in ("block", "rescue", "always"):
            if key in task:
                yield from _flatten(task[key])
        yield task


def _can_change(task):
    modules = [k for k in task if "." in k and k not in READ_ONLY]
    if not modules or task.get("changed_when") is False:
        return False
    args = task[modules[0]] or {}
    return not (isinstance(args, dict) and args.get("validate_only") is True)


def test_every_task_that_can_change_something_is_read_after_the_plan():
    with open(os.path.join(ROOT, "roles", "flytesec", "vars", "main.yml")) as handle:
        registers = set(yaml.safe_load(handle)["flytesec_change_registers"])
    with open(os.path.join(ROOT, "roles", "flytesec", "tasks", "areas.yml")) as handle:
        areas = list(_flatten(yaml.safe_load(handle)))
    missing = []
    for role in _areas_roles():
        for task in _tasks(role):
            if _can_change(task) and task.get("register") not in registers:
                missing.append("%s: %s (register: %s)" % (role, task.get("name"), task.get("register")))
    for task in areas:
        if _can_change(task) and task.get("register") not in registers:
            missing.append("areas.yml: %s (register: %s)" % (task.get("name"), task.get("register")))
    assert not missing, "add to flytesec_change_registers (roles/flytesec/vars/main.yml):\n" + "\n".join(missing)


def test_the_list_names_only_registers_that_exist():
    with open(os.path.join(ROOT, "roles", "flytesec", "vars", "main.yml")) as handle:
        registers = set(yaml.safe_load(handle)["flytesec_change_registers"])
    used = set(t.get("register") for role in _areas_roles() for t in _tasks(role))
    with open(os.path.join(ROOT, "roles", "flytesec", "tasks", "areas.yml")) as handle:
        used |= set(t.get("register") for t in _flatten(yaml.safe_load(handle)))
    assert registers <= used, sorted(registers - used)
