#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_securitycontext
short_description: Make Flyte workloads pass Pod Security Standards (restricted or baseline)
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Sets the pod and container securityContexts of the Flyte workloads in a namespace so that they pass the Pod
    Security Standards profile O(profile) (C(restricted) by default), the way the API server's PodSecurity admission
    evaluates them.
  - Targets the workloads of the detected Flyte installation (flyte-core or flyte-binary, see O(layout)), or the
    ones named in O(workloads), or the ones matching O(label_selector). Deployments, StatefulSets, DaemonSets, Jobs
    and CronJobs are supported.
  - "Restricted, pod level: C(runAsNonRoot: true), numeric C(runAsUser), C(runAsGroup) and C(fsGroup), C(seccompProfile)
    C(RuntimeDefault). A workload's existing non-zero IDs are kept. Missing ones default to O(run_as_user), else to the
    image's user: 65534 for flyte-binary (its image has no USER), 1001 for the flyte-core images that say
    C(USER flyte) by name (the kubelet refuses C(runAsNonRoot) with a non-numeric image user), 1000 for flyteconsole,
    65534 otherwise. C(runAsGroup) defaults to the UID, C(fsGroup) to the GID."
  - "Restricted, every container (init containers included): C(allowPrivilegeEscalation: false), capabilities drop
    C(ALL) (add C(NET_BIND_SERVICE) only with O(allow_net_bind_service)), C(privileged: false),
    C(readOnlyRootFilesystem: true) with an emptyDir mounted at every path of O(writable_paths) (default C(/tmp))."
  - SELinux types baseline forbids (C(spc_t), set by the flyte-core chart) are removed, or replaced by
    O(keep_selinux_type).
  - The workloads are patched with a strategic merge patch naming only the fields this module manages, never
    replaced; every other field stays as it is. A second run changes nothing.
  - Everything is planned first. If any workload would still violate O(profile) after the change, outside the
    O(exemptions), the module fails before writing anything and lists the violations.
  - In check mode the patches are sent as server-side dry runs, so the API server's own PodSecurity warnings (from
    the namespace's C(pod-security.kubernetes.io/warn) label) come back in RV(warnings_from_api).
  - With O(wait), waits for the rollouts the change caused; when one fails, the previous pod template of every
    workload this call changed is restored, with the ConfigMaps and Secrets they consume that have a backup record of
    this run under O(backup_dir) (see O(rollback_on_failure)), and the module fails with the reason (for example the
    ReplicaSet's C(FailedCreate) event).
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
  - flytesec.hardening.flyte_target
  - flytesec.hardening.backup
  - flytesec.hardening.wait
attributes:
  check_mode:
    support: full
    details: The patches are sent as server-side dry runs; nothing is written, no backup file is made and no rollout is waited for.
  diff_mode:
    support: full
    details: Shows the pod and container securityContexts, volumes and mounts of every changed workload before and after.
options:
  workloads:
    description:
      - The workloads to harden, as C(Kind/name) (for example C(Deployment/flyteadmin), C(CronJob/cleanup)) or a bare
        name for a Deployment.
      - When neither O(workloads) nor O(label_selector) is given, the workloads of the Flyte installation detected in
        O(namespace) are used (see O(layout)).
    type: list
    elements: str
  label_selector:
    description:
      - Harden the Deployments, StatefulSets, DaemonSets, Jobs and CronJobs of O(namespace) that match this label
        selector (for example C(app.kubernetes.io/part-of=flyte)). Jobs created by a CronJob are left out.
    type: str
  extra_workloads:
    description:
      - More workloads to harden besides the targets, as C(Kind/name), for example the bundled dependencies of a
        sandbox install (C(Deployment/minio), C(Deployment/postgres)) that a securityContext can make compliant.
      - Each must exist in O(namespace).
    type: list
    elements: str
    default: []
  enforce_level:
    description:
      - The Pod Security level the namespace will enforce, at which RV(other_workloads) is evaluated. Defaults to
        O(profile).
    type: str
    choices: [restricted, baseline, privileged]
  profile:
    description: Pod Security Standards profile the workloads must pass.
    type: str
    choices: [restricted, baseline]
    default: restricted
  version:
    description:
      - Pod Security Standards policy version to evaluate, as in the C(pod-security.kubernetes.io/*-version) labels
        (C(v1.34)) or C(latest). Use the C(enforce-version) the namespace will be labelled with.
    type: str
    default: latest
  run_as_user:
    description:
      - UID for workloads that set none (or 0). Must not be 0. Existing non-zero UIDs are kept unless O(override_ids).
      - Default per image, see the description.
    type: int
  run_as_group:
    description: GID for workloads that set none (or 0). Default the chosen UID. Must not be 0.
    type: int
  fs_group:
    description: fsGroup for workloads that set none (or 0). Default the chosen GID. Must not be 0.
    type: int
  override_ids:
    description: Replace existing non-zero IDs by O(run_as_user), O(run_as_group) and O(fs_group) when those are given.
    type: bool
    default: false
  seccomp_profile:
    description: Seccomp profile type set where none is set (or an invalid one such as C(Unconfined)).
    type: str
    choices: [RuntimeDefault, Localhost]
    default: RuntimeDefault
  seccomp_localhost_profile:
    description: Profile path on the node; required with O(seccomp_profile=Localhost), invalid otherwise.
    type: str
  read_only_root_filesystem:
    description:
      - Set C(readOnlyRootFilesystem) on every container. Default true with O(profile=restricted), false with
        O(profile=baseline) (Pod Security Standards do not require it).
    type: bool
  writable_paths:
    description:
      - Paths that stay writable under a read-only root filesystem, each backed by an emptyDir volume named
        C(flytesec-<path>). A list applies to every container; a dict maps a container name (or C(*) for all) to a
        list of paths. Default C(/tmp) in every container (flyte-binary's C(gen-admin-auth-secret) writes there).
    type: raw
  allow_net_bind_service:
    description: Add the C(NET_BIND_SERVICE) capability (the only one restricted allows) to every container.
    type: bool
    default: false
  keep_selinux_type:
    description:
      - Replace a forbidden SELinux type (C(spc_t)) by this type baseline allows (C(container_t), C(container_init_t),
        C(container_kvm_t), and from policy v1.31 C(container_engine_t)) instead of removing it.
    type: str
  openshift:
    description:
      - Leave C(runAsUser), C(runAsGroup) and C(fsGroup) unset (removing them) so that the OpenShift SCC assigns them
        from the namespace's range. C(runAsNonRoot) stays true.
    type: bool
    default: false
  wait_for_db_as_postgres:
    description:
      - Run flyte-binary's C(wait-for-db) init container as the postgres image's own user (UID/GID 70 in the alpine
        images, 999 in the Debian ones) instead of the pod's UID. An alternative to an exemption for that container.
    type: bool
    default: false
  exemptions:
    description:
      - Per-container exemptions. The module does not apply the fixes of the named checks to the container, and
        after-state violations that only concern exempt containers for exempt checks are accepted and reported with
        their justification.
      - Pod-level checks (host namespaces, volumes, sysctls) can not be exempted.
      - An exempted violation still makes the namespace reject the pods when it enforces O(profile); enforce a lower
        level there, or use an admission exemption.
    type: list
    elements: dict
    suboptions:
      container:
        description: Container name (init containers included). Required.
        type: str
      justification:
        description: Why the container can not be hardened. Required and reported in the result.
        type: str
      checks:
        description:
          - Pod Security check IDs to exempt (for example C(runAsNonRoot), C(runAsUser), C(capabilities),
            C(readOnlyRootFilesystem)). Default all container checks.
        type: list
        elements: str
      workload:
        description: Only in the workload of this name. Default every targeted workload with such a container.
        type: str
      run_as_user:
        description: Pin the container's UID. C(0) also sets C(runAsNonRoot=false) and needs C(runAsNonRoot) and C(runAsUser) in O(exemptions[].checks).
        type: int
  template_annotations:
    description:
      - Pod-template annotations to add, per workload (C(Kind/name) -> annotations), in the same patch, to the
        workloads whose securityContext changes. Nothing is written for a workload that needs no change.
      - harden-flyte.yml passes the configuration hash of M(flytesec.hardening.flyte_rollout) here, so a workload
        whose configuration and securityContext both change rolls out once, not twice.
    type: dict
notes:
  - A Job's pod template is immutable; a Job that needs a change makes the module fail (recreate it instead).
  - CronJobs are patched too; their next Jobs use the new template, nothing restarts.
  - The module changes workloads only. Label the namespace (M(flytesec.hardening.flyte_pod_security_labels), or the
    role C(flytesec.hardening.pod_security)) to make the API server enforce the profile.
seealso:
  - module: flytesec.hardening.flyte_pod_security_labels
  - name: Pod Security Standards
    description: The profiles and their checks.
    link: https://kubernetes.io/docs/concepts/security/pod-security-standards/
"""

EXAMPLES = r"""
- name: Make every Flyte workload pass Pod Security restricted (policy v1.34)
  flytesec.hardening.flyte_securitycontext:
    namespace: flyte
    version: v1.34
  register: psa

- name: flyte-binary, running wait-for-db as the postgres user
  flytesec.hardening.flyte_securitycontext:
    namespace: flyte-binary
    wait_for_db_as_postgres: true
    backup_dir: /var/backups/flytesec

- name: Baseline only, keeping an SELinux type an admission policy requires
  flytesec.hardening.flyte_securitycontext:
    namespace: flyte
    profile: baseline
    keep_selinux_type: container_t

- name: Harden named workloads, with an exemption
  flytesec.hardening.flyte_securitycontext:
    namespace: flyte
    workloads:
      - Deployment/flyteadmin
      - CronJob/flyte-cleanup
    writable_paths:
      "*": [/tmp]
      flyteadmin: [/var/run/flyte]
    exemptions:
      - container: legacy-sidecar
        justification: vendor image writes to /opt; ticket SEC-123
        checks: [readOnlyRootFilesystem]
"""

RETURN = r"""
other_workloads:
  description:
    - Workloads of the namespace that are not targeted (bundled dependencies such as contour, envoy, minio, postgres,
      or bare Pods) and whose pods would not pass O(profile). They block enforcing O(profile) on the namespace.
    - C(securitycontext_fixes) is true when a securityContext alone would make it pass (list it in O(workloads) to
      harden it too); false when it needs something a securityContext cannot change (a host port, the host
      network, a hostPath volume, a privileged container).
  returned: always
  type: list
  elements: dict
  sample: [{workload: DaemonSet/envoy, violations: ["hostPort (container \"envoy\" uses hostPorts 80, 443)"], securitycontext_fixes: false}]
workloads:
  description: Per targeted workload what was found and what changed.
  returned: always
  type: list
  elements: dict
  contains:
    workload:
      description: C(Kind/name).
      type: str
      sample: Deployment/flyteadmin
    changed:
      description: Whether its pod template changes.
      type: bool
    violations_before:
      description: Pod Security violations of O(profile) before the change (check, level, reason, detail, containers, fields).
      type: list
      elements: dict
    violations_after:
      description: Violations after the change; only exempted ones remain.
      type: list
      elements: dict
    warning_before:
      description: The API server's warning text for the state before, or null when it passes.
      type: str
      sample: 'would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (...)'
    warning_after:
      description: The API server's warning text for the state after, or null when it passes.
      type: str
    level_before:
      description: Highest Pod Security level the workload passed before (privileged, baseline or restricted).
      type: str
    level_after:
      description: Highest level it passes after.
      type: str
    exemptions:
      description: The exemptions that apply to this workload.
      type: list
      elements: dict
    exempted_violations:
      description: After-state violations accepted through an exemption, with the justification.
      type: list
      elements: dict
    patch:
      description: The strategic merge patch sent (empty when unchanged).
      type: dict
    notes:
      description: Decisions worth knowing (for example which default UID was chosen and why).
      type: list
      elements: str
    api_warnings:
      description: Warnings the API server returned for this workload's patch.
      type: list
      elements: str
    rollout:
      description: Outcome of the rollout when waited for (complete or failed).
      type: str
      returned: when waited for
changed_workloads:
  description: Workloads changed (in check mode, that would change), as C(Kind/name).
  returned: always
  type: list
  elements: str
  sample: [Deployment/flyteadmin, Deployment/flytepropeller]
restart:
  description: Workloads whose pod template changed and which therefore roll out new pods (CronJobs excluded).
  returned: always
  type: list
  elements: str
exemptions:
  description: Every exemption applied, with its workload and justification.
  returned: always
  type: list
  elements: dict
unmatched_exemptions:
  description: Exemptions that matched no container of the targeted workloads.
  returned: always
  type: list
  elements: dict
compliant:
  description: True when no targeted workload violates O(profile) after the change, exemptions aside.
  returned: always
  type: bool
layout:
  description: The detected Flyte layout (C(flyte-core) or C(flyte-binary)), or null when workloads were given.
  returned: always
  type: str
warnings_from_api:
  description: Warnings the API server returned (PodSecurity warnings among them).
  returned: always
  type: list
  elements: dict
backups:
  description: Paths of the backup records written.
  returned: always
  type: list
  elements: str
run_id:
  description: Identifier of this run.
  returned: always
  type: str
rolled_back:
  description:
    - After a failed rollout, what was put back, as C(Kind/name) - the ConfigMaps and Secrets from O(backup_dir) first,
      then the workloads whose previous pod template was restored.
  returned: on rollout failure
  type: list
  elements: str
option:
  description: The option an input error is about.
  returned: on input errors
  type: str
"""

import json
import re

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as fl
from ansible_collections.flytesec.hardening.plugins.module_utils import inputs
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout as ro
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout_wait
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import securitycontext as sc
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import workloads as wl

API_VERSIONS = wl.API_VERSIONS
KIND_ALIASES = wl.KIND_ALIASES


def parse_workload(text):
    """``Kind/name`` or ``name`` (a Deployment) -> ``(Kind, name)``; ValueError naming the bad value."""
    return wl.parse_workload(text, sc.SUPPORTED_KINDS)


label = wl.label


def find_targets(client, params, result):
    """The workload objects to plan, in a stable order. Raises ValueError (option, message) on bad input."""
    namespace = params["namespace"]
    if params["workloads"]:
        found = []
        for kind, name in dict.fromkeys(parse_workload(w) for w in params["workloads"]):
            obj = client.get(API_VERSIONS[kind], kind, name, namespace)
            if obj is None:
                raise InputError("workloads", "workloads: %s not found in namespace %s" % (label(kind, name), namespace))
            found.append(obj)
        return found
    if params["label_selector"]:
        found = []
        for kind in sc.SUPPORTED_KINDS:
            items = client.list(API_VERSIONS[kind], kind, namespace, label_selector=params["label_selector"])
            for obj in sorted(items, key=lambda o: o["metadata"]["name"]):
                if kind == "Job" and any(ref.get("kind") == "CronJob" for ref in obj["metadata"].get("ownerReferences") or []):
                    continue  # made from its CronJob's template, which is hardened instead
                obj.setdefault("kind", kind)
                found.append(obj)
        if not found:
            raise InputError("label_selector", "label_selector: no %s matches %r in namespace %s" % (
                ", ".join(sc.SUPPORTED_KINDS), params["label_selector"], namespace))
        return found
    deployments = client.list("apps/v1", "Deployment", namespace)
    for obj in deployments:
        obj.setdefault("kind", "Deployment")
    configmaps = client.list("v1", "ConfigMap", namespace)
    try:
        model = fl.detect(deployments, configmaps, namespace=namespace, layout=params["layout"],
                          release_name=params["release_name"])
    except fl.LayoutError as exc:
        raise InputError("layout", str(exc))
    result["layout"] = model.layout
    by_name = dict((d["metadata"]["name"], d) for d in deployments)
    return [by_name[w.name] for w in model.workloads() if w.name in by_name]


def find_extra(client, params, targets):
    """The O(extra_workloads) objects not already among ``targets``. Raises InputError on a bad or missing one."""
    mine = set((o.get("kind"), o["metadata"]["name"]) for o in targets)
    found = []
    for text in params["extra_workloads"]:
        try:
            kind, name = parse_workload(text)
        except ValueError as exc:
            raise InputError("extra_workloads", "extra_workloads: %s" % str(exc).replace("workloads: ", "", 1))
        if (kind, name) in mine:
            continue
        obj = client.get(API_VERSIONS[kind], kind, name, params["namespace"])
        if obj is None:
            raise InputError("extra_workloads", "extra_workloads: %s not found in namespace %s" % (
                label(kind, name), params["namespace"]))
        obj.setdefault("kind", kind)
        mine.add((kind, name))
        found.append(obj)
    return found


# Checks a securityContext cannot fix: the workload's function depends on them (a host port, the host network, a
# hostPath volume, a privileged container), so only moving it out of the namespace or a lower level helps.
STRUCTURAL_CHECKS = ("hostNamespaces", "hostPorts", "hostPathVolumes", "restrictedVolumes", "privileged",
                     "capabilities_baseline", "windowsHostProcess", "hostProbesAndHostLifecycle", "sysctls", "procMount")


def other_workloads(client, namespace, targets, level, version):
    """Workloads in ``namespace`` that are not among ``targets`` (bundled dependencies: contour, envoy, minio,
    postgres, a certgen Job, bare Pods) and whose pods would not pass ``level``: ``[{workload, violations,
    securitycontext_fixes}]``. They block enforcing ``level`` on the namespace whatever is done to Flyte's."""
    mine = set((o.get("kind"), o["metadata"]["name"]) for o in targets)
    found = []
    for kind in sc.SUPPORTED_KINDS + ("Pod",):
        for obj in client.list(API_VERSIONS.get(kind, "v1"), kind, namespace):
            obj.setdefault("kind", kind)
            refs = obj["metadata"].get("ownerReferences") or []
            if (kind, obj["metadata"]["name"]) in mine or (kind in ("Pod", "Job") and refs):
                continue   # Flyte's, or made from a controller's template (the controller is checked)
            if kind == "Job" and (obj.get("status") or {}).get("succeeded") and not (obj.get("status") or {}).get("active"):
                continue   # a completed Job (certgen) has no running pod for the enforce level to reject
            meta, spec = ps.pod_template(obj)
            violations = ps.evaluate(spec, meta, level, version)
            if violations:
                found.append({"workload": label(kind, obj["metadata"]["name"]),
                              "violations": [v.reason for v in violations],
                              "securitycontext_fixes": not [v for v in violations if v.check_id in STRUCTURAL_CHECKS]})
    return found


ANNOTATION_NAME = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def check_inputs(params):
    """Refuse, before connecting, a workload name that does not parse and template annotations that are not
    ``Kind/name`` -> ``{annotation name: string}``; raise InputError naming the option."""
    for text in list(params["workloads"] or []) + list(params["extra_workloads"] or []):
        try:
            parse_workload(text)
        except ValueError as exc:
            option = "workloads" if text in (params["workloads"] or []) else "extra_workloads"
            raise InputError(option, "%s: %s" % (option, str(exc).split(": ", 1)[-1]))
    for label, annotations in (params["template_annotations"] or {}).items():
        try:
            parse_workload(label)
        except ValueError as exc:
            raise InputError("template_annotations", "template_annotations: %s" % str(exc).split(": ", 1)[-1])
        if not isinstance(annotations, dict):
            raise InputError("template_annotations", "template_annotations: %s must map annotation names to values" % label)
        for key, value in annotations.items():
            if not isinstance(key, str) or not ANNOTATION_NAME.match(key):
                raise InputError("template_annotations", "template_annotations: %s: %s is not a valid annotation name"
                                 % (label, inputs.show(key)))
            bad = inputs.problem(value, max_length=4096, blank_ok=True)
            if bad:
                raise InputError("template_annotations", "template_annotations: %s: %s %s" % (label, key, bad))


class InputError(Exception):
    """Bad input, found before any write; ``option`` names the option."""

    def __init__(self, option, message):
        Exception.__init__(self, message)
        self.option = option


def _dump(summary):
    return json.dumps(summary, indent=2, sort_keys=True) + "\n"


def main():
    argument_spec = args_common.spec(
        args_common.TARGET, args_common.BACKUP, args_common.WAIT,
        workloads=dict(type="list", elements="str"),
        label_selector=dict(type="str"),
        extra_workloads=dict(type="list", elements="str", default=[]),
        enforce_level=dict(type="str", choices=["restricted", "baseline", "privileged"]),
        profile=dict(type="str", default="restricted", choices=list(sc.PROFILES)),
        version=dict(type="str", default="latest"),
        run_as_user=dict(type="int"),
        run_as_group=dict(type="int"),
        fs_group=dict(type="int"),
        override_ids=dict(type="bool", default=False),
        seccomp_profile=dict(type="str", default="RuntimeDefault", choices=list(sc.SECCOMP_TYPES)),
        seccomp_localhost_profile=dict(type="str"),
        read_only_root_filesystem=dict(type="bool"),
        writable_paths=dict(type="raw"),
        allow_net_bind_service=dict(type="bool", default=False),
        keep_selinux_type=dict(type="str"),
        openshift=dict(type="bool", default=False),
        wait_for_db_as_postgres=dict(type="bool", default=False),
        exemptions=dict(type="list", elements="dict", options=dict(
            container=dict(type="str"),
            justification=dict(type="str"),
            checks=dict(type="list", elements="str"),
            workload=dict(type="str"),
            run_as_user=dict(type="int"),
        )),
        template_annotations=dict(type="dict"),
    )
    module = k8s_utils.new_module(argument_spec=argument_spec, supports_check_mode=True,
                                  mutually_exclusive=[("workloads", "label_selector")])
    params = module.params
    namespace = params["namespace"]
    result = dict(changed=False, workloads=[], changed_workloads=[], restart=[], exemptions=[], unmatched_exemptions=[],
                  compliant=False, layout=None, warnings_from_api=[], backups=[], run_id=None, other_workloads=[])

    def fail(msg, option=None, **extra):
        extra.update(result)
        if option:
            extra["option"] = option
        module.fail_json(msg=msg, **extra)

    # 1. Parse: options are validated before connecting.
    try:
        options = sc.normalize_options(dict((name, params[name]) for name in sc.OPTION_NAMES))
    except sc.SecurityContextError as exc:
        fail(str(exc), option=exc.option)
    bad_wait = args_common.check_wait(params)
    if bad_wait:
        fail(bad_wait, option=bad_wait.split(" ", 1)[0])
    try:
        check_inputs(params)
    except InputError as exc:
        fail(str(exc), option=exc.option)

    # 2. Plan: read and plan everything; any problem fails here, before a write.
    client = k8s_utils.connect(module)
    try:
        if client.get("v1", "Namespace", namespace) is None:
            fail("namespace: namespace %s not found" % namespace, option="namespace")
        targets = find_targets(client, params, result)
        targets += find_extra(client, params, targets)
    except InputError as exc:
        fail(str(exc), option=exc.option)
    except k8s_utils.FlyteK8sError as exc:
        fail(str(exc))
    try:
        plans, errors = sc.plan_workloads(targets, options, params["template_annotations"])
    except sc.SecurityContextError as exc:
        fail(str(exc), option=exc.option)
    for _obj, plan, entry in plans:
        result["workloads"].append(entry)
        result["exemptions"].extend(plan["exemptions"])
    try:
        result["other_workloads"] = other_workloads(client, namespace, targets, params["enforce_level"] or params["profile"],
                                                    params["version"])
    except k8s_utils.FlyteK8sError as exc:
        fail(str(exc))
    result["unmatched_exemptions"] = sc.unmatched_exemptions(options, [p for _o, p, _e in plans])
    for item in result["unmatched_exemptions"]:
        module.warn("exemptions: container %r%s is in none of the targeted workloads" % (
            item["container"], " of workload %s" % item["workload"] if item["workload"] else ""))
    if errors:
        fail("no change made: %s" % "; ".join(errors))
    result["compliant"] = True

    # 3. Apply through the one write path: a backup record, then a strategic merge patch carrying the resourceVersion
    # read (a server-side dry run in check mode, no record).
    writer = apply.Writer(client, module.check_mode, params["backup_dir"], params["run_id"])
    result["run_id"] = writer.run_id
    result["backups"] = writer.backups
    started = []
    for obj, plan, entry in plans:
        if not plan["changed"]:
            continue
        kind = plan["kind"]
        seen = len(client.warnings)
        try:
            writer.patch(obj, entry["patch"], patch_type=sc.PATCH_TYPE, api_version=API_VERSIONS[kind], kind=kind)
        except (k8s_utils.FlyteK8sError, bk.BackupError) as exc:
            result["warnings_from_api"] = client.warnings
            fail("%s: %s" % (entry["workload"], exc))
        entry["api_warnings"] = [w["warning"] for w in client.warnings[seen:]]
        result["changed"] = True
        result["changed_workloads"].append(entry["workload"])
        if kind in ro.ROLLABLE_KINDS:
            result["restart"].append(entry["workload"])
            started.append(rollout_wait.Started(kind, plan["name"], obj, entry))

    # 4. Report, once the rollouts are done (or rolled back).
    if module._diff:
        result["diff"] = [dict(before_header="%s securityContext" % e["workload"], after_header="%s securityContext" % e["workload"],
                               before=_dump(p["diff"]["before"]), after=_dump(p["diff"]["after"]))
                          for _o, p, e in plans if p["changed"]]
    failed = rollout_wait.wait_or_rollback(client, writer, namespace, started, params)
    result["warnings_from_api"] = client.warnings
    if failed:
        msg, rolled_back = failed
        fail(msg, rolled_back=rolled_back)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
