#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_projects
short_description: Harden every Flyte project namespace and task pod, today's and tomorrow's
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Edits the cluster resource templates from which flyteadmin's cluster resource controller creates every
    C(<project>-<domain>) namespace (C(flyteadmin clusterresource sync|run), or the loop inside flyte-binary). The
    templates ConfigMap is found by what the Flyte workloads mount at C(cluster_resources.templatePath), not by name.
  - "The Namespace template gets Pod Security labels: warn and audit at restricted, enforce at O(enforce). The default
    ServiceAccount template gets C(automountServiceAccountToken: false) (upstream's annotations, such as the IAM role,
    stay). Files are added, named C(zz-flytesec-*.yaml) so they sort after the Namespace file: a default-deny
    NetworkPolicy with what tasks need (DNS, flyteadmin and datacatalog, the object store, as O(network) says), a
    LimitRange next to upstream's ResourceQuota, and the PodTemplate of O(task_pod_defaults)."
  - Placeholders (C({{ namespace }}) and custom data such as C({{ projectQuotaCpu }})) are kept. A template that would
    not render into exactly one object is refused before anything is written.
  - With O(task_pod_defaults), flytepropeller's k8s plugin gets C(default-pod-security-context),
    C(default-security-context) and C(default-pod-template-name), so container tasks pass restricted; the PodTemplate
    (containers C(default) and C(default-init), which flytepropeller merges into every container of a task pod, pod
    tasks' own containers included) is written in the Flyte namespace and, through the templates, in every project
    namespace.
  - The service accounts that run the sync get a ClusterRole for the kinds the templates add (NetworkPolicy,
    LimitRange, PodTemplate); upstream's role does not grant them.
  - Project namespaces that exist already (found through the namespace mapping and the configured domains, by name,
    or by selector) get the same objects and labels now. Enforce is set on one only when a server-side dry run shows
    the API server would reject none of its running pods; while any would be, the Namespace template does not
    enforce either, and RV(enforce_blocked) says why.
  - Idempotent; check mode writes nothing (server-side dry runs). Every write is backed up for
    P(flytesec.hardening.flyte_restore#module).
  - Existing project namespaces are read with one LIST per kind, cluster-wide; their enforce dry runs and their
    writes go eight namespaces at a time (threads; within one namespace, the objects first, then the labels).
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
  - flytesec.hardening.flyte_target
  - flytesec.hardening.backup
attributes:
  check_mode:
    support: full
    details: Writes are server-side dry runs.
  diff_mode:
    support: full
    details: The template files and flytepropeller's settings, before and after.
options:
  enforce:
    description:
      - Pod Security level the project namespaces enforce.
      - Unset, C(restricted) when O(task_pod_defaults) is on (task pods then pass it), else C(baseline).
    type: str
    choices: [privileged, baseline, restricted]
  pod_security_version:
    description: Policy version of the Pod Security labels (C(latest) or C(v1.34)).
    type: str
    default: latest
  network_policies:
    description: Add the NetworkPolicies of O(network) to every project namespace.
    type: bool
    default: true
  network:
    description:
      - What task pods may reach besides DNS and the Flyte services.
      - Keys are C(object_store_cidrs), C(object_store_ports) (443), C(in_cluster_object_store)
        (C({namespace_labels, pod_labels, port})), C(dns_namespace_labels), C(dns_pod_labels),
        C(allow_same_namespace) (pods of the same project namespace; distributed tasks such as Spark, Ray, Dask,
        PyTorch and MPI need it) and C(allow_internet) (public addresses only; private ranges and the link-local
        metadata address stay closed).
    type: dict
    default: {}
  limit_range:
    description:
      - The container limits of the LimitRange (keys C(default), C(defaultRequest), C(max), C(min),
        C(maxLimitRequestRatio)). Unset, 1 CPU and 1Gi by default, 100m and 128Mi requested. C({}) adds none.
    type: dict
  service_account_automount:
    description: Whether the default ServiceAccount of a project namespace mounts an API token into task pods.
    type: bool
    default: false
  task_pod_defaults:
    description: Give task pods restricted-compliant securityContexts through flytepropeller's k8s plugin and a PodTemplate.
    type: bool
    default: true
  pod_template_name:
    description: Name of the PodTemplate (flytepropeller's C(default-pod-template-name)).
    type: str
    default: flytesec-restricted
  project_namespaces:
    description: Existing project namespaces to harden now, by name, besides those found.
    type: list
    elements: str
    default: []
  project_namespace_selector:
    description: Also harden the existing namespaces that match this label selector.
    type: str
  discover_project_namespaces:
    description:
      - Find existing project namespaces by flyteadmin's namespace mapping (C(namespace_mapping.template)) and its
        configured domains. A matching namespace counts only when its project is seeded by the installation or it
        holds an object only the cluster resource sync puts there (upstream's ResourceQuota C(project-quota)); the
        others are listed in RV(discovery_skipped), never guessed.
    type: bool
    default: true
  template_configmap:
    description: Name of the templates ConfigMap, when no Flyte workload in O(namespace) mounts it.
    type: str
notes:
  - flyteadmin's long-running sync loop skips templates it has applied unchanged, so it does not repair drift in
    project namespaces (a deleted NetworkPolicy) until a template changes or the loop restarts; a scheduled run of
    this module repairs it.
  - flytepropeller applies C(default-security-context) only to a task's primary container and only when it has none;
    the PodTemplate covers the others. A task that sets its own securityContext, or names another PodTemplate, is
    the task author's responsibility; with enforce at restricted, the API server refuses its pod if it does not comply.
"""

EXAMPLES = r"""
- name: Harden every Flyte project namespace, with S3 reachable and distributed tasks allowed
  flytesec.hardening.flyte_projects:
    namespace: flyte
    network:
      object_store_cidrs: [52.216.0.0/15]
      allow_same_namespace: true
  register: projects

- name: Restart what reads the changed configuration
  flytesec.hardening.flyte_rollout:
    namespace: flyte
    workloads: "{{ projects.restart_required }}"
"""

RETURN = r"""
template_configmap:
  description: The templates ConfigMap edited, and the workloads that mount it.
  returned: always
  type: dict
  sample: {name: clusterresource-template, mounted_by: [Deployment/syncresources]}
templates_changed:
  description: Template files written (or, in check mode, that would be); a removed file is listed too.
  returned: always
  type: list
  elements: str
template_enforce:
  description: The enforce level the Namespace template carries, or null while existing namespaces block it.
  returned: always
  type: str
project_namespaces:
  description: Existing project namespaces hardened now, with the labels set and objects written.
  returned: always
  type: list
  elements: dict
discovery_skipped:
  description:
    - Namespaces whose names the namespace mapping matches but that show no sign of being Flyte projects (the project
      is not seeded and no object of the sync is there); left alone. Name them in O(project_namespaces) to harden them.
  returned: always
  type: list
  elements: str
enforce_blocked:
  description: Existing project namespaces left at warn/audit, with the API server's warnings about their running pods.
  returned: always
  type: dict
restart_required:
  description: Workloads to restart (flytepropeller for its settings; syncresources so that it syncs the new templates at once).
  returned: always
  type: list
  elements: str
backups:
  description: Backup files written (with O(backup_dir)).
  returned: always
  type: list
  elements: str
"""

import re

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import config as flyte_config
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as fl
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import objects
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import project_templates as pt

LIMIT_KEYS = ("default", "defaultRequest", "max", "min", "maxLimitRequestRatio")
NETWORK_KEYS = ("object_store_cidrs", "object_store_ports", "in_cluster_object_store", "dns_namespace_labels",
                "dns_pod_labels", "allow_same_namespace", "allow_internet")
# Project namespaces written at a time (threads, one namespace each), and enforce dry runs sent at a time.
WRITE_WORKERS = 8
SYNC_KINDS = (("networking.k8s.io", "networkpolicies"), ("", "limitranges"), ("", "podtemplates"), ("", "serviceaccounts"))


def argument_spec():
    return args_common.spec(
        args_common.TARGET, args_common.BACKUP,
        enforce=dict(type="str", choices=list(ps.LEVELS)),
        pod_security_version=dict(type="str", default="latest"),
        network_policies=dict(type="bool", default=True),
        network=dict(type="dict", default={}),
        limit_range=dict(type="dict"),
        service_account_automount=dict(type="bool", default=False),
        task_pod_defaults=dict(type="bool", default=True),
        pod_template_name=dict(type="str", default=pt.POD_TEMPLATE_NAME),
        project_namespaces=dict(type="list", elements="str", default=[]),
        project_namespace_selector=dict(type="str"),
        discover_project_namespaces=dict(type="bool", default=True),
        template_configmap=dict(type="str"),
    )


def validate(p):
    """The message for bad options, or None."""
    unknown = sorted(set(p["network"]) - set(NETWORK_KEYS))
    if unknown:
        return "network: unknown key(s) %s; valid: %s" % (", ".join(unknown), ", ".join(NETWORK_KEYS))
    if p["limit_range"]:
        unknown = sorted(set(p["limit_range"]) - set(LIMIT_KEYS))
        if unknown:
            return "limit_range: unknown key(s) %s; valid: %s" % (", ".join(unknown), ", ".join(LIMIT_KEYS))
    if not re.match(r"^(latest|v1\.[0-9]+)$", p["pod_security_version"]):
        return "pod_security_version: %r is not latest or v1.<minor>" % p["pod_security_version"]
    if not re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", p["pod_template_name"]):
        return "pod_template_name: %r is not a valid object name" % p["pod_template_name"]
    return None


def mapping_regex(template, domains):
    """A regex matching the namespaces flyteadmin's namespace mapping makes, with groups project and domain."""
    names = "|".join(re.escape(d) for d in sorted(domains, key=len, reverse=True))
    text = re.escape(template)
    text = text.replace(re.escape("{{ project }}"), r"(?P<project>[a-z0-9]([-a-z0-9]*[a-z0-9])?)")
    text = text.replace(re.escape("{{ domain }}"), r"(?P<domain>%s)" % names, 1)
    return re.compile("^%s$" % text)


def seeded_projects(target, model, config_objects):
    """Projects the installation seeds: flyteadmin's ``seed-projects`` init container (flyte-core), or
    ``flyte.admin.seedProjects`` / ``seedProjectsWithDetails`` (flyte-binary)."""
    found = set()
    for deployment in target.workloads:
        spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in spec.get("initContainers") or []:
            words = list(container.get("command") or []) + list(container.get("args") or [])
            if "seed-projects" in words:
                found.update(w for w in words[words.index("seed-projects") + 1:] if not w.startswith("-"))
    try:
        admin = model.effective("seed_projects", config_objects, defaults=False) or {}
    except fl.LayoutError:
        admin = {}
    found.update(admin.get("seedProjects") or [])
    found.update(d.get("name") for d in admin.get("seedProjectsWithDetails") or [] if isinstance(d, dict) and d.get("name"))
    return found


def evidence(client, templates):
    """Namespaces holding an object that only the cluster resource sync puts there: one of upstream's template
    objects other than the Namespace and the default ServiceAccount (flyte-core's ResourceQuota ``project-quota``),
    or one this collection added (its label). One LIST per kind."""
    wanted = {}
    for obj in templates:
        kind, name = obj.get("kind"), (obj.get("metadata") or {}).get("name")
        if kind in ("Namespace",) or (kind == "ServiceAccount" and name == "default") or not obj.get("apiVersion"):
            continue
        if ((obj.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/managed-by") == "flytesec.hardening":
            continue
        wanted.setdefault((obj["apiVersion"], kind), set()).add(name)
    found = set()
    for (api_version, kind), names in sorted(wanted.items()):
        try:
            items = client.list(api_version, kind)
        except k8s_utils.FlyteK8sError:
            continue
        found.update(i["metadata"].get("namespace") for i in items if i["metadata"]["name"] in names)
    for item in client.list("v1", "LimitRange", label_selector="app.kubernetes.io/managed-by=flytesec.hardening"):
        found.add(item["metadata"].get("namespace"))
    return found


def find_namespaces(all_namespaces, p, model, config_objects, proof=None):
    """``({name: (project, domain)}, [skipped names])`` of the existing project namespaces to harden, from one LIST of
    Namespaces. A namespace the namespace mapping matches counts only with ``proof``: its project is seeded, or it holds
    an object only the sync (or an earlier run) puts there; others are skipped, never guessed (a ``monitoring-production``
    is not a Flyte project). Namespaces given by name or selector are taken as given."""
    found, skipped = {}, []
    by_name = dict((ns["metadata"]["name"], ns) for ns in all_namespaces)
    seeded, holders = proof or (set(), set())
    if p["discover_project_namespaces"]:
        template = (model.effective("namespace_mapping", config_objects) or {}).get("template") or "{{ project }}-{{ domain }}"
        domains = [d.get("name") or d.get("id") for d in model.effective("domains", config_objects) or [] if isinstance(d, dict)]
        if "{{ project }}" in template and domains:
            pattern = mapping_regex(template, domains)
            for name in sorted(by_name):
                match = pattern.match(name)
                if not match:
                    continue
                if match.group("project") in seeded or name in holders:
                    found[name] = (match.group("project"), match.group("domain"))
                else:
                    skipped.append(name)
    for name in p["project_namespaces"]:
        if name not in by_name:
            raise flyte_config.FlyteConfigError("project_namespaces: namespace %s does not exist" % name)
        found.setdefault(name, (name, ""))
    if p["project_namespace_selector"]:
        for name in sorted(selected(all_namespaces, p["project_namespace_selector"])):
            found.setdefault(name, (name, ""))
    found.pop(p["namespace"], None)
    found = dict((k, v) for k, v in found.items() if not k.startswith("kube-"))
    return found, [n for n in skipped if n not in found and n != p["namespace"]]


def selected(all_namespaces, selector):
    """Names of the namespaces matching an equality-based label selector (``a=b,c!=d,e``)."""
    out = []
    for ns in all_namespaces:
        labels = ns["metadata"].get("labels") or {}
        ok = True
        for term in [t.strip() for t in selector.split(",") if t.strip()]:
            if "!=" in term:
                key, value = term.split("!=", 1)
                ok = ok and labels.get(key.strip()) != value.strip()
            elif "=" in term:
                key, value = term.split("==", 1) if "==" in term else term.split("=", 1)
                ok = ok and labels.get(key.strip()) == value.strip()
            else:
                ok = ok and (term[1:] not in labels if term.startswith("!") else term in labels)
        if ok:
            out.append(ns["metadata"]["name"])
    return out


def listed(client, objs):
    """``{(kind, namespace, name): object}`` of what exists of ``objs``: one LIST per kind, cluster-wide, with the
    collection's label (a default ServiceAccount by its name), never a GET per object."""
    found = {}
    kinds = sorted(set((o["apiVersion"], o["kind"]) for o in objs))
    for api_version, kind in kinds:
        if kind == "ServiceAccount":
            items = client.list(api_version, kind, field_selector="metadata.name=default")
        else:
            items = client.list(api_version, kind, label_selector="app.kubernetes.io/managed-by=flytesec.hardening")
        for item in items:
            item.setdefault("apiVersion", api_version)
            item["kind"] = kind
            found[(kind, item["metadata"].get("namespace"), item["metadata"]["name"])] = item
    return found


def sync_rbac(namespace, service_accounts):
    """ClusterRole and binding that let the sync write the kinds the templates add."""
    name = "flytesec-%s-cluster-resources" % namespace
    labels = dict(pt.MANAGED)
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name, "labels": labels},
            "rules": [{"apiGroups": [group], "resources": [resource], "verbs": ["get", "list", "create", "update", "patch"]}
                      for group, resource in SYNC_KINDS]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name, "labels": labels},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace} for sa in sorted(service_accounts)]}
    return [role, binding]


def task_pod_edits(location, name):
    """flytepropeller k8s plugin settings that make container tasks pass restricted."""
    return [flyte_config.Edit(location.object_kind, location.object_name, location.data_key, location.path + (key,), value)
            for key, value in (("default-pod-security-context", pt.POD_SECURITY_CONTEXT),
                               ("default-security-context", pt.CONTAINER_SECURITY_CONTEXT),
                               ("default-pod-template-name", name))]


def main():
    module = k8s_utils.new_module(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    result = dict(changed=False, template_configmap={}, templates_changed=[], template_enforce=None, project_namespaces=[],
                  enforce_blocked={}, discovery_skipped=[], restart_required=[], backups=[])
    bad = validate(p)
    if bad:
        module.fail_json(msg=bad, **result)
    enforce = p["enforce"] or ("restricted" if p["task_pod_defaults"] else "baseline")
    client = k8s_utils.connect(module)
    writer = apply.Writer(client, module.check_mode, p["backup_dir"], p["run_id"])
    try:
        # 1. read: the installation, its configuration, the templates, the existing project namespaces
        target = flyte_config.discover(client, p["namespace"], p["layout"], p["release_name"])
        model = target.model
        config_objects = [dict(o, kind="ConfigMap") for o in client.list("v1", "ConfigMap", p["namespace"])]
        template_path = (model.effective("cluster_resources", config_objects) or {}).get("templatePath") or \
            fl.TEMPLATE_PATHS[target.layout]
        mounts = model.mounted_at(template_path)
        cm_name = p["template_configmap"] or (mounts[0][2] if mounts else None)
        if not cm_name:
            raise flyte_config.FlyteConfigError(
                "no Flyte workload in %s mounts a ConfigMap at %s (cluster_resources.templatePath): is flyteadmin's "
                "cluster resource manager enabled? Name the ConfigMap with template_configmap" % (p["namespace"], template_path))
        configmap = client.get("v1", "ConfigMap", cm_name, p["namespace"])
        if configmap is None:
            raise flyte_config.FlyteConfigError("template_configmap: ConfigMap %s/%s does not exist" % (p["namespace"], cm_name))
        readers = sorted(set(w for w, _c, n in mounts if n == cm_name))
        result["template_configmap"] = dict(name=cm_name, mounted_by=readers)
        all_namespaces = client.list("v1", "Namespace")
        upstream = [pt.check(k, v) for k, v in sorted((configmap.get("data") or {}).items())
                    if k.endswith(".yaml") and not k.startswith(pt.PREFIX)]
        proof = (seeded_projects(target, model, config_objects), evidence(client, upstream)) \
            if p["discover_project_namespaces"] else None
        namespaces, result["discovery_skipped"] = find_namespaces(all_namespaces, p, model, config_objects, proof)
        ns_objects = dict((ns["metadata"]["name"], ns) for ns in all_namespaces)

        # 2. ask the API server whether enforcing would reject running pods in the project namespaces that do not
        # enforce yet (a server-side dry run of the label: the API server answers with a warning per violating pod)
        label_patch = {"metadata": {"labels": {pt.POD_SECURITY + "enforce": enforce,
                                               pt.POD_SECURITY + "enforce-version": p["pod_security_version"]}}}
        checks = []
        for name in sorted(namespaces):
            labels = ns_objects[name]["metadata"].get("labels") or {}
            if not all(labels.get(k) == v for k, v in label_patch["metadata"]["labels"].items()):
                checks.append(("v1", "Namespace", name, None, label_patch))
        for check, warnings in zip(checks, client.dry_run_patches(checks, WRITE_WORKERS)):
            if warnings:
                result["enforce_blocked"][check[2]] = warnings
        template_enforce = None if result["enforce_blocked"] else enforce
        result["template_enforce"] = template_enforce

        # 3. plan: the templates, flytepropeller's settings, the objects of existing namespaces
        options = {"pod_security": {"enforce": template_enforce, "warn": "restricted", "audit": "restricted",
                                    "version": p["pod_security_version"]},
                   "service_account_automount": p["service_account_automount"],
                   "network_policies": p["network_policies"],
                   "network": dict(p["network"], flyte_namespace=p["namespace"], flyte_layout=target.layout),
                   "limit_range": pt.DEFAULT_LIMIT_RANGE if p["limit_range"] is None else p["limit_range"],
                   "pod_template": p["task_pod_defaults"]}
        data = configmap.get("data") or {}
        changes, summary = pt.plan(data, options)
        stale = pt.stale(data, options)
        edits = [flyte_config.Edit("ConfigMap", cm_name, key, None, text) for key, text in sorted(changes.items())]
        edits += [flyte_config.Edit("ConfigMap", cm_name, key, None, flyte_config.DELETE) for key in stale]
        if p["task_pod_defaults"]:
            edits += task_pod_edits(model.locate("task_pod_defaults"), p["pod_template_name"])
        final = dict(data)
        final.update(changes)
        added = [k for k in summary["added"] if k != summary["service_account_template"]]
        instances = {}
        for name, (project, domain) in sorted(namespaces.items()):
            # this collection's files use only {{ namespace }}; upstream's (custom data) are flyteadmin's to render
            instances[name] = [pt.instantiate(final[k], name, project, domain) for k in added]
            if p["service_account_automount"] is False:
                instances[name].append({"apiVersion": "v1", "kind": "ServiceAccount", "automountServiceAccountToken": False,
                                        "metadata": {"name": "default", "namespace": name}})
        service_accounts = set(service_account_of(target, w) for w in readers)

        # 4. apply: templates and flytepropeller's settings (one patch per ConfigMap), then objects, then labels
        outcome = flyte_config.apply_edits(client, module, target, edits, backup_dir=p["backup_dir"], run_id=writer.run_id)
        result["templates_changed"] = sorted(set(changes) | set(stale))
        result["backups"] = list(outcome.backups)
        restart = model.restart_for([o["object"] for o in outcome.changed_objects if o["object"] != "ConfigMap/" + cm_name])
        if result["templates_changed"] and "Deployment/syncresources" in readers:
            restart.append("Deployment/syncresources")
        result["restart_required"] = sorted(set(restart))
        changed = outcome.changed
        wanted = []
        if p["task_pod_defaults"]:
            wanted.append(pt.pod_template(p["pod_template_name"], p["namespace"]))
        if p["network_policies"] or p["task_pod_defaults"] or options["limit_range"]:
            wanted += sync_rbac(p["namespace"], service_accounts)
        for obj in wanted:
            action, _before = objects.ensure(client, obj, writer)
            changed = changed or bool(action)
        existing = listed(client, [o for name in instances for o in instances[name]])
        blocked = result["enforce_blocked"]

        def harden(name):
            """Write what one project namespace lacks; its entry of RV(project_namespaces)."""
            entry = dict(name=name, objects=[], labels={})
            for obj in instances[name]:
                current = existing.get((obj["kind"], name, obj["metadata"]["name"]))
                action, body = objects.plan(current, obj)
                if action == "create":
                    writer.create(body)
                elif action == "update":
                    writer.patch(current, body, api_version=obj["apiVersion"], kind=obj["kind"])
                if action:
                    entry["objects"].append("%s/%s" % (obj["kind"], obj["metadata"]["name"]))
            ns = ns_objects[name]
            labels = pt.pod_security_labels({"warn": "restricted", "audit": "restricted", "version": p["pod_security_version"],
                                             "enforce": None if name in blocked else enforce})
            current = (ns["metadata"].get("labels") or {})
            patch = dict((k, v) for k, v in labels.items() if current.get(k) != v)
            if patch:
                writer.patch(ns, {"metadata": {"labels": patch}}, api_version="v1", kind="Namespace")
                entry["labels"] = patch
            return entry
        for kind in sorted(set((o["apiVersion"], o["kind"]) for name in instances for o in instances[name])):
            client.resource(*kind)   # discovery before the threads
        # one namespace per thread, WRITE_WORKERS at a time (the writes of different namespaces do not depend on
        # each other; within one, the order stays: objects, then the Pod Security labels)
        for entry in k8s_utils.parallel(harden, sorted(namespaces), WRITE_WORKERS):
            if entry["objects"] or entry["labels"]:
                changed = True
            result["project_namespaces"].append(entry)
        result["backups"] += writer.backups
        if module._diff:
            result["diff"] = outcome.diff
    except (flyte_config.FlyteConfigError, pt.TemplateError, k8s_utils.FlyteK8sError, bk.BackupError) as exc:
        result["backups"] += writer.backups
        module.fail_json(msg=str(exc), **result)
    result["changed"] = changed
    module.exit_json(**result)


def service_account_of(target, workload):
    """The ServiceAccount a workload (``Deployment/name``) runs as."""
    name = workload.split("/", 1)[1]
    for deployment in target.workloads:
        if deployment["metadata"]["name"] == name and deployment.get("kind", "Deployment") == "Deployment":
            spec = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
            return spec.get("serviceAccountName") or "default"
    return "default"


if __name__ == "__main__":
    main()
