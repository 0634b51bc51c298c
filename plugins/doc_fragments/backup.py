# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the one write path (module_utils/apply.py): where backups go and which run they belong to."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Documentation of backup_dir and run_id."""

    DOCUMENTATION = r"""
options:
  backup_dir:
    description:
      - Directory for a backup record (mode 0600) of every object before this module changes it, and a record of every
        object it creates, so that P(flytesec.hardening.flyte_restore#module) puts changed objects back and deletes
        created ones. Nothing is recorded in check mode.
      - Unset, no backup is kept.
    type: path
  run_id:
    description:
      - Identifier of the hardening run; groups its backups under O(backup_dir). Unset, the module makes one.
    type: str
"""
