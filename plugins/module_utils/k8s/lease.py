# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run lock on the cluster: a coordination.k8s.io/v1 Lease in the Flyte namespace.

Two hardening runs on one cluster (an AWX schedule and a manual run, say) must never interleave.
A run holds the Lease named ``flytesec-hardening`` with its run id as ``holderIdentity``. Another run
waits until the Lease is released or has expired (``renewTime + leaseDurationSeconds`` in the past: the
holder crashed). Taking an expired or free Lease is an update carrying the ``resourceVersion`` that was
read, so two runs racing for it cannot both win: the API server refuses the second with 409 Conflict.

Pure functions; the flyte_lock module does the API calls.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

LEASE_NAME = "flytesec-hardening"
API_VERSION = "coordination.k8s.io/v1"
MICROTIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def format_time(moment):
    """MicroTime as the API server wants it (RFC 3339 with microseconds, UTC)."""
    return moment.astimezone(datetime.timezone.utc).strftime(MICROTIME)


def parse_time(text):
    """Parse a MicroTime/Time string; ``None`` when absent or unreadable."""
    if not text:
        return None
    if isinstance(text, datetime.datetime):
        return text if text.tzinfo else text.replace(tzinfo=datetime.timezone.utc)
    for fmt in (MICROTIME, "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            value = datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    return None


def holder(lease):
    """``(holderIdentity, expires_at)`` of a Lease dict; ``(None, None)`` when free."""
    spec = (lease or {}).get("spec") or {}
    identity = spec.get("holderIdentity")
    if not identity:
        return None, None
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    duration = spec.get("leaseDurationSeconds") or 0
    expires = renewed + datetime.timedelta(seconds=duration) if renewed else None
    return identity, expires


def state(lease, identity, moment=None):
    """What the Lease means for run ``identity``: ``free``, ``ours``, ``expired`` or ``held``."""
    moment = moment or now_utc()
    current, expires = holder(lease)
    if current is None:
        return "free"
    if current == identity:
        return "ours"
    if expires is None or expires <= moment:
        return "expired"
    return "held"


def acquire_body(lease, namespace, identity, duration, moment=None, name=LEASE_NAME):
    """Lease body that makes ``identity`` the holder (create when ``lease`` is None, else update)."""
    moment = moment or now_utc()
    spec = {"holderIdentity": identity, "leaseDurationSeconds": int(duration), "renewTime": format_time(moment)}
    if lease is None:
        spec.update(acquireTime=format_time(moment), leaseTransitions=0)
        return {"apiVersion": API_VERSION, "kind": "Lease",
                "metadata": {"name": name, "namespace": namespace,
                             "labels": {"app.kubernetes.io/managed-by": "flytesec.hardening"}},
                "spec": spec}
    old = lease.get("spec") or {}
    if old.get("holderIdentity") != identity:
        spec.update(acquireTime=format_time(moment), leaseTransitions=int(old.get("leaseTransitions") or 0) + 1)
    else:
        spec.update(acquireTime=old.get("acquireTime") or format_time(moment),
                    leaseTransitions=int(old.get("leaseTransitions") or 0))
    body = {"apiVersion": API_VERSION, "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace,
                         "resourceVersion": (lease.get("metadata") or {}).get("resourceVersion"),
                         "labels": (lease.get("metadata") or {}).get("labels") or {}},
            "spec": spec}
    return body


def release_body(lease):
    """Lease body that frees it (keeps the object; a resourceVersion guards against a new holder)."""
    spec = dict((lease or {}).get("spec") or {})
    spec["holderIdentity"] = None
    spec.pop("renewTime", None)
    metadata = dict((lease or {}).get("metadata") or {})
    return {"apiVersion": API_VERSION, "kind": "Lease",
            "metadata": {"name": metadata.get("name"), "namespace": metadata.get("namespace"),
                         "resourceVersion": metadata.get("resourceVersion"), "labels": metadata.get("labels") or {}},
            "spec": spec}
