# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way a module writes an object.

``Writer`` wraps a ``k8s.FlyteK8sClient``. For every write it:

* keeps what restores it first: a backup record of the object as read before a patch, or an *absent* record
  before a create (``flyte_restore`` then deletes the object it created);
* writes with a precondition: a merge or strategic merge patch carries the ``resourceVersion`` that was read, so
  an edit made by someone else in between fails with 409 Conflict instead of being overwritten;
* on 409 reads the object again: when only what the API server and controllers move changed (status,
  resourceVersion, managedFields, generation, a Deployment's revision annotation), it sends the same patch with the
  new resourceVersion (up to ``CONFLICT_RETRIES`` times); when anyone changed the content, it fails;
* records what it wrote (``changed``), for the module's result.

``backup_dir`` is a location (module_utils/k8s/backup_store.py): a directory, or ``k8s:<namespace>`` for Secrets in the
cluster. In check mode the client sends server-side dry runs and no backup record is kept.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup_store
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils

PRECONDITION_PATCH_TYPES = ("merge", "strategic")
CONFLICT_RETRIES = 3
# what the API server and controllers change on their own; a conflict on these alone is not someone else's edit
SERVER_METADATA = ("resourceVersion", "managedFields", "generation")
SERVER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)


def content(obj):
    """``obj`` without what the API server and controllers move by themselves (for conflict decisions)."""
    out = dict((k, v) for k, v in (obj or {}).items() if k != "status")
    meta = dict((k, v) for k, v in (out.get("metadata") or {}).items() if k not in SERVER_METADATA)
    annotations = dict((k, v) for k, v in (meta.get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS)
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    out.pop("apiVersion", None)
    out.pop("kind", None)
    return out


class Writer:
    """Backup, precondition, write. ``check_mode``: dry runs only, no backup records."""

    def __init__(self, client, check_mode=False, backup_dir=None, run_id=None):
        self.client = client
        self.check_mode = check_mode
        self.backup_dir = backup_dir
        try:
            self.store, self.store_error = backup_store.open_store(backup_dir, client), None
        except bk.BackupError as exc:   # a bad location fails the first write, before anything is written
            self.store, self.store_error = None, exc
        self.run_id = run_id or bk.new_run_id()
        self.backups = []
        self.changed = []

    def _keep(self, record):
        if self.store_error is not None and not self.check_mode:
            raise self.store_error
        if self.store is not None and not self.check_mode:
            self.backups.append(self.store.write(record))

    def create(self, body):
        """Create ``body`` (a full object with apiVersion, kind, metadata.name), recording that it did not exist."""
        meta = body["metadata"]
        self._keep(bk.absent_record(body["apiVersion"], body["kind"], meta["name"], meta.get("namespace"), self.run_id))
        created = self.client.create(body["apiVersion"], body["kind"], body, meta.get("namespace"))
        self.changed.append(label(body["kind"], meta.get("namespace"), meta["name"]))
        return created

    def patch(self, current, patch, patch_type="merge", api_version=None, kind=None):
        """Patch the object ``current`` (as read) with ``patch``; backed up first, refused if it changed since."""
        current = dict(current)
        current["apiVersion"] = api_version or current.get("apiVersion")
        current["kind"] = kind or current.get("kind")
        meta = current["metadata"]
        self._keep(bk.make_record(current, run_id=self.run_id))
        read = current
        for attempt in range(CONFLICT_RETRIES + 1):
            body = patch
            version = read["metadata"].get("resourceVersion")
            if version and patch_type in PRECONDITION_PATCH_TYPES:
                body = copy.deepcopy(patch)
                body.setdefault("metadata", {})["resourceVersion"] = version
            try:
                result = self.client.patch(current["apiVersion"], current["kind"], meta["name"], meta.get("namespace"),
                                           body, patch_type=patch_type)
                break
            except k8s_utils.FlyteK8sError as exc:
                if exc.status != 409 or attempt == CONFLICT_RETRIES:
                    raise
                fresh = self.client.get(current["apiVersion"], current["kind"], meta["name"], meta.get("namespace"))
                if fresh is None or content(fresh) != content(current):
                    raise k8s_utils.FlyteK8sError(
                        "%s %s/%s changed since this run read it (someone else edited it); nothing was overwritten. "
                        "Run again to plan on the new state." % (current["kind"], meta.get("namespace"), meta["name"]),
                        409, "Conflict")
                read = fresh
        self.changed.append(label(current["kind"], meta.get("namespace"), meta["name"]))
        return result


def label(kind, namespace, name):
    return "%s/%s/%s" % (kind, namespace or "-", name)
