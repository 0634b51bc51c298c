# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flyte's cluster resource templates: read, plan the hardening of every project namespace, check, write (pure).

flyteadmin's cluster resource controller (``flyteadmin clusterresource sync|run``, or in-process in flyte-binary)
reads every ``*.yaml`` file of ``cluster_resources.templatePath`` in name order, one object per file (a second
``---`` document is silently ignored), replaces ``{{ name }}`` (one space each side) as raw text, and creates each
object in every ``<project>-<domain>`` namespace, patching it when it exists. So:
- placeholders are protected (replaced by tokens) while a template is parsed and edited, and put back after;
- a template this module writes must still render (placeholders given sample values) into exactly one object;
- files this module adds sort after the Namespace file (``zz-flytesec-*.yaml``).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import re

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import netpol

PLACEHOLDER = re.compile(r"\{\{ ([A-Za-z_][A-Za-z0-9_]*) \}\}")
_TOKEN = "flytesec-placeholder-%s-end"
_TOKEN_RE = re.compile(r"flytesec-placeholder-([A-Za-z0-9_]+)-end")
PREFIX = "zz-flytesec-"
POD_SECURITY = "pod-security.kubernetes.io/"
MANAGED = dict(netpol.MANAGED)
DEFAULT_LIMIT_RANGE = {
    "default": {"cpu": "1", "memory": "1Gi"},
    "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
}
# What flytepropeller's k8s plugin puts on task pods (plugins.k8s.default-pod-security-context /
# default-security-context) and the PodTemplate containers ``default``/``default-init`` (every container).
POD_SECURITY_CONTEXT = {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
                        "seccompProfile": {"type": "RuntimeDefault"}}
CONTAINER_SECURITY_CONTEXT = {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                              "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
POD_TEMPLATE_NAME = "flytesec-restricted"


class TemplateError(Exception):
    """A template cannot be read, or an edit would break it; the message names the template."""


def protect(text, label):
    """``text`` with each ``{{ name }}`` replaced by a YAML-safe token; stray ``{{``/``}}`` are an error."""
    protected = PLACEHOLDER.sub(lambda m: _TOKEN % m.group(1), text)
    if "{{" in protected or "}}" in protected:
        bad = re.search(r"\{\{[^}]*\}\}|\{\{|\}\}", protected).group(0)
        raise TemplateError("%s: %r is not a placeholder flyteadmin replaces (write {{ name }}, one space each side)"
                            % (label, bad))
    return protected


def unprotect(text):
    """Put the placeholders back."""
    return _TOKEN_RE.sub(lambda m: "{{ %s }}" % m.group(1), text)


def placeholders(text):
    """Names of the placeholders in ``text``."""
    return sorted(set(PLACEHOLDER.findall(text)))


def render(text, values):
    """What flyteadmin makes of ``text``: each ``{{ name }}`` in ``values`` replaced as raw text."""
    for name, value in values.items():
        text = text.replace("{{ %s }}" % name, str(value))
    return text


def check(key, text):
    """The object ``text`` renders to with sample values, or TemplateError saying why flyteadmin would fail on it."""
    if not key.endswith(".yaml"):
        raise TemplateError("%s: flyteadmin reads only files ending in .yaml" % key)
    protect(text, key)
    sample = dict((name, "sample-%s" % name.lower().replace("_", "-")) for name in placeholders(text))
    rendered = render(text, sample)
    try:
        docs = [d for d in ey.load_all(rendered, key) if d is not None]
    except ey.EmbeddedYamlError as exc:
        raise TemplateError("%s: does not parse once its placeholders are filled: %s" % (key, exc))
    if len(docs) != 1:
        raise TemplateError("%s: holds %d documents; flyteadmin reads exactly one object per file" % (key, len(docs)))
    obj = docs[0]
    if not isinstance(obj, dict) or not obj.get("apiVersion") or not obj.get("kind") or \
            not (obj.get("metadata") or {}).get("name"):
        raise TemplateError("%s: is not a Kubernetes object (apiVersion, kind and metadata.name)" % key)
    return obj


def read(data):
    """``{key: (Document over the protected text, kind)}`` of every template file in a ConfigMap's data."""
    out = {}
    for key in sorted(data or {}):
        if not key.endswith(".yaml"):
            continue
        text = data[key] or ""
        check(key, text)
        doc = ey.Document(protect(text, key), key)
        out[key] = (doc, (doc.data or {}).get("kind"))
    return out


def _obj(api_version, kind, name, spec_key=None, spec=None, extra=None):
    body = {"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "namespace": "{{ namespace }}", "labels": dict(MANAGED)}}
    if spec_key:
        body[spec_key] = spec
    body.update(extra or {})
    return body


def pod_security_labels(options):
    """The Pod Security labels the Namespace template carries."""
    labels = {}
    for mode in ("enforce", "warn", "audit"):
        level = options.get(mode)
        if level:
            labels[POD_SECURITY + mode] = level
            labels[POD_SECURITY + mode + "-version"] = options.get("version") or "latest"
    return labels


def network_policies(options):
    """NetworkPolicies of a project namespace (templated), from netpol's project builder."""
    return [_strip_namespace(p) for p in netpol.project_policies("{{ namespace }}", options)]


def _strip_namespace(policy):
    policy = copy.deepcopy(policy)
    policy["metadata"]["namespace"] = "{{ namespace }}"
    return policy


def pod_template(name=POD_TEMPLATE_NAME, namespace="{{ namespace }}"):
    """The PodTemplate flytepropeller merges under every task pod (``default-pod-template-name``)."""
    # image: required by the PodTemplate schema; flytepropeller puts the task's own image over it
    container = {"name": "default", "image": "flyte-task-default", "securityContext": dict(CONTAINER_SECURITY_CONTEXT)}
    init = dict(container, name="default-init")
    return {"apiVersion": "v1", "kind": "PodTemplate",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED)},
            "template": {"spec": {"securityContext": dict(POD_SECURITY_CONTEXT), "containers": [container],
                                  "initContainers": [init]}}}


