# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where backup records (module_utils/k8s/backup.py) are kept: a directory, or Secrets in the cluster.

A *location* is what the modules' ``backup_dir`` option holds:

* a directory: ``<dir>/<run_id>/<namespace>_<Kind>_<name>.json``, mode 0600 (``DirectoryStore``);
* ``k8s:<namespace>``: Secrets in that namespace of the cluster the module talks to (``SecretStore``), for runs whose
  files do not outlive the job (AWX's execution environments). Secrets, because records hold Secret data.

``SecretStore`` keeps one record per Secret (``record.json``), with no ownerReferences (nothing the run deletes owns
it), labelled ``hardening.flytesec.io/backup-run=<run id>`` and ``hardening.flytesec.io/backup=record``, and
immutable. A record over ``CHUNK_BYTES`` is split into chunks, one Secret each (``<name>``, ``<name>-1``...), under
the 1 MiB object limit; one over ``MAX_CHUNKS`` chunks is refused with a message naming the object. Chunk 0 is
created last, so a record whose chunk 0 exists is complete. The first record of an object in a run wins, as with
files. ``prune(keep)`` deletes the records of every run but the ``keep`` newest.

``open_store(location, client)`` gives the store of a location; ``Writer``, flyte_lock, flyte_restore and the
rollback of a failed rollout all read and write records through it.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import os
import re
import shutil

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils

CLUSTER_PREFIX = "k8s:"
RUN_LABEL = bk.RUN_LABEL
KIND_LABEL = "hardening.flytesec.io/backup"
MANAGED_BY = {"app.kubernetes.io/managed-by": "flytesec.hardening"}
OF_ANNOTATION = "hardening.flytesec.io/backup-of"
RUN_ANNOTATION = "hardening.flytesec.io/backup-run-id"
TIME_ANNOTATION = "hardening.flytesec.io/backup-time"
CHUNK_ANNOTATION = "hardening.flytesec.io/backup-chunk"
DATA_KEY = "record.json"
# Secret data is limited to 1 MiB (bk.CONFIGMAP_LIMIT); a chunk leaves room for the metadata
CHUNK_BYTES = 768 * 1024
MAX_CHUNKS = 8
NAME_PREFIX = "flytesec-backup-"
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def is_cluster(location):
    """True when ``location`` names Secrets in the cluster (``k8s:<namespace>``)."""
    return bool(location) and str(location).startswith(CLUSTER_PREFIX)


def cluster_namespace(location):
    """The namespace of a ``k8s:<namespace>`` location (BackupError when it is not a namespace name)."""
    namespace = str(location)[len(CLUSTER_PREFIX):]
    if not _NAMESPACE.match(namespace):
        raise bk.BackupError("backup_dir: %r is not k8s:<namespace> (a namespace name: lowercase letters, digits, -)" % location)
    return namespace


def run_label_value(run_id):
    """``run_id`` as a label value (63 characters of ``[A-Za-z0-9._-]``, alphanumeric at both ends)."""
    value = re.sub(r"[^A-Za-z0-9._-]", "-", str(run_id))[:63].strip("-_.")
    return value or "run"


def open_store(location, client=None):
    """The store of ``location`` (None when unset): a ``SecretStore`` for ``k8s:<namespace>``, else a directory."""
    if not location:
        return None
    if is_cluster(location):
        if client is None:
            raise bk.BackupError("backup_dir %s: in-cluster backups need a Kubernetes client" % location)
        return SecretStore(client, cluster_namespace(location))
    return DirectoryStore(location)


def describe(location, run_id):
    """Where the backups of ``run_id`` are, for people: a folder, or the Secrets' namespace and label."""
    if is_cluster(location):
        return "k8s:%s (Secrets labelled %s=%s)" % (str(location)[len(CLUSTER_PREFIX):], RUN_LABEL, run_label_value(run_id))
    return "%s/%s" % (location, run_id)


class DirectoryStore:
    """Records as files under a directory (module_utils/k8s/backup.py's file functions)."""

    def __init__(self, directory):
        self.directory = directory

    def write(self, record):
        """Keep ``record`` (the first of an object in a run wins); return its path."""
        return bk.write_record(self.directory, record)

    def has_run(self, run_id):
        return os.path.isdir(bk.run_dir(self.directory, run_id))

    def load(self, run_id=None, namespace=None, kind=None, name=None):
        return bk.load_records(self.directory, namespace=namespace, run_id=run_id, kind=kind, name=name)

    def runs(self):
        """Run ids with backups, oldest first (by the time of their first record)."""
        firsts = {}
        for record in bk.load_records(self.directory):
            firsts.setdefault(record["run_id"], record["timestamp"])
        return sorted(firsts, key=lambda run: (firsts[run], run))

    def prune(self, keep, current=None):
        """Delete the backups of every run but the ``keep`` newest (and ``current``); return the run ids deleted."""
        old = to_prune(self.runs(), keep, current)
        for run_id in old:
            shutil.rmtree(bk.run_dir(self.directory, run_id), ignore_errors=True)
        return old


def to_prune(runs, keep, current):
    """The runs of ``runs`` (oldest first) that a retention of the ``keep`` newest deletes; never ``current``."""
    if keep is None or keep <= 0:
        return []
    kept = set(runs[-keep:]) | set([current] if current else [])
    return [run for run in runs if run not in kept]


class SecretStore:
    """Records as Secrets in ``namespace`` (see the module docstring)."""

    def __init__(self, client, namespace):
        self.client = client
        self.namespace = namespace

    def _base_name(self, record):
        key = "%s/%s" % (record["run_id"], bk.record_name(record))
        run = re.sub(r"[^a-z0-9-]", "-", str(record["run_id"]).lower()).strip("-")[:24].strip("-")
        return "%s%s-%s" % (NAME_PREFIX, run or "run", hashlib.sha256(key.encode("utf-8")).hexdigest()[:12])

    def chunks(self, record):
        """The Secret bodies that hold ``record``, chunk 0 first; BackupError when it needs more than MAX_CHUNKS."""
        text = bk.dumps(record).encode("utf-8")
        parts = [text[i:i + CHUNK_BYTES] for i in range(0, len(text), CHUNK_BYTES)] or [b""]
        of = "%s/%s/%s" % (record["kind"], record.get("namespace") or "-", record["name"])
        if len(parts) > MAX_CHUNKS:
            raise bk.BackupError(
                "the backup of %s is %d bytes: more than %d Secrets of %d KiB, refused (nothing was changed). Keep the "
                "backups of this run in a directory (backup_dir) instead of k8s:%s" % (
                    of, len(text), MAX_CHUNKS, CHUNK_BYTES // 1024, self.namespace))
        base = self._base_name(record)
        bodies = []
        for index, part in enumerate(parts):
            labels = dict(MANAGED_BY)
            labels.update({RUN_LABEL: run_label_value(record["run_id"]), KIND_LABEL: "record"})
            bodies.append({
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "immutable": True,
                "metadata": {"name": base if index == 0 else "%s-%d" % (base, index), "namespace": self.namespace,
                             "labels": labels,
                             "annotations": {OF_ANNOTATION: of, RUN_ANNOTATION: str(record["run_id"]),
                                             TIME_ANNOTATION: record["timestamp"],
                                             CHUNK_ANNOTATION: "%d/%d" % (index, len(parts))}},
                "data": {DATA_KEY: base64.b64encode(part).decode("ascii")},
            })
        return bodies

    def write(self, record):
        """Keep ``record`` (the first of an object in a run wins); return ``secret/<namespace>/<name>``."""
        bodies = self.chunks(record)
        first = bodies[0]["metadata"]["name"]
        where = "secret/%s/%s" % (self.namespace, first)
        try:
            if self.client.get("v1", "Secret", first, self.namespace) is not None:
                return where
            for body in bodies[1:] + bodies[:1]:   # chunk 0 last: its presence means the record is complete
                try:
                    self.client.create("v1", "Secret", body, self.namespace)
                except k8s_utils.FlyteK8sError as exc:   # 409: an earlier attempt of this run wrote it
                    if exc.status != 409:
                        raise
        except k8s_utils.FlyteK8sError as exc:
            raise bk.BackupError("cannot keep the backup of %s in Secret %s/%s: %s (nothing was changed)" % (
                bodies[0]["metadata"]["annotations"][OF_ANNOTATION], self.namespace, first, exc))
        return where

    def _secrets(self, run_id=None):
        selector = "%s=record" % KIND_LABEL
        if run_id:
            selector += ",%s=%s" % (RUN_LABEL, run_label_value(run_id))
        try:
            return self.client.list("v1", "Secret", self.namespace, label_selector=selector)
        except k8s_utils.FlyteK8sError as exc:
            raise bk.BackupError("cannot list the backup Secrets in %s: %s" % (self.namespace, exc))

    def _records(self, secrets):
        """Records assembled from their chunks (incomplete ones are an error naming the Secret)."""
        groups = {}
        for secret in secrets:
            meta = secret.get("metadata") or {}
            index, _sep, count = ((meta.get("annotations") or {}).get(CHUNK_ANNOTATION) or "0/1").partition("/")
            base = meta["name"] if index == "0" else meta["name"].rsplit("-", 1)[0]
            groups.setdefault(base, {"count": int(count or 1), "parts": {}})["parts"][int(index)] = secret
        records = []
        for base, group in sorted(groups.items()):
            if 0 not in group["parts"]:
                continue   # chunk 0 is written last: a record without it was never complete (a write cut short)
            if len(group["parts"]) != group["count"]:
                raise bk.BackupError("backup Secret %s/%s: %d of %d chunks found" % (
                    self.namespace, base, len(group["parts"]), group["count"]))
            text = b"".join(base64.b64decode(((group["parts"][i].get("data") or {}).get(DATA_KEY)) or "")
                            for i in range(group["count"]))
            records.append(bk.loads(text.decode("utf-8"), "Secret %s/%s" % (self.namespace, base)))
        return records

    def has_run(self, run_id):
        return bool(self.load(run_id=run_id))

    def load(self, run_id=None, namespace=None, kind=None, name=None):
        records = self._records(self._secrets(run_id))
        wanted = {"namespace": namespace, "run_id": run_id, "kind": kind, "name": name}
        selected = [r for r in records if all(v is None or r.get(f) == v for f, v in wanted.items())]
        return sorted(selected, key=lambda r: (r["timestamp"], r["kind"], r["name"]))

    def runs(self):
        firsts = {}
        for secret in self._secrets():
            annotations = (secret.get("metadata") or {}).get("annotations") or {}
            run, when = annotations.get(RUN_ANNOTATION), annotations.get(TIME_ANNOTATION) or ""
            if run and (run not in firsts or when < firsts[run]):
                firsts[run] = when
        return sorted(firsts, key=lambda run: (firsts[run], run))

    def prune(self, keep, current=None):
        """Delete the Secrets of every run but the ``keep`` newest (and ``current``); return the run ids deleted."""
        old = to_prune(self.runs(), keep, current)
        for run_id in old:
            for secret in self._secrets(run_id):
                if ((secret.get("metadata") or {}).get("annotations") or {}).get(RUN_ANNOTATION) == run_id:
                    self.client.delete("v1", "Secret", secret["metadata"]["name"], self.namespace)
        return old


def load_records(location, client, **filters):
    """Records at ``location`` matching ``filters`` (run_id, namespace, kind, name), oldest first."""
    store = open_store(location, client)
    return store.load(**filters) if store else []
