# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backup records of Kubernetes objects taken before the collection changes them, complete enough to restore.

A record is a JSON-serialisable dict::

    {"format": "flytesec.hardening/backup/v1", "run_id": ..., "timestamp": "2026-11-24T09:30:00.000000Z",
     "apiVersion": "v1", "kind": "ConfigMap", "namespace": "flyte", "name": "flyte-admin-base-config",
     "uid": ..., "resourceVersion": ..., "labels": {...}, "annotations": {...},
     "restorable": true, "reason": null, "data_keys": [...],
     "object": {apiVersion, kind, metadata: {name, namespace, labels, annotations, ownerReferences, finalizers},
                data / binaryData / stringData / type / immutable / spec ... as they were}}

``object`` is the object without server-managed fields (managedFields, resourceVersion, uid, creationTimestamp,
generation, selfLink, status): exactly the body that puts it back (``restore_body``, for a replace/PUT without
resourceVersion, i.e. unconditional) or, against the live object, the JSON merge patch that does
(``restore_patch``). ``uid`` and ``resourceVersion`` are kept beside it for the record.

Storage:

* files: ``<backup_dir>/<run_id>/<namespace>_<Kind>_<name>.json`` (``_`` never occurs in Kubernetes names).
  Every backup file is written with mode 0600 (Secrets included) in directories created with mode 0700, atomically
  (temporary file + rename). The first backup of an object in a run is kept: a later one in the same run would
  hold an already-changed object, so ``write_record`` does not overwrite unless asked.
* a ConfigMap (or Secret) payload: ``to_object``/``from_object``, one data key per record.
* ``omit_secret_data=True`` records a Secret without its data (and without its last-applied annotation, which
  holds the data too): safe to store anywhere, but ``restorable`` is false and ``restore_body`` refuses it.
  A ConfigMap payload refuses records that carry Secret data.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import copy
import datetime
import glob
import json
import os
import re
import tempfile
import uuid

FORMAT = "flytesec.hardening/backup/v1"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink",
                   "deletionTimestamp", "deletionGracePeriodSeconds")
SECRET_FIELDS = ("data", "stringData")
RESTORE_FIELDS = ("data", "binaryData", "stringData", "spec", "immutable", "rules", "aggregationRule", "subjects",
                  "automountServiceAccountToken", "template")
CONFIGMAP_LIMIT = 1024 * 1024
RUN_LABEL = "hardening.flytesec.io/backup-run"
DEFAULT_API_VERSIONS = {"ConfigMap": "v1", "Secret": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1",
                        "DaemonSet": "apps/v1"}


class BackupError(Exception):
    """A backup cannot be made, stored, read or restored; the message says which and why."""


