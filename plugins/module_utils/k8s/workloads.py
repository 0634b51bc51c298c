# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workload names as users write them (``Kind/name`` or a bare Deployment name), and the API version of each kind."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

API_VERSIONS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "Job": "batch/v1",
                "CronJob": "batch/v1"}
KIND_ALIASES = {"deployment": "Deployment", "deploy": "Deployment", "statefulset": "StatefulSet", "sts": "StatefulSet",
                "daemonset": "DaemonSet", "ds": "DaemonSet", "job": "Job", "cronjob": "CronJob", "cj": "CronJob"}


def parse_workload(text, kinds=None):
    """``Kind/name`` or ``name`` (a Deployment) -> ``(Kind, name)``; ValueError naming the bad value.

    ``kinds``: the kinds allowed (default every kind of API_VERSIONS)."""
    kinds = tuple(kinds or API_VERSIONS)
    text = (text or "").strip()
    if "/" in text:
        kind, name = text.split("/", 1)
        canonical = KIND_ALIASES.get(kind.lower())
        if canonical not in kinds:
            raise ValueError("workloads: %r has an unsupported kind %r (use %s)" % (text, kind, ", ".join(kinds)))
        kind = canonical
    else:
        kind, name = "Deployment", text
    if not name:
        raise ValueError("workloads: %r has no name" % text)
    return kind, name


def label(kind, name):
    """``Kind/name``, as results and messages name a workload."""
    return "%s/%s" % (kind, name)
