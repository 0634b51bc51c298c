# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs modules share, in one place (as kubernetes.core's ``args_common``).

Each spec has a doc fragment of the same name under ``plugins/doc_fragments``:
``TARGET`` is ``flytesec.hardening.flyte_target``, ``BACKUP`` is ``flytesec.hardening.backup`` and
``WAIT`` is ``flytesec.hardening.wait``. ``spec(...)`` merges them with a module's own options.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

# The Flyte installation a module works on (doc fragment flytesec.hardening.flyte_target).
TARGET = dict(
    namespace=dict(type="str", default="flyte"),
    layout=dict(type="str", choices=["auto", "flyte-core", "flyte-binary"], default="auto"),
    release_name=dict(type="str"),
)

# The one write path's backups (doc fragment flytesec.hardening.backup; module_utils/k8s/apply.py).
BACKUP = dict(
    backup_dir=dict(type="path"),
    run_id=dict(type="str"),
)

# Waiting for a rollout and undoing a failed one (doc fragment flytesec.hardening.wait; module_utils/k8s/rollout_wait.py).
WAIT = dict(
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=300),
    wait_sleep=dict(type="int", default=2),
    rollback_on_failure=dict(type="bool", default=True),
)


def spec(*shared, **own):
    """A module's argument spec: deep copies of the ``shared`` specs, then its ``own`` options (which win)."""
    out = {}
    for part in shared:
        out.update(copy.deepcopy(part))
    out.update(own)
    return out


def check_wait(params):
    """The message for bad wait options, or None."""
    if params.get("wait_timeout", 0) < 0:
        return "wait_timeout must be >= 0 (got %s)" % params["wait_timeout"]
    if params.get("wait_sleep", 1) < 1:
        return "wait_sleep must be >= 1 (got %s)" % params["wait_sleep"]
    return None
