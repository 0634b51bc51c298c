# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart on change: decide, trigger and judge rollouts of Flyte workloads.

``kubectl rollout restart`` writes a new timestamp on every call and is never idempotent.
Here a workload's pod template carries the hash of the ConfigMap and Secret data it consumes
(annotation ``CONFIG_HASH_ANNOTATION``). A changed hash patches the annotation, which makes the
controller roll out exactly once; an unchanged hash does nothing.

Pure functions on plain dicts; the flyte_rollout module does the API calls (``plan_restart`` decides per workload,
module_utils/k8s/rollout_wait.py waits and rolls back).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json

CONFIG_HASH_ANNOTATION = "hardening.flytesec.io/config-hash"
RESTARTED_BY_ANNOTATION = "hardening.flytesec.io/restarted-by"
ROLLABLE_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def pod_template(workload):
    """Return the pod template of a Deployment, StatefulSet or DaemonSet (``{}`` when absent)."""
    return (workload.get("spec") or {}).get("template") or {}


def referenced_objects(pod_spec):
    """Return the ConfigMaps and Secrets a pod spec consumes, as sorted ``(kind, name, optional)`` tuples.

    Looks at volumes (configMap, secret, projected sources), ``envFrom`` and ``env[].valueFrom``
    of every container, init containers included.
    """
    found = {}

    def add(kind, name, optional):
        if name:
            key = (kind, name)
            found[key] = found.get(key, True) and bool(optional)

    for volume in pod_spec.get("volumes") or []:
        if volume.get("configMap"):
            add("ConfigMap", volume["configMap"].get("name"), volume["configMap"].get("optional"))
        if volume.get("secret"):
            add("Secret", volume["secret"].get("secretName"), volume["secret"].get("optional"))
        for source in (volume.get("projected") or {}).get("sources") or []:
            if source.get("configMap"):
                add("ConfigMap", source["configMap"].get("name"), source["configMap"].get("optional"))
            if source.get("secret"):
                add("Secret", source["secret"].get("name"), source["secret"].get("optional"))
    for container in (pod_spec.get("initContainers") or []) + (pod_spec.get("containers") or []):
        for env_from in container.get("envFrom") or []:
            if env_from.get("configMapRef"):
                add("ConfigMap", env_from["configMapRef"].get("name"), env_from["configMapRef"].get("optional"))
            if env_from.get("secretRef"):
                add("Secret", env_from["secretRef"].get("name"), env_from["secretRef"].get("optional"))
        for env in container.get("env") or []:
            value_from = env.get("valueFrom") or {}
            if value_from.get("configMapKeyRef"):
                add("ConfigMap", value_from["configMapKeyRef"].get("name"), value_from["configMapKeyRef"].get("optional"))
            if value_from.get("secretKeyRef"):
                add("Secret", value_from["secretKeyRef"].get("name"), value_from["secretKeyRef"].get("optional"))
    return sorted((kind, name, optional) for (kind, name), optional in found.items())


def current_hash(workload):
    """Return the config hash recorded in the workload's pod template, or ``None``."""
    annotations = (pod_template(workload).get("metadata") or {}).get("annotations") or {}
    return annotations.get(CONFIG_HASH_ANNOTATION)


