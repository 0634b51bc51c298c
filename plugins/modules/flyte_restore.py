#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_restore
short_description: Put back every object a hardening run changed, from that run's backups
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Reads the backup records the modules of this collection wrote under C(<backup_dir>/<run_id>/) (or, with
    O(backup_dir=k8s:NAMESPACE), in the Secrets of NAMESPACE labelled C(hardening.flytesec.io/backup-run=<run_id>))
    before they changed an object, and puts each object back to its first record of that run (its state before the
    run). In-cluster backups need no file of the run; a restore job with a fresh home directory works.
  - ConfigMaps, Secrets and workloads are restored with a JSON merge patch of their data, spec, labels and annotations,
    so the restored fields equal the backup byte for byte; an object the run deleted is created again.
  - An object the run created (recorded as absent before it) is deleted; the run's Lease too, unless another run
    holds it.
  - Namespaces go first, so that their Pod Security labels are back before the restored workloads roll out (a
    restored pod template the namespace still enforced C(restricted) on would be refused); deletions go last.
  - Secret values never appear in the result or the diff.
  - With O(check_access) (the default), the restore first asks the API server (SelfSubjectAccessReview, sent as a
    dry run) for every permission it needs, and fails naming each one its identity lacks (for example
    C(cannot patch deployments.apps in namespace flyte)). It asks for list on the backup Secrets before it reads them,
    for get on each object before it reads them and, once it knows what differs, for patch, create or delete on each
    object before its first write. Nothing is written when one is missing.
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    details: Patches are sent as server-side dry runs.
  diff_mode:
    support: none
options:
  backup_dir:
    description:
      - Where the run wrote its backups (the C(backups) the summary of harden-flyte.yml prints), a directory, or
        C(k8s:NAMESPACE) for the Secrets the run kept in NAMESPACE of this cluster.
      - The backup Secrets themselves are left in place (they are the record of the run; flyte_lock's
        C(backup_retention) prunes them).
    type: path
    required: true
  run_id:
    description: The run whose backups to restore.
    type: str
    required: true
  namespace:
    description: Restore only objects of this namespace, the Namespace itself and cluster-scoped objects (ClusterRoles).
    type: str
  kinds:
    description: Restore only objects of these kinds (for example C(ConfigMap)).
    type: list
    elements: str
  check_access:
    description:
      - Ask for every permission the restore needs (SelfSubjectAccessReview) before the requests that need it, and
        fail naming the missing ones before the first write. C(false) skips the reviews (an API server whose
        authorizer does not answer them).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Undo hardening run 20261124T120000Z-123456
  flytesec.hardening.flyte_restore:
    backup_dir: ~/.cache/flytesec/backups/localhost
    run_id: 20261124T120000Z-123456

- name: Undo a run whose backups are Secrets in the flyte namespace (an AWX job)
  flytesec.hardening.flyte_restore:
    backup_dir: k8s:flyte
    run_id: 20261124T120000Z-123456
"""

RETURN = r"""
restored:
  description: Objects put back (or, in check mode, that would be), as C(Kind/namespace/name).
  returned: always
  type: list
  elements: str
deleted:
  description: Objects the run had created, deleted (or, in check mode, that would be), as C(Kind/namespace/name).
  returned: always
  type: list
  elements: str
unchanged:
  description: Objects that already equal their backup.
  returned: always
  type: list
  elements: str
permissions:
  description:
    - The permissions O(check_access) asked for and the API server confirmed (or refused, then also in RV(access_denied)),
      as C(verb resource.group in namespace NS) or C(verb resource.group cluster-wide).
  returned: always
  type: list
  elements: str
  sample: [list secrets in namespace flyte, get deployments.apps in namespace flyte, patch deployments.apps in namespace flyte]
access_denied:
  description: The permissions the API server refused, as in RV(permissions).
  returned: when a permission is missing (the module fails)
  type: list
  elements: str
  sample: [patch deployments.apps in namespace flyte]
