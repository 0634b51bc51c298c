# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ensure whole Kubernetes objects (policies, CRD instances) with no write when they already match.

kubernetes.core's ``k8s`` sends a PATCH on every run for objects holding lists of mappings when there is
no strategic-merge information (CRD instances such as Istio's AuthorizationPolicy), so a rerun writes. Here
the live object is compared with the desired one as a superset: every desired field must be there with
the same value (lists element by element, same length); fields the API server adds (defaults) are
ignored. Only when something differs is the object created or merge-patched; in check mode that is a
server-side dry run.

``plan`` is the pure decision (create, update with which patch, or nothing) from the object as read; ``ensure``
reads, plans and writes through an ``apply.Writer``. flyte_objects and flyte_network_policies both use it.
Fields named in ``exact`` are compared whole instead (empty lists and mappings aside, which the API server drops):
a NetworkPolicy's ``spec`` must be exactly the one built, as an extra port range or peer there opens traffic.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

TOP_LEVEL = ("apiVersion", "kind", "metadata", "status")


def contains(current, desired):
    """True when ``current`` holds everything in ``desired`` (mappings as supersets, lists element by element)."""
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return not desired and current in (None, {})
        return all(contains(current.get(k), v) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(current, list):
            return not desired and current is None
        return len(current) == len(desired) and all(contains(c, d) for c, d in zip(current, desired))
    return current == desired


def without_empty(value):
    """``value`` without empty lists and mappings and None values (the API server drops some of them)."""
    if isinstance(value, dict):
        out = dict((k, without_empty(v)) for k, v in value.items())
        return dict((k, v) for k, v in out.items() if v not in ({}, [], None))
    if isinstance(value, list):
        return [without_empty(v) for v in value]
    return value


def differences(current, desired, exact=()):
    """Top-level fields (and metadata labels/annotations) of ``desired`` that ``current`` does not hold.

    Fields in ``exact`` must be equal (``without_empty``), not merely contained."""
    changed = []
    meta, want_meta = current.get("metadata") or {}, desired.get("metadata") or {}
    for part in ("labels", "annotations"):
        if not contains(meta.get(part) or {}, want_meta.get(part) or {}):
            changed.append("metadata.%s" % part)
    for field, value in desired.items():
        if field in TOP_LEVEL:
            continue
        if field in exact:
            if without_empty(current.get(field)) != without_empty(value):
                changed.append(field)
        elif not contains(current.get(field), value):
            changed.append(field)
    return changed


def plan(current, desired, exact=()):
    """``(action, patch)`` bringing ``current`` (as read, None when absent) to ``desired``: ``("create", desired)``,
    ``("update", merge patch of every field of desired and its labels/annotations)``, or ``(None, None)``."""
    if current is None:
        return "create", desired
    if not differences(current, desired, exact):
        return None, None
    meta = desired["metadata"]
    patch = dict((k, v) for k, v in desired.items() if k not in TOP_LEVEL)
    patch["metadata"] = dict((k, meta[k]) for k in ("labels", "annotations") if meta.get(k))
    return "update", patch


def ensure(client, desired, writer, exact=()):
    """Create or merge-patch ``desired`` when needed, through ``writer`` (an ``apply.Writer``: backup or absent record,
    resourceVersion precondition); return (action, before) with action None, create or update."""
    meta = desired["metadata"]
    current = client.get(desired["apiVersion"], desired["kind"], meta["name"], meta.get("namespace"))
    action, body = plan(current, desired, exact)
    if action == "create":
        writer.create(body)
    elif action == "update":
        writer.patch(current, body, api_version=desired["apiVersion"], kind=desired["kind"])
    return action, current
