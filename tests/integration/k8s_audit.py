# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the local cluster's API audit log (JSON lines, one event per request, Metadata level).

hack/cluster/up.sh starts kube-apiserver with an audit policy that logs every request at
Metadata level, ResponseComplete stage, to ``<run>/audit.log``. Tests mark a position before
they act and read the events written after it::

    log = AuditLog(path)
    start = log.mark()
    ...                                      # run a playbook
    writes = log.events(since=start, writes=True, user="flytesec-admin")
    real = [e for e in writes if not is_dry_run(e)]

Events are plain dicts as the API server wrote them (``verb``, ``user.username``, ``objectRef``
with ``resource``/``namespace``/``name``/``subresource``/``apiGroup``, ``requestURI``,
``responseStatus.code``, ``stage``, ``auditID``). kube-apiserver writes an event after it has
answered the request, so a test that needs its own last request should use :meth:`AuditLog.wait`.
Log rotation (``--audit-log-maxsize``) is followed: a mark remembers the file's inode, and the
rotated backup holding that inode is read first.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import time

__metaclass__ = type

WRITE_VERBS = frozenset(("create", "update", "patch", "delete", "deletecollection"))
READ_VERBS = frozenset(("get", "list", "watch"))


class Mark:
    """A position in the audit log: byte offset plus the inode of the file it belongs to."""

    __slots__ = ("offset", "inode")

    def __init__(self, offset, inode=None):
        self.offset = offset
        self.inode = inode

    def __int__(self):
        return self.offset

    def __repr__(self):
        return "Mark(offset=%d, inode=%r)" % (self.offset, self.inode)


def is_write(event):
    return event.get("verb") in WRITE_VERBS


def is_read(event):
    return event.get("verb") in READ_VERBS


def is_dry_run(event):
    """Server-side dry run: the request URI carries dryRun=All (kubectl, kubernetes client, k8s module)."""
    return "dryRun=All" in event.get("requestURI", "")


def username(event):
    return (event.get("user") or {}).get("username")


def resource_of(event):
    """``resource`` or ``resource/subresource`` of the event's object (None for non-resource URLs)."""
    ref = event.get("objectRef") or {}
    if not ref.get("resource"):
        return None
    if ref.get("subresource"):
        return "%s/%s" % (ref["resource"], ref["subresource"])
    return ref["resource"]


def status_code(event):
    return (event.get("responseStatus") or {}).get("code")


def _match(value, want):
    """want: None (any), a string/int (equal), a collection (member) or a callable (predicate)."""
    if want is None:
        return True
    if callable(want):
        return bool(want(value))
    if isinstance(want, (set, frozenset, list, tuple)):
        return value in want
    return value == want


def select(events, verbs=None, writes=None, reads=None, dry_run=None, user=None, resource=None,
           subresource=None, namespace=None, name=None, api_group=None, code=None, uri_contains=None,
           stage="ResponseComplete"):
    """Filter ``events``.

    verbs       a verb or a collection of verbs
    writes      True: only create/update/patch/delete/deletecollection; False: only the others
    reads       True: only get/list/watch; False: only the others
    dry_run     True: only dryRun=All requests; False: only real ones; None: both
    user        username (``flytesec-admin`` for the admin client cert, ``dev``,
                ``system:serviceaccount:NS:NAME``), a collection, or a predicate
    resource    ``deployments``, ``deployments/scale``, ... (a bare resource also matches its
                subresources; add ``subresource=""`` for the object itself only)
    subresource ``""`` (none), ``status``, ``binding``, ...: equality, collection or predicate
    namespace, name, api_group (``""`` for core), code (HTTP status): equality, collection or predicate
    uri_contains a substring of requestURI
    stage       ``ResponseComplete`` by default (the policy omits only RequestReceived); None: any
    """
    found = []
    for event in events:
        ref = event.get("objectRef") or {}
        if stage is not None and event.get("stage") != stage:
            continue
        if not _match(event.get("verb"), verbs if not isinstance(verbs, str) else (verbs,)):
            continue
        if writes is not None and is_write(event) != bool(writes):
            continue
        if reads is not None and is_read(event) != bool(reads):
            continue
        if dry_run is not None and is_dry_run(event) != bool(dry_run):
            continue
        if not _match(username(event), user):
            continue
        if resource is not None:
            if isinstance(resource, str) and "/" not in resource:
                if ref.get("resource") != resource:
                    continue
            elif not _match(resource_of(event), resource):
                continue
        if not _match(ref.get("subresource", ""), subresource):
            continue
        if not _match(ref.get("namespace"), namespace):
            continue
        if not _match(ref.get("name"), name):
            continue
        if not _match(ref.get("apiGroup", ""), api_group):
            continue
        if not _match(status_code(event), code):
            continue
        if uri_contains is not None and uri_contains not in event.get("requestURI", ""):
            continue
        found.append(event)
    return found