"""

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import access
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup_store
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils


def order(item):
    """Namespaces first (their Pod Security labels before the workloads), then the rest, deletions last."""
    (api_version, kind, namespace, name), record = item
    return (2 if record.get("absent") else 0 if kind == "Namespace" else 1, kind, namespace or "", name, api_version)


def preflight(module, client, needed, needs, result):
    """Ask (SelfSubjectAccessReview) for every permission of ``needed`` not asked yet; fail naming the refused ones."""
    needed = [item for item in access.unique(needed) if access.describe(item) not in result["permissions"]]
    try:
        refused = access.missing(client, needed)
    except k8s_utils.FlyteK8sError as exc:
        module.fail_json(msg="restore preflight: %s" % exc, **result)
    result["permissions"].extend(access.describe(item) for item in needed)
    if refused:
        module.fail_json(msg=access.message(refused, len(needed), prefix="restore preflight", needs=needs),
                         access_denied=[access.describe(item) for item, _reason in refused], **result)


def main():
    module = k8s_utils.new_module(
        argument_spec=dict(
            backup_dir=dict(type="path", required=True),
            run_id=dict(type="str", required=True),
            namespace=dict(type="str"),
            kinds=dict(type="list", elements="str"),
            check_access=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, restored=[], deleted=[], unchanged=[], permissions=[])
    client = k8s_utils.connect(module) if backup_store.is_cluster(p["backup_dir"]) else None
    try:
        if client is not None and p["check_access"]:
            preflight(module, client, [("", "secrets", "list", backup_store.cluster_namespace(p["backup_dir"]))],
                      "the restore needs to read the backups of run %s" % p["run_id"], result)
        store = backup_store.open_store(p["backup_dir"], client)
        records = store.load(run_id=p["run_id"])
    except bk.BackupError as exc:
        module.fail_json(msg=str(exc), **result)
    if not records:
        module.fail_json(msg="run_id: no backups of run %s in backup_dir %s" % (
            p["run_id"], backup_store.describe(p["backup_dir"], p["run_id"])), **result)
    first = {}
    for record in records:
        if p["namespace"] and record.get("namespace") not in (None, p["namespace"]):
            continue
        if p["namespace"] and record["kind"] == "Namespace" and record["name"] != p["namespace"]:
            continue
        first.setdefault((record["apiVersion"], record["kind"], record.get("namespace"), record["name"]), record)
    if p["kinds"]:
        first = dict((key, r) for key, r in first.items() if r["kind"] in p["kinds"])
    selected = sorted(first.items(), key=order)
    for (api_version, kind, namespace, name), record in selected:
        if not record.get("restorable", True):
            module.fail_json(msg="%s/%s/%s: %s" % (kind, namespace or "-", name, record.get("reason")), **result)
    client = client or k8s_utils.connect(module)
    try:
        # Read everything, then ask for every write the restore will make, then write: a missing permission fails
        # the restore before its first request that needs it, with nothing written.
        if p["check_access"]:
            preflight(module, client, [access.permission(client, key[0], key[1], "get", key[2], key[3]) for key, _r in selected],
                      "the restore needs to read the objects of run %s" % p["run_id"], result)
        plan = []
        for (api_version, kind, namespace, name), record in selected:
            label = "%s/%s/%s" % (kind, namespace or "-", name)
            current = client.get(api_version, kind, name, namespace)
            if record.get("absent"):
                if current is None:
                    result["unchanged"].append(label)
                    continue
                holder = (current.get("spec") or {}).get("holderIdentity") if kind == "Lease" else None
                if holder and holder != p["run_id"]:
                    module.warn("%s: held by run %s, left in place" % (label, holder))
                    continue
                plan.append(("delete", (api_version, kind, namespace, name), record, None))
            elif current is None:
                plan.append(("create", (api_version, kind, namespace, name), record, None))
            else:
                patch = bk.restore_patch(record, current)
                if not patch:
                    result["unchanged"].append(label)
                    continue
                plan.append(("patch", (api_version, kind, namespace, name), record, patch))
        if p["check_access"]:
            preflight(module, client, [access.permission(client, key[0], key[1], verb, key[2], key[3])
                                       for verb, key, _r, _patch in plan],
                      "the restore needs to put back the objects of run %s" % p["run_id"], result)
        for verb, (api_version, kind, namespace, name), record, patch in plan:
            label = "%s/%s/%s" % (kind, namespace or "-", name)
            if verb == "delete":
                client.delete(api_version, kind, name, namespace)
                result["deleted"].append(label)
            elif verb == "create":
                client.create(api_version, kind, bk.restore_body(record), namespace)
                result["restored"].append(label)
            else:
                client.patch(api_version, kind, name, namespace, patch, patch_type="merge")
                result["restored"].append(label)
            result["changed"] = True
    except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
