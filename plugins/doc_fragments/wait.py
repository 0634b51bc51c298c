# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options for waiting on a rollout and undoing a failed one (module_utils/args_common.WAIT)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Documentation of wait, wait_timeout, wait_sleep and rollback_on_failure."""

    DOCUMENTATION = r"""
options:
  wait:
    description: Wait for each restarted workload's rollout to complete.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each rollout.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two status reads while waiting.
    type: int
    default: 2
  rollback_on_failure:
    description:
      - When a rollout fails or times out, put back the workload's previous pod template and every ConfigMap and Secret
        it consumes that has a backup record of this run under O(backup_dir).
    type: bool
    default: true
"""