def inputs_hash(workload_uid, objects):
    """Hash the data of the ConfigMaps and Secrets a workload consumes.

    ``objects`` is a list of ConfigMap/Secret dicts (missing ones as ``None`` entries are skipped).
    The workload's uid salts the digest, so the annotation says nothing about a Secret's value
    that could be looked up elsewhere. Only ``data``, ``binaryData`` and ``stringData`` count:
    metadata churn (resourceVersion, managedFields) never causes a restart.
    """
    digest = hashlib.sha256()
    digest.update((workload_uid or "").encode("utf-8"))
    for obj in sorted((o for o in objects if o), key=lambda o: (o.get("kind", ""), o["metadata"]["name"])):
        payload = {
            "kind": obj.get("kind"),
            "name": obj["metadata"]["name"],
            "data": obj.get("data") or {},
            "binaryData": obj.get("binaryData") or {},
            "stringData": obj.get("stringData") or {},
        }
        digest.update(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return "sha256:" + digest.hexdigest()[:32]


def restart_patch(new_hash, run_id=None):
    """Strategic-merge patch that records ``new_hash`` in the pod template (and so rolls the workload)."""
    annotations = {CONFIG_HASH_ANNOTATION: new_hash}
    if run_id:
        annotations[RESTARTED_BY_ANNOTATION] = run_id
    return {"spec": {"template": {"metadata": {"annotations": annotations}}}}


def plan_restart(workload, refs, objects, force=False, run_id=None):
    """Decide what to do with one workload, from its inputs as read.

    ``refs``: ``referenced_objects`` of its pod spec; ``objects``: those ConfigMaps and Secrets (``None`` for a
    missing one). Returns a dict: ``old_hash``, ``new_hash``, ``inputs`` (``Kind/name`` of each ref), ``action``
    (``restart``, ``unchanged`` or ``skip``), ``reason`` (why it is skipped) and ``patch`` (``restart_patch``, for
    ``restart`` only). A paused workload is skipped; an unchanged hash is left alone unless ``force``; a workload
    without a hash yet restarts once, as nothing proves its pods run the current configuration.
    """
    kind = workload.get("kind")
    new_hash = inputs_hash((workload.get("metadata") or {}).get("uid"), objects)
    old_hash = current_hash(workload)
    plan = {"old_hash": old_hash, "new_hash": new_hash, "inputs": ["%s/%s" % (k, n) for k, n, _o in refs],
            "action": "restart", "reason": None, "patch": None}
    if (workload.get("spec") or {}).get("paused"):
        plan.update(action="skip", reason="%s is paused: resume it to apply the change" % kind)
    elif old_hash == new_hash and not force:
        plan["action"] = "unchanged"
    else:
        plan["patch"] = restart_patch(new_hash, run_id)
    return plan


def last_written(obj, manager=None):
    """The time (RFC 3339 text, UTC) of the last write to ``obj`` (by ``manager``, a field manager, if given): the
    newest of its ``managedFields`` entries; None if unknown."""
    times = [m.get("time") for m in ((obj or {}).get("metadata") or {}).get("managedFields") or []
             if m.get("time") and (manager is None or m.get("manager") == manager)]
    return max(times) if times else None


def current_replicaset(deployment, replicasets):
    """The ReplicaSet whose pods a Deployment runs now: owned by it, with its revision (the newest one otherwise)."""
    uid = (deployment.get("metadata") or {}).get("uid")
    revision = ((deployment.get("metadata") or {}).get("annotations") or {}).get("deployment.kubernetes.io/revision")
    owned = [rs for rs in replicasets
             if any(o.get("uid") == uid for o in (rs.get("metadata") or {}).get("ownerReferences") or [])]
    same = [rs for rs in owned
            if ((rs.get("metadata") or {}).get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision]
    pool = same or owned
    return max(pool, key=lambda rs: rs["metadata"].get("creationTimestamp") or "") if pool else None


def workload_pods(workload, pods, replicasets):
    """The pods a workload runs now: those its selector matches (for a Deployment, of its current ReplicaSet)."""
    match = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not match:
        return []
    if workload.get("kind") == "Deployment":
        replicaset = current_replicaset(workload, replicasets)
        template_hash = replicaset and ((replicaset["metadata"].get("labels") or {}).get("pod-template-hash"))
        if not template_hash:
            return []
        match = dict(match, **{"pod-template-hash": template_hash})
    return [p for p in pods if all(((p.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in match.items())]


def pending_restart(plan, workload, inputs, pods, manager):
    """Why a workload's pods predate a write of this collection (field manager ``manager``) to what they consume,
    or None: a run that stopped between a configuration write and its restart leaves exactly that.

    ``plan``: its ``plan_restart``; ``inputs``: the ConfigMaps and Secrets it consumes that count (read objects);
    ``pods``: the pods it runs now (``workload_pods``). Writes of other clients never count: a hand edit, even a
    reformatting, is theirs to roll out."""
    if plan["action"] != "restart" or not pods:
        return None
    written = sorted((last_written(o, manager), "%s/%s" % (o.get("kind"), o["metadata"]["name"])) for o in inputs
                     if o and last_written(o, manager))
    if not written:
        return None
    started = min(p["metadata"].get("creationTimestamp") or "" for p in pods)
    if not started or written[-1][0] <= started:
        return None
    return "this collection wrote %s at %s, after its oldest pod started (%s)" % (written[-1][1], written[-1][0], started)


def hash_diff(workload_label, old_hash, new_hash):
    """The diff entry of a restart: the pod template's config-hash annotation before and after."""
    return {"before_header": "%s pod template" % workload_label, "after_header": "%s pod template" % workload_label,
            "before": "%s: %s\n" % (CONFIG_HASH_ANNOTATION, old_hash),
            "after": "%s: %s\n" % (CONFIG_HASH_ANNOTATION, new_hash)}


def template_restore_patch(backup_template):
    """JSON patch that puts a pod template back exactly as it was in a backup."""
    return [{"op": "replace", "path": "/spec/template", "value": backup_template}]


def _condition(status, cond_type):
    for cond in status.get("conditions") or []:
        if cond.get("type") == cond_type:
            return cond
    return None


def rollout_state(workload):
    """Judge a rollout from the workload's status.

    Returns ``(state, message)`` where state is ``complete``, ``progressing``, ``failed`` or ``paused``.
    Follows ``kubectl rollout status``: the controller has observed the latest generation and every
    replica is updated, ready and available with no old replica left.
    """
    kind = workload.get("kind")
    spec = workload.get("spec") or {}
    status = workload.get("status") or {}
    generation = (workload.get("metadata") or {}).get("generation", 0)
    if spec.get("paused"):
        return "paused", "%s is paused: not rolled out (resume it to apply the change)" % kind
    if status.get("observedGeneration", 0) < generation:
        return "progressing", "waiting for the controller to observe generation %s" % generation
    if kind == "Deployment":
        progressing = _condition(status, "Progressing")
        if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
            return "failed", progressing.get("message") or "progress deadline exceeded"
        failure = _condition(status, "ReplicaFailure")
        if failure and failure.get("status") == "True":
            return "failed", failure.get("message") or failure.get("reason") or "replica failure"
        want = spec.get("replicas", 1)
        updated = status.get("updatedReplicas", 0)
        if updated < want:
            return "progressing", "%s of %s updated replicas" % (updated, want)
        if status.get("replicas", 0) > updated:
            return "progressing", "%s old replicas pending termination" % (status.get("replicas", 0) - updated)
        if status.get("availableReplicas", 0) < updated:
            return "progressing", "%s of %s updated replicas available" % (status.get("availableReplicas", 0), updated)
        return "complete", "rolled out"
    if kind == "StatefulSet":
        want = spec.get("replicas", 1)
        if status.get("updatedReplicas", 0) < want or status.get("readyReplicas", 0) < want:
            return "progressing", "%s of %s pods updated and ready" % (status.get("updatedReplicas", 0), want)
        if status.get("updateRevision") and status.get("currentRevision") != status.get("updateRevision"):
            return "progressing", "waiting for the update revision to become current"
        return "complete", "rolled out"
    if kind == "DaemonSet":
        want = status.get("desiredNumberScheduled", 0)
        if status.get("updatedNumberScheduled", 0) < want or status.get("numberAvailable", 0) < want:
            return "progressing", "%s of %s pods updated and available" % (status.get("updatedNumberScheduled", 0), want)
        return "complete", "rolled out"
    return "complete", "%s has no rollout" % kind


def failure_reason(events):
    """Pick the most telling message from the events of a workload and its ReplicaSets/Pods.

    ``FailedCreate`` (for example a PodSecurity rejection) is preferred, then any other Warning.
    """
    warnings = [e for e in events if e.get("type") == "Warning"]
    for preferred in ("FailedCreate", "FailedScheduling", "BackOff", "Failed"):
        for event in reversed(warnings):
            if event.get("reason") == preferred:
                return "%s: %s" % (preferred, event.get("message"))
    if warnings:
        return "%s: %s" % (warnings[-1].get("reason"), warnings[-1].get("message"))
    return None
