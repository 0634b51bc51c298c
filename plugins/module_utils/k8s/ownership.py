# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who else manages a Flyte object: Helm, Argo CD, Flux, or a server-side-apply field manager.

A live change to an object that a GitOps tool or Helm owns is reverted by the next sync or
``helm upgrade``. Preflight reports the owners so the user can choose GitOps mode (Helm values
overlays) instead of patching the live cluster. Pure functions over object dicts.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

HELM_MANAGED_BY = "Helm"
HELM_RELEASE = "meta.helm.sh/release-name"
HELM_NAMESPACE = "meta.helm.sh/release-namespace"
ARGO_TRACKING = "argocd.argoproj.io/tracking-id"
ARGO_INSTANCE = "argocd.argoproj.io/instance"
FLUX_KUSTOMIZATION = "kustomize.toolkit.fluxcd.io/name"
FLUX_HELMRELEASE = "helm.toolkit.fluxcd.io/name"
OWN_MANAGERS = ("flytesec.hardening",)


def owners(obj):
    """Tools that manage ``obj``, as dicts ``{"tool": ..., "name": ...}`` (empty when none is visible)."""
    metadata = (obj or {}).get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    found = []
    if labels.get("app.kubernetes.io/managed-by") == HELM_MANAGED_BY or HELM_RELEASE in annotations:
        found.append({"tool": "helm", "name": annotations.get(HELM_RELEASE) or labels.get("app.kubernetes.io/instance"),
                      "namespace": annotations.get(HELM_NAMESPACE)})
    if ARGO_TRACKING in annotations or ARGO_INSTANCE in labels:
        tracking = annotations.get(ARGO_TRACKING) or ""
        found.append({"tool": "argocd", "name": tracking.split(":", 1)[0] or labels.get(ARGO_INSTANCE)})
    if FLUX_KUSTOMIZATION in labels:
        found.append({"tool": "flux-kustomization", "name": labels[FLUX_KUSTOMIZATION]})
    if FLUX_HELMRELEASE in labels:
        found.append({"tool": "flux-helmrelease", "name": labels[FLUX_HELMRELEASE]})
    return found


def field_managers(obj):
    """Names of the field managers of ``obj`` other than this collection's, sorted."""
    managers = set()
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        manager = entry.get("manager")
        if manager and manager not in OWN_MANAGERS:
            managers.add(manager)
    return sorted(managers)


def summarize(objects):
    """``{tool: sorted object labels}`` over ``objects`` (dicts with kind and metadata.name)."""
    summary = {}
    for obj in objects:
        for owner in owners(obj):
            label = "%s/%s" % (obj.get("kind"), obj["metadata"]["name"])
            summary.setdefault(owner["tool"], set()).add(label)
    return dict((tool, sorted(labels)) for tool, labels in summary.items())


def warning(summary):
    """A warning for the user when a GitOps tool or Helm owns Flyte objects, else ``None``."""
    if not summary:
        return None
    tools = ", ".join(sorted(summary))
    return ("Flyte objects are managed by %s: the next sync or helm upgrade reverts live changes made here. Put the "
            "same settings into the chart values or the Git source as well." % tools)
