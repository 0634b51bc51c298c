#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_network_policies
short_description: Default-deny NetworkPolicies for Flyte, then one policy per component
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Writes a default-deny (ingress and egress) policy, one that allows DNS, and one policy per Flyte component on
    its pod ports. Ports are matched after Service translation. flyteadmin gets 8088/8089 from the ingress
    controller and 8089 from propeller, scheduler and syncresources. datacatalog gets 8089 from propeller,
    flyteconsole 8080 from the ingress controller, and the pod webhook 9443 from C(apiserver_cidrs) in O(peers).
    flyte-binary gets 8088/8089/9443.
  - Egress goes to PostgreSQL, the object store, the Kubernetes API (the C(kubernetes) Service's endpoints unless
    C(apiserver_cidrs) in O(peers) is given) and the IdP, each only when its peer is given.
  - O(project_namespaces) get the task-pod template, which allows only DNS and the object store.
  - Policies are named C(flytesec-*); only those are written. Idempotent, and check mode writes nothing.
  - Policies can cut traffic. Run it in check mode first, and give every peer your cluster needs.
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
    support: none
options:
  peers:
    description:
      - The peers to allow. Keys are C(ingress_namespace_labels) (default C(kubernetes.io/metadata.name=ingress-nginx)),
        C(monitoring_namespace_labels) and C(apiserver_cidrs), then C(database_cidrs) and C(database_port) (5432).
      - Further keys are C(object_store_cidrs), C(object_store_ports) (443), C(in_cluster_object_store)
        (C({namespace_labels, pod_labels, port})), C(idp_cidrs), C(dns_namespace_labels) and C(dns_pod_labels).
    type: dict
    default: {}
  project_namespaces:
    description: Flyte project namespaces (C(<project>-<domain>)) to give the task-pod policies.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Network policies for flyte-core on EKS with RDS and S3
  flytesec.hardening.flyte_network_policies:
    namespace: flyte
    peers:
      database_cidrs: [10.0.32.0/20]
      object_store_cidrs: [52.216.0.0/15]
      apiserver_cidrs: [10.0.0.0/24]
    project_namespaces: [flytesnacks-development]
"""

RETURN = r"""
backups:
  description: Backup files written (with O(backup_dir)); a policy created is recorded as absent, so restore deletes it.
  returned: always
  type: list
  elements: str
policies:
  description: The policies written (or already as wanted), as C(namespace/name).
  returned: always
  type: list
  elements: str
changed_policies:
  description: Policies created or changed.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import config as flyte_config
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import netpol
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import objects


def argument_spec():
    return args_common.spec(
        args_common.TARGET, args_common.BACKUP,
        peers=dict(type="dict", default={}),
        project_namespaces=dict(type="list", elements="str", default=[]),
    )


def apiserver_endpoints(client):
    """``[(ip, port)]`` of the Kubernetes API behind the ``kubernetes`` Service."""
    found = []
    for piece in client.list("discovery.k8s.io/v1", "EndpointSlice", "default",
                             label_selector="kubernetes.io/service-name=kubernetes"):
        ports = [p.get("port") for p in piece.get("ports") or [] if p.get("port")]
        for endpoint in piece.get("endpoints") or []:
            for ip in endpoint.get("addresses") or []:
                found.extend((ip, port) for port in ports)
    return sorted(set(found))


def main():
    module = k8s_utils.new_module(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    bad = netpol.check_peers(p["peers"])
    if bad:
        module.fail_json(msg=bad)
    client = k8s_utils.connect(module)
    result = dict(changed=False, policies=[], changed_policies=[], backups=[])
    writer = apply.Writer(client, module.check_mode, p["backup_dir"], p["run_id"])
    try:
        # read and build
        target = flyte_config.discover(client, p["namespace"], p["layout"], p["release_name"])
        endpoints = [] if p["peers"].get("apiserver_cidrs") else apiserver_endpoints(client)
        wanted = netpol.build(p["namespace"], target.layout, p["peers"], target.model.fullname, endpoints)
        for ns in p["project_namespaces"]:
            if client.get("v1", "Namespace", ns) is None:
                module.fail_json(msg="project_namespaces: %s does not exist" % ns, **result)
            wanted += netpol.project_policies(ns, p["peers"])
        # plan and apply each policy through the object planner (flyte_objects'), one at a time
        for policy in wanted:
            label = "%s/%s" % (policy["metadata"]["namespace"], policy["metadata"]["name"])
            result["policies"].append(label)
            action, _before = objects.ensure(client, policy, writer, exact=netpol.EXACT)
            if action:
                result["changed_policies"].append(label)
    except (flyte_config.FlyteConfigError, k8s_utils.FlyteK8sError, bk.BackupError) as exc:
        result["backups"] = writer.backups
        module.fail_json(msg=str(exc), **result)
    result["changed"] = bool(result["changed_policies"])
    result["backups"] = writer.backups
    module.exit_json(**result)


if __name__ == "__main__":
    main()
