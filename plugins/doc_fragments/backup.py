# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the one write path (module_utils/k8s/apply.py): where backups go and which run they belong to."""
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
      - C(k8s:NAMESPACE) keeps them in the cluster instead, as Secrets in NAMESPACE (they hold Secret data), one record
        each, labelled C(hardening.flytesec.io/backup-run=<run_id>), immutable and owned by nothing; a record over
        768 KiB is split into up to 8 Secrets under the 1 MiB object limit, a larger one is refused before the
        object changes. For runs whose files do not outlive the job (AWX execution environments).
      - Unset, no backup is kept.
    type: path
  run_id:
    description:
      - Identifier of the hardening run; groups its backups under O(backup_dir). Unset, the module makes one.
    type: str
"""
