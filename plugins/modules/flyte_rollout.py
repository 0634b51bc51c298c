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
  - flytesec.hardening.backup
  - flytesec.hardening.wait
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
      - O(workloads) or O(candidates) must name at least one workload.
    type: list
    elements: str
    default: []
  candidates:
    description:
      - More workloads (C(Kind/name)) whose pods may predate their configuration, because an earlier run stopped
        between a configuration write and its restart. Each restarts only when that is so (RV(pending)) - its
        configuration hash changed and this collection (field manager C(flytesec.hardening)) last wrote an input in
        O(candidate_inputs) after the oldest pod the workload runs now started (C(managedFields) times). Writes of
        other clients never count. Otherwise it is left alone, without a write. Missing ones are ignored.
    type: list
    elements: str
    default: []
  candidate_inputs:
    description:
      - The ConfigMaps and Secrets (C(Kind/name)) whose writes count for O(candidates) (the objects this collection
        edits; M(flytesec.hardening.flyte_info) returns them as RV(flytesec.hardening.flyte_info#module:objects)).
        Empty, every ConfigMap and Secret a candidate consumes counts.
    type: list
    elements: str
    default: []
  force:
    description: Restart even when the hash is unchanged (a new hash is still recorded).
    type: bool
    default: false
  run_id:
    description:
      - Identifier of the hardening run; groups its backups under O(backup_dir), and is recorded in the pod template
        annotation C(hardening.flytesec.io/restarted-by) of every workload restarted. Unset, the module makes one.
      - On a failed rollout, only the ConfigMap and Secret backups of this run are put back (see O(rollback_on_failure)).
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
pending:
  description:
    - The O(candidates) restarted (in check mode, that would restart) because their pods predate their
      configuration, with the reason. In check mode they count as drift, as nothing else reports them.
  returned: always
  type: list
  elements: dict
  sample: [{workload: Deployment/flyteadmin, reason: "this collection wrote ConfigMap/flyte-admin-base-config at ..., after its oldest pod started (...)"}]
unchanged:
  description: Workloads whose inputs did not change.
  returned: always
  type: list
  elements: str
not_restarted:
  description:
    - Workloads left alone, with the reason (for example a paused Deployment).
    - Formerly C(skipped), a result key that makes ansible-core ignore C(changed_when) and C(failed_when).
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


from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout as ro
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout_wait
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import workloads as wl

API_VERSIONS = wl.API_VERSIONS
label = wl.label


def parse_workload(text):
    """Turn ``Kind/name`` or ``name`` into ``(Kind, name)``; only kinds that roll out (ValueError otherwise)."""
    return wl.parse_workload(text, ro.ROLLABLE_KINDS)


def _object_label(text):
    """``Kind/name`` of a ConfigMap or Secret (ValueError otherwise)."""
    kind, _sep, name = str(text).partition("/")
    if kind not in ("ConfigMap", "Secret") or not name:
        raise ValueError("candidate_inputs: %r is not ConfigMap/name or Secret/name" % (text,))
    return "%s/%s" % (kind, name)


def read_workloads(client, targets, namespace, missing_ok=False):
    """Read each workload and the ConfigMaps and Secrets it consumes: ``[(kind, name, workload, refs, objects)]``.

    Raises ValueError naming a workload that is not there (before any write), unless ``missing_ok``."""
    found = []
    for kind, name in dict.fromkeys(targets):
        workload = client.get(API_VERSIONS[kind], kind, name, namespace)
        if workload is None and missing_ok:
            continue
        if workload is None:
            raise ValueError("workloads: %s not found in namespace %s" % (label(kind, name), namespace))
        workload.setdefault("kind", kind)
        refs = ro.referenced_objects(ro.pod_template(workload).get("spec") or {})
        objects = [client.get("v1", ref_kind, ref_name, namespace) for ref_kind, ref_name, _optional in refs]
        found.append((kind, name, workload, refs, objects))
    return found


def main():
    module = k8s_utils.new_module(
        argument_spec=args_common.spec(
            args_common.BACKUP, args_common.WAIT,
            namespace=dict(type="str", default="flyte"),
            workloads=dict(type="list", elements="str", default=[]),
            candidates=dict(type="list", elements="str", default=[]),
            candidate_inputs=dict(type="list", elements="str", default=[]),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    namespace = params["namespace"]
    result = dict(changed=False, restarted=[], unchanged=[], not_restarted=[], workloads=[], warnings_from_api=[],
                  template_annotations={}, pending=[])

    # Parse: bad input fails before connecting.
    if not params["workloads"] and not params["candidates"]:
        module.fail_json(msg="workloads: is empty; name the workloads to restart (Kind/name)", **result)
    try:
        targets = [parse_workload(w) for w in params["workloads"]]
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)
    try:
        candidates = [c for c in (parse_workload(w) for w in params["candidates"]) if c not in targets]
    except ValueError as exc:
        module.fail_json(msg=str(exc).replace("workloads:", "candidates:", 1), **result)
    try:
        counted = set(_object_label(text) for text in params["candidate_inputs"])
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)
    bad_wait = args_common.check_wait(params)
    if bad_wait:
        module.fail_json(msg=bad_wait, **result)
    client = k8s_utils.connect(module)
    writer = apply.Writer(client, module.check_mode, params["backup_dir"], params["run_id"])

    # Plan: read everything first, so a missing workload fails the module before any write.
    try:
        found = read_workloads(client, targets, namespace)
        others = read_workloads(client, candidates, namespace, missing_ok=True)
        # the pods' start times matter only where this collection wrote an input (two LISTs, not one per workload)
        ours = any(ro.last_written(o, k8s_utils.FIELD_MANAGER) for _k, _n, _w, _r, objs in others for o in objs if o)
        replicasets = client.list("apps/v1", "ReplicaSet", namespace) if ours else []
        pods = client.list("v1", "Pod", namespace) if ours else []
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)
    except k8s_utils.FlyteK8sError as exc:
        module.fail_json(msg=str(exc), **result)
    plans = []
    for kind, name, workload, refs, objects in found + others:
        plan = ro.plan_restart(workload, refs, objects, force=params["force"], run_id=writer.run_id)
        entry = dict(workload=label(kind, name), old_hash=plan["old_hash"], new_hash=plan["new_hash"],
                     inputs=plan["inputs"], outcome="unchanged")
        if (kind, name) in candidates:
            inputs = [o for o in objects if o and (not counted or "%s/%s" % (o.get("kind"), o["metadata"]["name"]) in counted)]
            reason = ro.pending_restart(plan, workload, inputs, ro.workload_pods(workload, pods, replicasets),
                                        k8s_utils.FIELD_MANAGER) if inputs and ours else None
            if reason is None:   # not a target, and nothing says its pods run old configuration: left alone
                plan = dict(plan, action="unchanged")
            else:
                result["pending"].append(dict(workload=entry["workload"], reason=reason))
        result["workloads"].append(entry)
        if plan["action"] == "skip":
            entry["outcome"] = "skipped"
            result["not_restarted"].append(dict(workload=entry["workload"], reason=plan["reason"]))
        elif plan["action"] == "unchanged":
            result["unchanged"].append(entry["workload"])
        else:
            plans.append((kind, name, workload, plan, entry))

    # Apply: a backup record of each workload, then its restart patch (a server-side dry run in check mode).
    started = []
    for kind, name, workload, plan, entry in plans:
        try:
            writer.patch(workload, plan["patch"], patch_type="strategic", api_version=API_VERSIONS[kind], kind=kind)
        except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
            result["warnings_from_api"] = client.warnings
            module.fail_json(msg=str(exc), **result)
        entry["outcome"] = "restarted"
        result["restarted"].append(entry["workload"])
        result["template_annotations"][entry["workload"]] = {ro.CONFIG_HASH_ANNOTATION: plan["new_hash"]}
        result["changed"] = True
        started.append(rollout_wait.Started(kind, name, workload, entry))

    # Report.
    if module._diff:
        result["diff"] = [ro.hash_diff(e["workload"], e["old_hash"], e["new_hash"])
                          for e in result["workloads"] if e["outcome"] == "restarted"]
    failed = rollout_wait.wait_or_rollback(client, writer, namespace, started, params)
    result["warnings_from_api"] = client.warnings
    if failed:
        msg, rolled_back = failed
        module.fail_json(msg=msg, rolled_back=rolled_back, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
