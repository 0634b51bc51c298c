# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for a workload's rollout, collect the events that explain a failed one, and undo a failed one.

``wait_or_rollback`` is what a module that changed pod templates calls after writing (flyte_rollout,
flyte_securitycontext): wait for each rollout and, when one fails, put back the previous pod templates and the
ConfigMaps and Secrets they consume from this run's backups.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import collections
import time

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup_store
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout as ro
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import workloads as wl

API_VERSIONS = wl.API_VERSIONS


def wait_for(client, kind, name, namespace, timeout, sleep):
    """Poll until the rollout completes, fails or times out; return ``(state, message, workload)``."""
    deadline = time.time() + timeout
    while True:
        workload = client.get(API_VERSIONS[kind], kind, name, namespace)
        state, message = ro.rollout_state(workload)
        if state in ("complete", "failed", "paused"):
            return state, message, workload
        if time.time() >= deadline:
            return "failed", "timed out after %ss: %s" % (timeout, message), workload
        time.sleep(sleep)


def rollout_events(client, namespace, workload):
    """Events of the workload, the ReplicaSets it owns and their Pods, oldest first."""
    names = {workload["metadata"]["name"]}
    uid = workload["metadata"].get("uid")
    if workload.get("kind", "Deployment") == "Deployment":
        for rs in client.list("apps/v1", "ReplicaSet", namespace):
            if any(ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences") or []):
                names.add(rs["metadata"]["name"])
    events = [e for e in client.list("v1", "Event", namespace) if (e.get("involvedObject") or {}).get("name") in names]
    return sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def failure_reason(client, namespace, workload, message):
    """The most telling reason a rollout failed: a FailedCreate event, another Warning, else ``message``."""
    return ro.failure_reason(rollout_events(client, namespace, workload)) or message


# A workload whose pod template this call changed: ``before`` as read before the change, ``entry`` its result dict
# (``entry["workload"]`` is ``Kind/name``), which gets ``rollout`` and, on failure, ``reason``.
Started = collections.namedtuple("Started", ["kind", "name", "before", "entry"])


def consumed_inputs(started):
    """The ``(kind, name)`` of every ConfigMap and Secret the pod templates of ``started`` consume (before the change)."""
    consumed = set()
    for item in started:
        refs = ro.referenced_objects(ro.pod_template(item.before).get("spec") or {})
        consumed.update((kind, name) for kind, name, _optional in refs)
    return consumed


def rollback(client, namespace, started, backup_dir=None, run_id=None):
    """Put back every workload of ``started`` and the data it consumes; return ``(rolled_back, errors)``.

    All of them go back, not only the one that failed: the workloads of one call share their configuration.
    First every ConfigMap and Secret the workloads consume that has a backup record of run ``run_id`` under
    ``backup_dir`` (the state before this run changed it; records of objects the run created are left to
    flyte_restore), then each workload's previous pod template. ``rolled_back`` names what was put back, as
    ``Kind/name``; ``errors`` what could not be, and the rollback goes on past each.
    """
    rolled_back = []
    errors = []
    if backup_dir:
        consumed = consumed_inputs(started)
        try:
            records = bk.latest_per_object(backup_store.load_records(backup_dir, client, namespace=namespace, run_id=run_id))
        except bk.BackupError as exc:
            errors.append("rollback failed: %s" % exc)
            records = []
        for record in records:
            kind, name = record["kind"], record["name"]
            if (kind, name) not in consumed or not record.get("restorable", True) or record.get("absent"):
                continue
            try:
                current = client.get("v1", kind, name, namespace) or {}
                patch = bk.restore_patch(record, current)
                if patch:
                    client.patch("v1", kind, name, namespace, patch, patch_type="merge")
                    rolled_back.append(wl.label(kind, name))
            except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
                errors.append("rollback of %s failed: %s" % (wl.label(kind, name), exc))
    for item in started:
        try:
            client.patch(API_VERSIONS[item.kind], item.kind, item.name, namespace,
                         ro.template_restore_patch(ro.pod_template(item.before)), patch_type="json")
            rolled_back.append(wl.label(item.kind, item.name))
        except k8s_utils.FlyteK8sError as exc:
            errors.append("rollback of %s failed: %s" % (wl.label(item.kind, item.name), exc))
    return rolled_back, errors


def wait_or_rollback(client, writer, namespace, started, options):
    """Wait for the rollout of every workload in ``started``; when one fails or times out, roll back.

    ``writer``: the ``apply.Writer`` that made the change (its check mode, backup_dir and run_id).
    ``started``: ``Started`` tuples, in the order the workloads were changed.
    ``options``: ``wait``, ``wait_timeout``, ``wait_sleep`` and ``rollback_on_failure`` (``args_common.WAIT``).

    Nothing is waited for in check mode, without ``wait`` or when nothing started. Each entry gets ``rollout``
    (its state) and, on failure, ``reason`` (the most telling event, for example a ``FailedCreate``).
    Returns ``None`` when every rollout completed, else ``(msg, rolled_back)``: the failure message for the
    module (``rollout failed: ...``) and what ``rollback`` put back (empty without ``rollback_on_failure``).
    """
    if writer.check_mode or not options.get("wait") or not started:
        return None
    failures = []
    for item in started:
        state, message, after = wait_for(client, item.kind, item.name, namespace, options["wait_timeout"],
                                         options["wait_sleep"])
        item.entry["rollout"] = state
        if state == "failed":
            reason = failure_reason(client, namespace, after or item.before, message)
            item.entry["reason"] = reason
            failures.append("%s: %s" % (item.entry["workload"], reason))
    if not failures:
        return None
    rolled_back = []
    if options.get("rollback_on_failure"):
        rolled_back, errors = rollback(client, namespace, started, writer.backup_dir, writer.run_id)
        failures.extend(errors)
    msg = "rollout failed: %s%s" % ("; ".join(failures), "; rolled back %s" % ", ".join(rolled_back) if rolled_back else "")
    return msg, rolled_back