def new_run_id(now=None):
    """A run id such as ``20261124T093000Z-1a2b3c``: sortable by time, unique per run."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return "%s-%s" % (now.strftime("%Y%m%dT%H%M%SZ"), uuid.uuid4().hex[:6])


def _timestamp(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_default(value):
    """JSON for the few non-JSON values a Kubernetes client model can hold (datetimes)."""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise TypeError("cannot serialise %s in a backup" % type(value).__name__)


def restorable_copy(obj):
    """Deep copy of ``obj`` without status and server-managed metadata."""
    body = copy.deepcopy(dict((k, v) for k, v in obj.items() if k != "status"))
    metadata = dict((k, v) for k, v in (body.get("metadata") or {}).items() if k not in SERVER_METADATA and v is not None)
    body["metadata"] = metadata
    return body


def make_record(obj, run_id=None, omit_secret_data=False, now=None):
    """Backup record of ``obj`` (a dict as returned by the API) as it is now; the input is not changed."""
    metadata = obj.get("metadata") or {}
    kind = obj.get("kind")
    if not kind or not metadata.get("name"):
        raise BackupError("cannot back up an object without kind and metadata.name")
    body = restorable_copy(obj)
    body.setdefault("apiVersion", obj.get("apiVersion") or DEFAULT_API_VERSIONS.get(kind, "v1"))
    body["kind"] = kind
    record = {
        "format": FORMAT,
        "run_id": run_id or new_run_id(),
        "timestamp": _timestamp(now),
        "apiVersion": body["apiVersion"],
        "kind": kind,
        "namespace": metadata.get("namespace"),
        "name": metadata["name"],
        "uid": metadata.get("uid"),
        "resourceVersion": metadata.get("resourceVersion"),
        "labels": copy.deepcopy(metadata.get("labels") or {}),
        "annotations": copy.deepcopy(metadata.get("annotations") or {}),
        "data_keys": sorted(set(obj.get("data") or {}) | set(obj.get("binaryData") or {}) | set(obj.get("stringData") or {})),
        "restorable": True,
        "reason": None,
        "object": body,
    }
    if kind == "Secret" and omit_secret_data:
        _omit_secret_data(record)
    return record


def absent_record(api_version, kind, name, namespace=None, run_id=None, now=None):
    """Record that ``kind`` ``namespace/name`` did not exist before the run created it: restoring it deletes it."""
    return {"format": FORMAT, "run_id": run_id or new_run_id(), "timestamp": _timestamp(now),
            "apiVersion": api_version, "kind": kind, "namespace": namespace, "name": name, "uid": None,
            "resourceVersion": None, "labels": {}, "annotations": {}, "data_keys": [], "restorable": True,
            "reason": None, "absent": True, "object": None}


def _omit_secret_data(record):
    body = record["object"]
    for field in SECRET_FIELDS:
        body.pop(field, None)
    for annotations in (record["annotations"], body["metadata"].get("annotations") or {}):
        annotations.pop(LAST_APPLIED_ANNOTATION, None)
    record["restorable"] = False
    record["reason"] = "the backup of Secret %s/%s omits its data (omit_secret_data): it cannot be restored from it" % (
        record["namespace"], record["name"])


def holds_secret_data(record):
    """True when the record carries the data of a Secret."""
    return record.get("kind") == "Secret" and any((record.get("object") or {}).get(field) for field in SECRET_FIELDS)


# ------------------------------------------------------------------------------------------------------- files

def _safe(part):
    return re.sub(r"[^A-Za-z0-9.-]", "-", str(part or "")) or "-"


def record_name(record):
    """File and payload key name of a record: ``<namespace>_<Kind>_<name>.json``."""
    return "%s_%s_%s.json" % (_safe(record.get("namespace") or "cluster"), _safe(record["kind"]), _safe(record["name"]))


def run_dir(backup_dir, run_id):
    """The folder of the records of ``run_id`` under ``backup_dir``."""
    return os.path.join(backup_dir, _safe(run_id))


def record_path(backup_dir, record):
    """Where ``write_record`` puts a record: ``<backup_dir>/<run_id>/<namespace>_<Kind>_<name>.json``."""
    return os.path.join(backup_dir, _safe(record["run_id"]), record_name(record))


def dumps(record):
    """Deterministic JSON text of a record."""
    return json.dumps(record, indent=2, sort_keys=True, default=_json_default) + "\n"


def loads(text, source="backup"):
    """Record from JSON text; checks the format."""
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise BackupError("%s: not a JSON backup record: %s" % (source, exc))
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise BackupError("%s: not a %s record" % (source, FORMAT))
    return record


def write_record(backup_dir, record, overwrite=False):
    """Write ``record`` with mode 0600 and return its path; an existing backup from the same run is kept."""
    path = record_path(backup_dir, record)
    if os.path.exists(path) and not overwrite:
        return path
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=directory)
        try:
            with os.fdopen(handle, "w") as stream:
                stream.write(dumps(record))
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        raise BackupError("cannot write backup %s: %s" % (path, exc))
    return path


def read_record(path):
    """Record stored at ``path``."""
    try:
        with open(path) as stream:
            return loads(stream.read(), path)
    except (IOError, OSError) as exc:
        raise BackupError("cannot read backup %s: %s" % (path, exc))


def load_records(backup_dir, namespace=None, run_id=None, kind=None, name=None):
    """Records under ``backup_dir`` matching the filters, oldest first (``[]`` when the directory is missing)."""
    run_glob = _safe(run_id) if run_id else "*"
    records = [read_record(path) for path in glob.glob(os.path.join(backup_dir, run_glob, "*.json"))]
    wanted = {"namespace": namespace, "run_id": run_id, "kind": kind, "name": name}
    selected = [r for r in records if all(value is None or r.get(field) == value for field, value in wanted.items())]
    return sorted(selected, key=lambda r: (r["timestamp"], r["kind"], r["name"]))


def latest_per_object(records):
    """The most recent record of each object (the state before the latest run that changed it)."""
    latest = {}
    for record in sorted(records, key=lambda r: r["timestamp"]):
        key = (record["kind"], record.get("namespace"), record["name"])
        if key not in latest or latest[key]["run_id"] != record["run_id"]:
            latest[key] = record
    return sorted(latest.values(), key=lambda r: (r["kind"], r.get("namespace") or "", r["name"]))


# ------------------------------------------------------------------------------------------- object payloads

def to_object(records, name, namespace, kind="ConfigMap", labels=None):
    """A ConfigMap (or Secret) body holding ``records``, one data key each (``<namespace>_<Kind>_<name>.json``).

    A ConfigMap refuses records that carry Secret data (store them in a Secret, or omit their data);
    the payload must stay under the 1 MiB object limit.
    """
    if kind not in ("ConfigMap", "Secret"):
        raise BackupError("backups are stored in a ConfigMap or a Secret, not a %s" % kind)
    data = {}
    for record in records:
        if kind == "ConfigMap" and holds_secret_data(record):
            raise BackupError("refusing to put the data of Secret %s/%s into ConfigMap %s: store the backup in a Secret "
                              "or omit Secret data" % (record.get("namespace"), record["name"], name))
        text = dumps(record)
        data[record_name(record)] = base64.b64encode(text.encode("utf-8")).decode("ascii") if kind == "Secret" else text
    size = sum(len(key) + len(value) for key, value in data.items())
    if size > CONFIGMAP_LIMIT:
        raise BackupError("backup payload of %d bytes exceeds the 1 MiB limit of a %s; use a backup directory" % (size, kind))
    meta_labels = dict(labels or {})
    run_ids = sorted(set(r["run_id"] for r in records))
    if len(run_ids) == 1:
        meta_labels.setdefault(RUN_LABEL, _safe(run_ids[0])[:63])
    body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": namespace, "labels": meta_labels}, "data": data}
    if kind == "Secret":
        body["type"] = "Opaque"
    return body


def from_object(obj):
    """Records held in a ConfigMap or Secret made by ``to_object``, oldest first."""
    records = []
    for key, value in sorted((obj.get("data") or {}).items()):
        text = base64.b64decode(value).decode("utf-8") if obj.get("kind") == "Secret" else value
        records.append(loads(text, "%s %s key %s" % (obj.get("kind"), (obj.get("metadata") or {}).get("name"), key)))
    return sorted(records, key=lambda r: r["timestamp"])


# ------------------------------------------------------------------------------------------------------ restore

def restore_body(record):
    """Full body that restores the object with a replace (PUT); no resourceVersion, so the replace is unconditional."""
    if not record.get("restorable", True):
        raise BackupError(record.get("reason") or "%s %s/%s cannot be restored from this backup" % (
            record["kind"], record.get("namespace"), record["name"]))
    return copy.deepcopy(record["object"])


_SAME = object()


def _merge_patch(current, desired):
    """JSON merge patch (RFC 7386) turning ``current`` into ``desired``, or ``_SAME``."""
    if isinstance(current, dict) and isinstance(desired, dict):
        patch = dict((key, None) for key in current if key not in desired)
        for key, value in desired.items():
            sub = _merge_patch(current[key], value) if key in current else copy.deepcopy(value)
            if sub is not _SAME:
                patch[key] = sub
        return patch or _SAME
    if current == desired:
        return _SAME
    return copy.deepcopy(desired)


def restore_patch(record, current):
    """JSON merge patch (``application/merge-patch+json``) that puts ``current`` back to the backup.

    Covers data, binaryData, stringData, spec, immutable, labels and annotations; ``{}`` when nothing differs.
    """
    desired = restore_body(record)
    patch = {}
    for field in RESTORE_FIELDS:
        if field in desired or field in current:
            sub = _merge_patch(current.get(field), desired.get(field))
            if sub is not _SAME:
                patch[field] = sub
    metadata = {}
    for field in ("labels", "annotations"):
        sub = _merge_patch((current.get("metadata") or {}).get(field) or {}, desired["metadata"].get(field) or {})
        if sub is not _SAME:
            metadata[field] = sub
    if metadata:
        patch["metadata"] = metadata
    return patch
