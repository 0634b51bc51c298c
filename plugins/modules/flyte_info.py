#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_info
short_description: Preflight facts about a Flyte installation (layout, workloads, configuration objects, owners)
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Reads the Flyte namespace and reports the Kubernetes version, the detected layout (flyte-core or flyte-binary),
    its workloads and configuration objects, and which tools manage them (Helm, Argo CD, Flux, server-side-apply
    field managers), so a run can warn that a later C(helm upgrade) or GitOps sync would revert live changes.
  - Read-only. Fails with a clear message when the cluster is unreachable, the namespace is missing or no Flyte is
    installed there.
  - With O(access_rules), first asks the API server (SelfSubjectAccessReview, sent as a dry run) for every permission
    the rules grant, and fails naming each one the run's identity lacks, before any other request.
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
  - flytesec.hardening.flyte_target
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  access_rules:
    description:
      - RBAC rules the run needs (C(apiGroups), C(resources), C(verbs)), each with the C(namespace) it applies in (none
        for a cluster-wide rule), as C(awx/rbac/role.yml) and C(awx/rbac/clusterrole.yml) ship them. Every permission
        they grant is asked with a SelfSubjectAccessReview; a missing one fails the module with its verb, resource and
        namespace.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Preflight
  flytesec.hardening.flyte_info:
    namespace: flyte
  register: flyte

- name: Preflight that also proves the job's identity has every right it needs
  flytesec.hardening.flyte_info:
    namespace: flyte
    access_rules: "{{ (lookup('ansible.builtin.file', 'awx/rbac/role.yml') | from_yaml).rules | map('combine', {'namespace': 'flyte'}) }}"

- name: Say who else manages Flyte
  ansible.builtin.debug:
    msg: "{{ flyte.owners }}"
"""

RETURN = r"""
access_checked:
  description: How many permissions O(access_rules) granted and the API server confirmed.
  returned: always
  type: int
access_denied:
  description: The permissions of O(access_rules) the API server refused, as C(verb resource.group in namespace NS).
  returned: when a permission is missing (the module fails)
  type: list
  elements: str
  sample: [update leases.coordination.k8s.io in namespace flyte]
kubernetes_version:
  description: C(gitVersion) of the API server.
  returned: always
  type: str
  sample: v1.34.4
layout:
  description: flyte-core or flyte-binary.
  returned: always
  type: str
release:
  description: Helm release name of the installation, when known.
  returned: always
  type: str
workloads:
  description: Workloads of the installation with their init and main containers.
  returned: always
  type: list
  elements: dict
objects:
  description: The configuration objects the collection edits, by role (C(Kind/name)).
  returned: always
  type: dict
planes:
  description:
    - The Flyte planes this cluster runs, from its workloads. C(control_plane) when flyteadmin runs here,
      C(data_plane) when flytepropeller does (flyte-binary runs both).
  returned: always
  type: list
  elements: str
  sample: [control_plane, data_plane]
owners:
  description: Tools that manage Flyte's objects, with the objects each manages (C(helm), C(argocd), ...).
  returned: always
  type: dict
field_managers:
  description: Server-side-apply field managers of the workloads and configuration objects (other than this collection).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import access
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import config as flyte_config
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import ownership


def main():
    module = k8s_utils.new_module(argument_spec=args_common.spec(args_common.TARGET,
                                                                 access_rules=dict(type="list", elements="dict")),
                                  supports_check_mode=True)
    p = module.params
    try:
        needed = access.expand(p["access_rules"])
    except access.AccessError as exc:
        module.fail_json(msg=str(exc))
    client = k8s_utils.connect(module)
    try:
        refused = access.missing(client, needed)
    except k8s_utils.FlyteK8sError as exc:
        module.fail_json(msg="preflight: %s" % exc)
    if refused:
        module.fail_json(msg=access.message(refused, len(needed)),
                         access_denied=[access.describe(item) for item, _reason in refused])
    try:
        version = (client.client.client.version or {}).get("kubernetes") or {}
    except Exception:  # pylint: disable=broad-except  # the version is informative only
        version = {}
    try:
        target = flyte_config.discover(client, p["namespace"], p["layout"], p["release_name"])
        objects = list(target.workloads)
        for kind, name in sorted(set(target.model.roles.values())):
            obj = client.get("v1", kind, name, p["namespace"])
            if obj is not None:
                obj["kind"] = kind
                objects.append(obj)
    except (flyte_config.FlyteConfigError, k8s_utils.FlyteK8sError) as exc:
        module.fail_json(msg=str(exc))
    summary = ownership.summarize(objects)
    managers = sorted(set(m for obj in objects for m in ownership.field_managers(obj)))
    text = ownership.warning(summary)
    if text:
        module.warn(text)
    model = target.model
    names = set(w.name for w in model.workloads())
    planes = []
    if model.layout == "flyte-binary" or "flyteadmin" in names:
        planes.append("control_plane")
    if model.layout == "flyte-binary" or names & set(["flytepropeller", "flytepropeller-manager"]):
        planes.append("data_plane")
    module.exit_json(
        changed=False,
        access_checked=len(needed),
        kubernetes_version=version.get("gitVersion"),
        layout=model.layout,
        release=model.release,
        workloads=[dict(kind=w.kind, name=w.name, init_containers=list(w.init_containers), containers=list(w.containers))
                   for w in model.workloads()],
        objects=model.objects(),
        planes=planes,
        owners=summary,
        field_managers=managers,
    )


if __name__ == "__main__":
    main()