def desired_objects(options):
    """``{file key: object}`` of the objects this collection adds to every project namespace."""
    out = {}
    if options.get("network_policies", True):
        for policy in network_policies(options.get("network") or {}):
            out["%snetworkpolicy-%s.yaml" % (PREFIX, policy["metadata"]["name"].replace("flytesec-", ""))] = policy
    limit_range = options.get("limit_range", DEFAULT_LIMIT_RANGE)
    if limit_range:
        item = dict(limit_range, type="Container")
        out[PREFIX + "limitrange.yaml"] = _obj("v1", "LimitRange", "flytesec-limits", "spec", {"limits": [item]})
    if options.get("pod_template"):
        out[PREFIX + "podtemplate.yaml"] = pod_template()
    return out


def plan(data, options):
    """Plan the template ConfigMap's new data.

    Returns ``(changes, summary)``: ``changes`` is ``{key: text}`` for every file to write (unchanged files are left
    out; formatting is kept where the content is equal); ``summary`` says which file carries what.
    """
    templates = read(data)
    changes, summary = {}, {"namespace_template": None, "service_account_template": None, "added": []}
    ns_keys = [k for k, (_doc, kind) in templates.items() if kind == "Namespace"]
    if not ns_keys:
        raise TemplateError("no template creates the project Namespace (kind: Namespace); found: %s"
                            % (", ".join(sorted(templates)) or "no .yaml files"))
    ns_key = ns_keys[0]
    summary["namespace_template"] = ns_key
    doc = templates[ns_key][0]
    labels = pod_security_labels(options.get("pod_security") or {})
    current = doc.get("metadata.labels") or {}
    for name in [n for n in current if n.startswith(POD_SECURITY) and n not in labels]:
        doc.delete(["metadata", "labels", name])
    for name, value in sorted(labels.items()):
        doc.set(["metadata", "labels", name], value)
    if doc.changed:
        changes[ns_key] = unprotect(doc.text())

    if options.get("service_account_automount") is False:
        sa_keys = [k for k, (d, kind) in templates.items() if kind == "ServiceAccount" and d.get("metadata.name") == "default"]
        if sa_keys:
            key = sa_keys[0]
            sa = templates[key][0]
            sa.set("automountServiceAccountToken", False)
            if sa.changed:
                changes[key] = unprotect(sa.text())
        else:
            key = PREFIX + "default-service-account.yaml"
            sa_obj = {"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": "default", "namespace": "{{ namespace }}"}, "automountServiceAccountToken": False}
            _add(templates, changes, key, sa_obj)
        summary["service_account_template"] = key

    for key, obj in sorted(desired_objects(options).items()):
        _add(templates, changes, key, obj)
    summary["added"] = sorted(k for k in changes if k.startswith(PREFIX))
    for key, text in changes.items():
        check(key, text)
    if sorted(changes) and min(k for k in changes if k.startswith(PREFIX) or k == ns_key) < ns_key:
        raise TemplateError("%s would sort before the Namespace template %s" % (min(changes), ns_key))
    return changes, summary


def _add(templates, changes, key, obj):
    """Add (or update) one of this collection's files; a content-equal file is left as it is."""
    text = unprotect(ey.dump(_tokens(obj)))
    if key in templates:
        doc = templates[key][0]
        doc.set([], _tokens(obj))
        if doc.changed:
            changes[key] = unprotect(doc.text())
        return
    changes[key] = text


def _tokens(value):
    """``value`` with ``{{ name }}`` strings turned into tokens (to dump through the YAML writer)."""
    if isinstance(value, dict):
        return dict((k, _tokens(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_tokens(v) for v in value]
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: _TOKEN % m.group(1), value)
    return value


def stale(data, options):
    """Keys of files this collection added earlier that the options no longer want (to delete)."""
    wanted = set(desired_objects(options))
    if options.get("service_account_automount") is False:
        wanted.add(PREFIX + "default-service-account.yaml")
    return sorted(k for k in (data or {}) if k.startswith(PREFIX) and k not in wanted)


def instantiate(text, namespace, project, domain, values=None):
    """The object a template makes in one namespace (for namespaces that exist before the templates change)."""
    filled = dict(values or {})
    filled.update(namespace=namespace, project=project, domain=domain)
    return check("instance.yaml", render(text, filled))