def summary(events):
    """One line per event (``verb resource ns/name code [dry-run]``), for assertion messages."""
    lines = []
    for e in events:
        ref = e.get("objectRef") or {}
        lines.append("%s %s %s/%s %s %s%s" % (
            username(e), e.get("verb"), resource_of(e) or e.get("requestURI"), ref.get("namespace", ""),
            ref.get("name", ""), status_code(e), " dry-run" if is_dry_run(e) else ""))
    return "\n".join(lines)


class AuditLog:
    """The audit log at ``path``; ``since`` (a Mark or byte offset) is the default start of reads."""

    def __init__(self, path, since=None):
        self.path = str(path)
        self.since = since

    def _inode(self):
        try:
            return os.stat(self.path).st_ino
        except OSError:
            return None

    def mark(self):
        """The current end of the log; events after it are the ones that follow."""
        try:
            st = os.stat(self.path)
        except OSError:
            return Mark(0, None)
        return Mark(st.st_size, st.st_ino)

    def reset(self):
        """Make the current end the default start of later reads; returns the mark."""
        self.since = self.mark()
        return self.since

    def _rotated_with_inode(self, inode):
        folder = os.path.dirname(self.path) or "."
        stem, ext = os.path.splitext(os.path.basename(self.path))
        for entry in os.listdir(folder):
            if entry.startswith(stem + "-") and entry.endswith(ext):
                full = os.path.join(folder, entry)
                try:
                    if os.stat(full).st_ino == inode:
                        return full
                except OSError:
                    pass
        return None

    @staticmethod
    def _read(path, offset):
        events = []
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
        # A line still being written has no newline yet: leave it for the next read.
        complete = data[:data.rfind(b"\n") + 1] if b"\n" in data else b""
        for line in complete.splitlines():
            line = line.strip()
            if line:
                events.append(json.loads(line.decode("utf-8")))
        return events

    def raw_events(self, since=None):
        """Every event written after ``since`` (default: this log's ``since``, else the start)."""
        since = self.since if since is None else since
        if since is None:
            since = Mark(0, None)
        if not isinstance(since, Mark):
            since = Mark(int(since), None)
        if not os.path.exists(self.path):
            return []
        current = self._inode()
        if since.inode is not None and since.inode != current:
            # The log rotated after the mark: rest of the old file, then all of the new one.
            old = self._rotated_with_inode(since.inode)
            events = self._read(old, since.offset) if old else []
            return events + self._read(self.path, 0)
        if os.path.getsize(self.path) < since.offset:  # truncated or replaced, no inode known
            return self._read(self.path, 0)
        return self._read(self.path, since.offset)

    def events(self, since=None, **filters):
        """Events after ``since`` that pass :func:`select` with ``filters``."""
        return select(self.raw_events(since), **filters)

    def writes(self, since=None, **filters):
        return self.events(since, writes=True, **filters)

    def wait(self, since=None, count=1, timeout=10.0, **filters):
        """Poll until at least ``count`` matching events are logged; return them (maybe fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(since, **filters)
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            time.sleep(0.2)
