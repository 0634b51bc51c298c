#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_rollout
short_description: Restart Flyte workloads only when the configuration they consume changed
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Restarts Deployments, StatefulSets and DaemonSets when, and only when, the data of the ConfigMaps and
    Secrets their pods consume changed.
  - The hash of that data is kept in the pod template annotation C(hardening.flytesec.io/config-hash).
    A changed hash patches the annotation, which makes the controller roll out exactly once; an unchanged
    hash writes nothing. C(kubectl rollout restart) writes a new timestamp every time and is never idempotent;
    kubernetes.core has no restart at all.
  - A workload listed in O(workloads) that has no hash yet is restarted once, because nothing proves its pods
    run the current configuration. Workloads not listed are never touched.
  - Waits for each rollout (observed generation, updated, ready and available replicas). On failure the
    previous pod template is restored, and so is the data of every ConfigMap and Secret recorded in
    O(backup_dir), and the module fails with the reason (for example the ReplicaSet's C(FailedCreate) event).
  - Paused Deployments are left alone and reported.
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    details: Says which workloads would restart; the patch is sent as a server-side dry run and nothing is written.
  diff_mode:
    support: full
options:
  namespace:
    description: Namespace of the workloads.
    type: str
    default: flyte
  workloads:
    description:
      - The workloads to consider, as C(Kind/name) (for example C(Deployment/flyteadmin)) or a bare name for a Deployment.
      - Usually the C(restart_required) list that other modules of this collection return.
    type: list
    elements: str
    required: true
  force:
    description: Restart even when the hash is unchanged (a new hash is still recorded).
    type: bool
    default: false
  wait:
    description: Wait for each rollout to complete.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each rollout.
    type: int
    default: 300
  wait_sleep:
    description: Seconds between two status reads while waiting.
    type: int
    default: 2
  rollback_on_failure:
    description: When a rollout fails or times out, restore the previous pod template and the data in O(backup_dir).
    type: bool
    default: true
  backup_dir:
    description:
      - Directory of backup records written by the other modules of this collection in the same run.
      - Before a restart, a backup record of the workload is written here too.
      - On a failed rollout, every ConfigMap and Secret the restarted workloads consume that has a record of run O(run_id)
        here is restored to that record (the state before the run changed it).
    type: path
  run_id:
    description:
      - Identifier of the hardening run, recorded in the pod template annotation C(hardening.flytesec.io/restarted-by).
      - On failure, only the backups of this run are restored. Generated when not given.
    type: str
notes:
  - The annotation changes only the pod template's metadata; every other field of the workload stays as it is.
"""

EXAMPLES = r"""
- name: Restart what the CORS change touched, once
  flytesec.hardening.flyte_rollout:
    namespace: flyte
    workloads: "{{ cors_result.restart_required }}"

- name: Restart flyteadmin and flyteconsole if their configuration changed, without waiting
  flytesec.hardening.flyte_rollout:
    namespace: flyte
    workloads:
      - Deployment/flyteadmin
      - flyteconsole
    wait: false
"""

RETURN = r"""
restarted:
  description: Workloads restarted (or, in check mode, that would restart), as C(Kind/name).
  returned: always
  type: list
  elements: str
  sample: [Deployment/flyteadmin]
unchanged:
  description: Workloads whose inputs did not change.
  returned: always
  type: list
  elements: str
skipped:
  description: Workloads left alone, with the reason (for example a paused Deployment).
  returned: always
  type: list
  elements: dict
  sample: [{workload: Deployment/flyteconsole, reason: "Deployment is paused"}]
workloads:
  description: Per workload the old and new config hash, the inputs it consumes and the rollout outcome.
  returned: always
  type: list
  elements: dict
template_annotations:
  description:
    - For each workload restarted (or, in check mode, that would restart), the pod-template annotation that
      records its new configuration hash, as C(Kind/name) -> annotations. Pass it to
      M(flytesec.hardening.flyte_securitycontext) O(flytesec.hardening.flyte_securitycontext#module:template_annotations)
      so that a workload whose securityContext changes too rolls out once.
  returned: always
  type: dict
  sample: {Deployment/flyteadmin: {hardening.flytesec.io/config-hash: "sha256:0f1e..."}}
rolled_back:
  description:
    - When a rollout failed, the objects put back, as C(Kind/name). Every workload this call restarted goes back
      (they share configuration), with the ConfigMaps and Secrets from O(backup_dir).
  returned: on rollout failure
  type: list
  elements: str
  sample: [ConfigMap/flyte-admin-base-config, Deployment/flyteadmin]
warnings_from_api:
  description: Warnings the API server returned (for example PodSecurity warnings).
  returned: always
  type: list
  elements: dict
"""


from ansible_collections.flytesec.hardening.plugins.module_utils import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils import k8s as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils import rollout as ro
from ansible_collections.flytesec.hardening.plugins.module_utils import workloads as wl
from ansible_collections.flytesec.hardening.plugins.module_utils.rollout_wait import failure_reason, wait_for

API_VERSIONS = wl.API_VERSIONS
label = wl.label


def parse_workload(text):
    """Turn ``Kind/name`` or ``name`` into ``(Kind, name)``; only kinds that roll out (ValueError otherwise)."""
    return wl.parse_workload(text, ro.ROLLABLE_KINDS)


def main():
    module = k8s_utils.new_module(
        argument_spec=dict(
            namespace=dict(type="str", default="flyte"),
            workloads=dict(type="list", elements="str", required=True),
            force=dict(type="bool", default=False),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
            wait_sleep=dict(type="int", default=2),
            rollback_on_failure=dict(type="bool", default=True),
            backup_dir=dict(type="path"),
            run_id=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    namespace = params["namespace"]
    try:
        targets = [parse_workload(w) for w in params["workloads"]]
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    client = k8s_utils.connect(module)
    result = dict(changed=False, restarted=[], unchanged=[], skipped=[], workloads=[], warnings_from_api=[],
                  template_annotations={})

    # Read everything first: a missing workload fails the module before any write.
    plans = []
    try:
        for kind, name in dict.fromkeys(targets):
            workload = client.get(API_VERSIONS[kind], kind, name, namespace)
            if workload is None:
                module.fail_json(msg="workloads: %s not found in namespace %s" % (label(kind, name), namespace), **result)
            refs = ro.referenced_objects(ro.pod_template(workload).get("spec") or {})
            objects = [client.get("v1", ref_kind, ref_name, namespace) for ref_kind, ref_name, _optional in refs]
            new_hash = ro.inputs_hash(workload["metadata"].get("uid"), objects)
            plans.append((kind, name, workload, refs, new_hash))
    except k8s_utils.FlyteK8sError as exc:
        module.fail_json(msg=str(exc), **result)

    run_id = params["run_id"] or bk.new_run_id()
    started = []
    for kind, name, workload, refs, new_hash in plans:
        old_hash = ro.current_hash(workload)
        entry = dict(workload=label(kind, name), old_hash=old_hash, new_hash=new_hash,
                     inputs=["%s/%s" % (k, n) for k, n, _o in refs], outcome="unchanged")
        result["workloads"].append(entry)
        if (workload.get("spec") or {}).get("paused"):
            entry["outcome"] = "skipped"
            result["skipped"].append(dict(workload=label(kind, name), reason="%s is paused: resume it to apply the change" % kind))
            continue
        if old_hash == new_hash and not params["force"]:
            result["unchanged"].append(label(kind, name))
            continue
        try:
            if params["backup_dir"] and not module.check_mode:
                bk.write_record(params["backup_dir"], bk.make_record(workload, run_id=run_id))
            client.patch(API_VERSIONS[kind], kind, name, namespace, ro.restart_patch(new_hash, run_id))
        except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
            module.fail_json(msg=str(exc), **result)
        entry["outcome"] = "restarted"
        result["restarted"].append(label(kind, name))
        result["template_annotations"][label(kind, name)] = {ro.CONFIG_HASH_ANNOTATION: new_hash}
        result["changed"] = True
        started.append((kind, name, workload, refs))

    if module._diff:
        result["diff"] = [dict(before_header="%s pod template" % e["workload"], after_header="%s pod template" % e["workload"],
                               before="%s: %s\n" % (ro.CONFIG_HASH_ANNOTATION, e["old_hash"]),
                               after="%s: %s\n" % (ro.CONFIG_HASH_ANNOTATION, e["new_hash"]))
                          for e in result["workloads"] if e["outcome"] == "restarted"]

    if params["wait"] and not module.check_mode and started:
        failures = []
        for kind, name, before, refs in started:
            state, message, after = wait_for(client, kind, name, namespace, params["wait_timeout"], params["wait_sleep"])
            entry = next(e for e in result["workloads"] if e["workload"] == label(kind, name))
            entry["rollout"] = state
            if state == "failed":
                reason = failure_reason(client, namespace, after, message)
                entry["reason"] = reason
                failures.append("%s: %s" % (label(kind, name), reason))
        if failures:
            restored = []
            if params["rollback_on_failure"]:
                try:
                    restored = rollback(client, module, namespace, started, run_id)
                except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
                    failures.append("rollback failed: %s" % exc)
            result["warnings_from_api"] = client.warnings
            rolled = "; rolled back %s" % ", ".join(restored) if restored else ""
            module.fail_json(msg="rollout failed: %s%s" % ("; ".join(failures), rolled),
                             rolled_back=restored, **result)

    result["warnings_from_api"] = client.warnings
    module.exit_json(**result)


def rollback(client, module, namespace, started, run_id):
    """Put back every restarted workload's pod template and, from backup_dir, the data they consume.

    All or nothing: the workloads of one call share ConfigMaps, so every one of them goes back.
    Returns what was restored, as ``Kind/name``.
    """
    restored = []
    consumed = set()
    backup_dir = module.params["backup_dir"]
    for kind, name, before, refs in started:
        consumed.update((k, n) for k, n, _o in refs)
    if backup_dir:
        records = bk.latest_per_object(bk.load_records(backup_dir, namespace=namespace, run_id=run_id))
        for record in records:
            if (record["kind"], record["name"]) not in consumed or not record.get("restorable", True):
                continue
            current = client.get("v1", record["kind"], record["name"], namespace) or {}
            patch = bk.restore_patch(record, current)
            if patch:
                client.patch("v1", record["kind"], record["name"], namespace, patch, patch_type="merge")
                restored.append("%s/%s" % (record["kind"], record["name"]))
    for kind, name, before, refs in started:
        client.patch(API_VERSIONS[kind], kind, name, namespace, ro.template_restore_patch(ro.pod_template(before)), patch_type="json")
        restored.append(label(kind, name))
    return restored


if __name__ == "__main__":
    main()
