# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitOps mode: the hardening as Helm values overlays plus, where values cannot say it, a kustomize post-renderer.

Patching a Helm-managed cluster lasts until the next ``helm upgrade``. GitOps mode writes what makes the chart render
the hardened objects instead:

* ``values-flytesec.yaml``: values of the upstream chart. flyte-core: the pod ``securityContext`` of each component
  (``flyteadmin``, ``datacatalog``, ``flytepropeller``, ``flyteconsole``, ``flytescheduler``, ``webhook``), with
  ``null`` removing a chart default (``seLinuxOptions: null`` drops ``spc_t``), and the CORS keys in
  ``configmap.adminServer.server.security`` plus ``configmap.console.ADMIN_API_URL``. flyte-binary:
  ``deployment.podSecurityContext`` (``enabled: true``), ``deployment.securityContext``,
  ``deployment.waitForDB.securityContext``, ``deployment.genAdminAuthSecret.securityContext`` and the CORS keys
  in ``configuration.inline.server.security``.
* ``post-renderer/``: flyte-core's container securityContexts are hard-coded in its templates, and neither chart
  can add the emptyDir mounts a read-only root filesystem needs on every container. What the values leave over is
  computed by planning the chart rendered *with* the values overlay again (securitycontext.plan_workload) and
  written as strategic-merge patches in a kustomization, with an executable ``flytesec-post-render`` for
  ``helm install|upgrade --post-renderer``.

Pure functions over rendered manifests (dicts); the flyte_gitops module runs helm and writes the files.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import cors as cors_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import securitycontext as sc

CHARTS = ("flyte-core", "flyte-binary")
# flyte-core Deployment name -> values key whose ``securityContext`` is the pod securityContext.
CORE_POD_VALUES = {
    "flyteadmin": "flyteadmin",
    "datacatalog": "datacatalog",
    "flytepropeller": "flytepropeller",
    "flytepropeller-manager": "flytepropeller",
    "flyteconsole": "flyteconsole",
    "flytescheduler": "flytescheduler",
    "flyte-pod-webhook": "webhook",
}
# flyte-binary container name -> values path of its securityContext.
BINARY_CONTAINER_VALUES = {
    "flyte": ("deployment", "securityContext"),
    "wait-for-db": ("deployment", "waitForDB", "securityContext"),
    "gen-admin-auth-secret": ("deployment", "genAdminAuthSecret", "securityContext"),
}
POST_RENDERER = "flytesec-post-render"
POST_RENDER_SCRIPT = """#!/bin/sh
# Helm post-renderer written by flytesec.hardening (flyte_gitops): applies the patches in this directory
# to the manifests helm renders, with kustomize (KUSTOMIZE, default: kubectl kustomize).
#   helm upgrade --install <release> <chart> -f values-flytesec.yaml --post-renderer <this file>
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$here/patches" "$here/kustomization.yaml" "$work/"
cat > "$work/helm-rendered.yaml"
${KUSTOMIZE:-kubectl kustomize} "$work"
"""


class GitOpsError(ValueError):
    """Bad input for GitOps mode; the message names the option."""


def workloads(docs):
    """The workloads among rendered documents."""
    return [d for d in docs if isinstance(d, dict) and d.get("kind") in sc.SUPPORTED_KINDS]


def _set(values, path, value):
    node = values
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _pod_patch(plan):
    return (((plan.get("patch") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}


def _container_patches(plan):
    spec = _pod_patch(plan)
    found = {}
    for field in ("initContainers", "containers"):
        for entry in spec.get(field) or []:
            if entry.get("securityContext") is not None:
                found[entry["name"]] = entry["securityContext"]
    return found


def plan_all(docs, options):
    """``{"Kind/name": plan}`` for every workload of the rendered chart; raise GitOpsError on a planning error."""
    plans = {}
    for workload in workloads(docs):
        plan = sc.plan_workload(workload, options)
        label = "%s/%s" % (workload["kind"], workload["metadata"]["name"])
        if plan.get("error"):
            raise GitOpsError("%s: %s" % (label, plan["error"]))
        plans[label] = plan
    return plans


def securitycontext_values(chart, plans):
    """Values that give the pods (and, for flyte-binary, the containers) their hardened securityContext."""
    values = {}
    for label, plan in sorted(plans.items()):
        if not plan.get("changed"):
            continue
        kind, name = label.split("/", 1)
        pod = _pod_patch(plan).get("securityContext")
        if chart == "flyte-core":
            key = CORE_POD_VALUES.get(name)
            if key and pod is not None and kind == "Deployment":
                _set(values, (key, "securityContext"), copy.deepcopy(pod))
        elif kind == "Deployment":
            if pod is not None:
                desired = dict(pod)
                desired["enabled"] = True
                _set(values, ("deployment", "podSecurityContext"), desired)
            for container, patch in _container_patches(plan).items():
                if container in BINARY_CONTAINER_VALUES:
                    _set(values, BINARY_CONTAINER_VALUES[container], copy.deepcopy(patch))
    return values


def cors_values(chart, admin_url, origins, headers):
    """Values that set flyteadmin's CORS keys (and flyteconsole's ADMIN_API_URL on flyte-core)."""
    block = cors_utils.security_block(origins, headers)
    if chart == "flyte-core":
        values = {"configmap": {"adminServer": {"server": {"security": block}}}}
        if admin_url:
            values["configmap"]["console"] = {"ADMIN_API_URL": admin_url}
        return values
    return {"configuration": {"inline": {"server": {"security": block}}}}


def merge(base, override):
    """Deep merge of two values dicts (override wins; ``None`` kept, since Helm reads it as 'remove')."""
    result = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _patch_name(label):
    kind, name = label.split("/", 1)
    return "patches/%s-%s.yaml" % (kind.lower(), name)


def kustomize_files(plans, dump):
    """``{relative path: text}`` of the post-renderer for what the values could not express (``{}`` if nothing)."""
    files = {}
    entries = []
    for label, plan in sorted(plans.items()):
        if not plan.get("changed"):
            continue
        kind, name = label.split("/", 1)
        body = copy.deepcopy(plan["patch"])
        body.update({"apiVersion": "batch/v1" if kind in ("Job", "CronJob") else "apps/v1", "kind": kind,
                     "metadata": {"name": name}})
        path = _patch_name(label)
        files[path] = dump(body)
        entries.append({"path": path, "target": {"kind": kind, "name": name}})
    if not entries:
        return {}
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                     "resources": ["helm-rendered.yaml"], "patches": entries}
    files["kustomization.yaml"] = dump(kustomization)
    files[POST_RENDERER] = POST_RENDER_SCRIPT
    return files


def residual_summary(plans):
    """What the post-renderer must still do, per workload, for the module result and the README."""
    summary = {}
    for label, plan in sorted(plans.items()):
        if plan.get("changed"):
            spec = _pod_patch(plan)
            parts = []
            if spec.get("securityContext") is not None:
                parts.append("pod securityContext")
            names = sorted(e["name"] for f in ("initContainers", "containers") for e in spec.get(f) or []
                           if e.get("securityContext") is not None)
            if names:
                parts.append("container securityContext of %s" % ", ".join(names))
            if spec.get("volumes"):
                parts.append("emptyDir volumes for writable paths")
            summary[label] = parts or ["pod template"]
    return summary
