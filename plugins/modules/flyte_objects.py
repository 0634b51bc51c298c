#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_objects
short_description: Ensure Kubernetes policy objects, with no write when they already match
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Creates each object in O(definitions), or merge-patches the fields that differ. An object that already holds
    every given field (fields the API server adds are ignored) is left alone, without a write request. This is
    unlike M(kubernetes.core.k8s), which patches CRD instances holding lists on every run.
  - Used by the service_mesh and admission_policies roles for Istio, Kyverno and Gatekeeper objects.
  - Objects are never deleted.
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
  - flytesec.hardening.backup
attributes:
  check_mode:
    support: full
    details: Creates and patches are sent as server-side dry runs, so the API server still validates them.
  diff_mode:
    support: full
    details: The managed fields of each object before and after.
options:
  definitions:
    description: Full objects (apiVersion, kind, metadata.name, metadata.namespace when namespaced, and their fields).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Istio mTLS STRICT for the Flyte namespace
  flytesec.hardening.flyte_objects:
    definitions:
      - apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: flyte}
        spec: {mtls: {mode: STRICT}}
"""

RETURN = r"""
backups:
  description: Backup files written (with O(backup_dir)); an object created is recorded as absent, so restore deletes it.
  returned: always
  type: list
  elements: str
objects:
  description: Each object with the action taken (C(create), C(update) or C(none)).
  returned: always
  type: list
  elements: dict
  sample: [{kind: PeerAuthentication, namespace: flyte, name: default, action: none}]
"""

from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import objects


def main():
    spec = args_common.spec(args_common.BACKUP, definitions=dict(type="list", elements="dict", required=True))
    module = k8s_utils.new_module(argument_spec=spec, supports_check_mode=True)
    result = dict(changed=False, objects=[])
    diffs = []
    for index, obj in enumerate(module.params["definitions"]):
        meta = obj.get("metadata") or {}
        if not (obj.get("apiVersion") and obj.get("kind") and meta.get("name")):
            module.fail_json(msg="definitions[%d]: apiVersion, kind and metadata.name are required" % index, **result)
    client = k8s_utils.connect(module)
    writer = apply.Writer(client, module.check_mode, module.params["backup_dir"], module.params["run_id"])
    created = set(o["metadata"]["name"] for o in module.params["definitions"] if o.get("kind") == "Namespace")
    try:
        # every namespace first: a create refused half way through the list would leave the first objects written
        for index, obj in enumerate(module.params["definitions"]):
            ns = obj["metadata"].get("namespace")
            if ns and ns not in created and client.get("v1", "Namespace", ns) is None:
                module.fail_json(msg="definitions[%d]: namespace %s does not exist" % (index, ns), **result)
        for obj in module.params["definitions"]:
            meta = obj["metadata"]
            action, before = objects.ensure(client, obj, writer)
            result["objects"].append(dict(kind=obj["kind"], namespace=meta.get("namespace"), name=meta["name"],
                                          action=action or "none"))
            if action:
                fields = [k for k in obj if k not in objects.TOP_LEVEL]
                diffs.append(dict(before_header="%s/%s" % (obj["kind"], meta["name"]),
                                  after_header="%s/%s" % (obj["kind"], meta["name"]),
                                  before=dict((k, (before or {}).get(k)) for k in fields) if before else {},
                                  after=dict((k, obj[k]) for k in fields)))
    except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
        module.fail_json(msg=str(exc), **result)
    result["changed"] = bool(diffs)
    result["backups"] = writer.backups
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
