# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait for a workload's rollout and collect the events that explain a failed one (API reads only)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.flytesec.hardening.plugins.module_utils import rollout as ro
from ansible_collections.flytesec.hardening.plugins.module_utils import workloads as wl

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
