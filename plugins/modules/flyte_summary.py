#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_summary
short_description: The summary of a Flyte hardening run, from the registered results of its areas
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Makes the summary of one cluster's run of C(playbooks/harden-flyte.yml) (role C(flytesec.hardening.flytesec)) from
    what each area's task registered, as a structure (RV(summary), also the host fact C(flytesec_summary)) and as
    Markdown (RV(markdown)), and writes them as C(<run id>.json) and C(<run id>.md) in O(report_dir).
  - With O(fleet_report) and O(clusters), it instead writes the summaries of every cluster of the run as one JSON
    file; the role does that once per run, as C(<run id>-clusters.json) (with one cluster, the cluster's own call
    writes it).
  - An area whose result is not given did not run; a result with C(skipped=true) is a skipped task. Give each result
    as the task registered it, failed ones included.
  - Runs on the controller; it reads no cluster and writes only its report files (atomically, mode 0600, folders
    0700), in check mode too (they are the report of the check), so it never reports a change.
    The run's check mode is the task's, shown as C(check_mode) in the summary.
extends_documentation_fragment:
  - flytesec.hardening.attributes
attributes:
  check_mode:
    support: full
    details: Computes the same summary and writes the same files; RV(summary.check_mode) says the run was a check.
  diff_mode:
    support: none
options:
  cluster:
    description: The cluster (inventory host) of the run. Required without O(clusters).
    type: str
  run_id:
    description: The id of the run. Required without O(clusters).
    type: str
  namespace:
    description: The Flyte namespace of the cluster. Required without O(clusters).
    type: str
  backup_dir:
    description:
      - The backup location of the cluster; the run's backups are in C(<backup_dir>/<run_id>), or, for
        C(k8s:NAMESPACE), in the Secrets of NAMESPACE labelled C(hardening.flytesec.io/backup-run=<run_id>).
      - Required without O(clusters).
    type: str
  report_dir:
    description: Folder to write C(<run_id>.json) and C(<run_id>.md) in (created, mode 0700). Omit to write nothing.
    type: path
  fleet_report:
    description:
      - JSON file (its folder created, mode 0700) of the summaries of every cluster of the run.
      - With O(clusters), writes them and does nothing else (the other options are then not used). Without, writes
        this cluster's summary alone, for a run of one cluster.
    type: path
  clusters:
    description: With O(fleet_report), the RV(summary) of every cluster of the run (an empty list writes an empty list).
    type: list
    elements: dict
  error:
    description: Why the run of this cluster failed (omit when it did not); the summary's status is then C(failed).
    type: str
  planes:
    description: The Flyte planes of the cluster (C(control_plane), C(data_plane)).
    type: list
    elements: str
    default: []
  preflight:
    description: The result of M(flytesec.hardening.flyte_info) (layout, Kubernetes version, owners).
    type: dict
  audit:
    description: The result of M(flytesec.hardening.flyte_security_audit) (score, findings).
    type: dict
  auth:
    description: The result of M(flytesec.hardening.flyte_auth_config) in the role C(auth).
    type: dict
  auth_secrets:
    description:
      - The result of M(flytesec.hardening.flyte_auth_secrets) in the role C(auth_secrets); its C(keys) list where
        each key lives and what happened to it, never a value.
    type: dict
  auth_restart_required:
    description: The workloads authentication requires to restart (C(auth_restart_required) of the role C(auth)).
    type: list
    elements: str
    default: []
  data_plane_auth:
    description:
      - On a data plane, the result of M(flytesec.hardening.flyte_auth_secrets) with the control plane's propeller
        secret (C(keys), C(propeller_secret_verified)).
    type: dict
  cors:
    description: The result of M(flytesec.hardening.flyte_cors) in the role C(cors).
    type: dict
  cors_restart_required:
    description: The workloads CORS requires to restart (C(cors_restart_required) of the role C(cors)).
    type: list
    elements: str
    default: []
  pod_security:
    description: The result of M(flytesec.hardening.flyte_securitycontext) in the role C(pod_security).
    type: dict
  pod_security_enforce:
    description: Whether the run sets the Pod Security C(enforce) label (Pod Security on, and C(pod_security_enforce)).
    type: bool
    default: true
  pod_security_enforce_level:
    description: The level of the C(enforce) label.
    type: str
    default: restricted
  pod_security_version:
    description: The version of the C(enforce) label.
    type: str
    default: v1.34
  rbac:
    description: The result of M(flytesec.hardening.flyte_rbac) in the role C(rbac).
    type: dict
  config_hashes:
    description:
      - The result of M(flytesec.hardening.flyte_rollout) run for the configuration hashes only; the workloads in its
        C(template_annotations) rolled out once, with their securityContext change.
    type: dict
  rollout:
    description: The result of M(flytesec.hardening.flyte_rollout) in the role C(rollout) (the restarts).
    type: dict
seealso:
  - module: flytesec.hardening.flyte_info
  - module: flytesec.hardening.flyte_rollout
  - module: flytesec.hardening.flyte_security_audit
"""

EXAMPLES = r"""
- name: Summarise the run
  flytesec.hardening.flyte_summary:
    cluster: "{{ inventory_hostname }}"
    run_id: "{{ flytesec_run_id }}"
    namespace: flyte
    backup_dir: "{{ flytesec_backup_dir }}"
    error: "{{ flytesec_error | default(omit) }}"
    preflight: "{{ flytesec_preflight | default(omit) }}"
    cors: "{{ cors_result | default(omit) }}"
    cors_restart_required: "{{ cors_restart_required | default([]) }}"
    rollout: "{{ rollout_result | default(omit) }}"
    report_dir: /var/tmp/flytesec/reports   # <run id>.json and <run id>.md
  register: summary

- name: One file with the summaries of every cluster of the run
  flytesec.hardening.flyte_summary:
    fleet_report: "/var/tmp/flytesec/reports/{{ flytesec_run_id }}-clusters.json"
    clusters: >-
      {{ ansible_play_hosts_all | map('extract', hostvars) | selectattr('summary', 'defined')
         | map(attribute='summary.summary') | list }}
  run_once: true
"""

RETURN = r"""
summary:
  description: The summary of the cluster's run.
  returned: without O(clusters)
  type: dict
  contains:
    cluster:
      description: The cluster (O(cluster)).
      type: str
      returned: always
    run_id:
      description: The id of the run.
      type: str
      returned: always
    check_mode:
      description: Whether the run was a check (nothing written).
      type: bool
      returned: always
    status:
      description: C(ok), or C(failed) when O(error) is given.
      type: str
      returned: always
      sample: ok
    error:
      description: O(error), or C(null).
      type: str
      returned: always
    namespace:
      description: The Flyte namespace.
      type: str
      returned: always
    planes:
      description: The Flyte planes of the cluster.
      type: list
      elements: str
      returned: always
      sample: [control_plane, data_plane]
    layout:
      description: The layout the preflight found (C(null) without one).
      type: str
      returned: always
      sample: flyte-core
    kubernetes_version:
      description: The Kubernetes version the preflight found.
      type: str
      returned: always
    owners:
      description: Per tool (C(helm), C(argocd), C(flux), ...), the objects it manages, as the preflight found them.
      type: dict
      returned: always
    backups:
      description: Where this run's backups are, C(<backup_dir>/<run_id>) or C(k8s:NAMESPACE (Secrets labelled ...)).
      type: str
      returned: always
    audit_score:
      description: The audit's score in percent (C(null) when the audit did not run).
      type: float
      returned: always
    audit_open_findings:
      description: The controls the audit still finds open, sorted, each once.
      type: list
      elements: str
      returned: always
    areas:
      description: What each area did.
      type: dict
      returned: always
      contains:
        auth:
          description:
            - C(ran); C(changed), the auth Secret keys not kept as they were then the changed configuration objects;
              C(propeller_hash); C(data_plane_secret) and C(data_plane_secret_verified) (a data plane); C(restart_required).
          type: dict
          returned: always
        cors:
          description: C(ran); C(changed), the changed objects with their keys; C(restart_required).
          type: dict
          returned: always
        pod_security:
          description:
            - C(ran); C(changed), the workloads whose securityContext changed; C(compliant); C(enforce), the enforce
              label as C(level:version) or C(not set).
          type: dict
          returned: always
        rbac:
          description: C(ran); C(changed), the changed roles; C(wildcard_findings), how many.
          type: dict
          returned: always
        rollout:
          description:
            - C(with_securitycontext), the workloads that rolled out once with their securityContext change;
              C(restarted); C(unchanged); C(not_restarted), the workloads left alone, with the reason.
          type: dict
          returned: always
  sample:
    cluster: localhost
    run_id: 20260101T000000Z-123456
    check_mode: false
    status: ok
    error: null
    namespace: flyte
    planes: [control_plane, data_plane]
    layout: flyte-core
    kubernetes_version: v1.34.1
    owners: {helm: [ConfigMap/flyte-admin-base-config]}
    backups: /root/.cache/flytesec/backups/localhost/20260101T000000Z-123456
    audit_score: 100.0
    audit_open_findings: []
    areas:
      auth: {ran: false, changed: [], propeller_hash: null, data_plane_secret: [], data_plane_secret_verified: null,
             restart_required: []}
      cors: {ran: true, changed: [{object: ConfigMap/flyte-admin-base-config, keys: [server.yaml]}],
             restart_required: [Deployment/flyteadmin]}
      pod_security: {ran: true, changed: [], compliant: true, enforce: "restricted:v1.34"}
      rbac: {ran: false, changed: [], wildcard_findings: 0}
      rollout: {with_securitycontext: [], restarted: [Deployment/flyteadmin], unchanged: [], not_restarted: []}
markdown:
  description: The summary as Markdown.
  returned: without O(clusters)
  type: str
files:
  description: The files written.
  returned: always
  type: list
  elements: str
  sample: [/var/tmp/flytesec/reports/20260101T000000Z-123456.json, /var/tmp/flytesec/reports/20260101T000000Z-123456.md]
ansible_facts:
  description: The host fact C(flytesec_summary), equal to RV(summary).
  returned: without O(clusters)
  type: dict
  contains:
    flytesec_summary:
      description: Equal to RV(summary).
      type: dict
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup_store
from ansible_collections.flytesec.hardening.plugins.module_utils import summary as sm

RESULTS = ("preflight", "audit", "auth", "auth_secrets", "data_plane_auth", "cors", "pod_security", "rbac",
           "config_hashes", "rollout")


def main():
    spec = dict(
        cluster=dict(type="str"),
        run_id=dict(type="str"),
        namespace=dict(type="str"),
        backup_dir=dict(type="str"),
        report_dir=dict(type="path"),
        fleet_report=dict(type="path"),
        clusters=dict(type="list", elements="dict"),
        error=dict(type="str"),
        planes=dict(type="list", elements="str", default=[]),
        auth_restart_required=dict(type="list", elements="str", default=[]),
        cors_restart_required=dict(type="list", elements="str", default=[]),
        pod_security_enforce=dict(type="bool", default=True),
        pod_security_enforce_level=dict(type="str", default="restricted"),
        pod_security_version=dict(type="str", default="v1.34"),
    )
    # a registered result: its values are already masked by the module that returned it
    spec.update((name, dict(type="dict", no_log=False)) for name in RESULTS)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    if p["fleet_report"] and p["clusters"] is not None:
        module.exit_json(changed=False, files=[_write(module, sm.write_file, p["fleet_report"], sm.to_json(p["clusters"]))])
    missing = [name for name in ("cluster", "run_id", "namespace", "backup_dir") if not p[name]]
    if missing:
        module.fail_json(msg="missing required arguments (without clusters): %s" % ", ".join(missing))
    summary = sm.build(
        cluster=p["cluster"], run_id=p["run_id"], namespace=p["namespace"],
        backups=backup_store.describe(p["backup_dir"], p["run_id"]), check_mode=module.check_mode, error=p["error"],
        planes=p["planes"], auth_restart_required=p["auth_restart_required"],
        cors_restart_required=p["cors_restart_required"],
        pod_security_enforce=sm.enforce_label(p["pod_security_enforce"], p["pod_security_enforce_level"],
                                              p["pod_security_version"]),
        **dict((name, p[name]) for name in RESULTS))
    files = _write(module, sm.write_reports, p["report_dir"], p["run_id"], summary) if p["report_dir"] else []
    if p["fleet_report"]:
        files.append(_write(module, sm.write_file, p["fleet_report"], sm.to_json([summary])))
    module.exit_json(changed=False, summary=summary, markdown=sm.markdown(summary), files=files,
                     ansible_facts=dict(flytesec_summary=summary))


def _write(module, function, *args):
    try:
        return function(*args)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot write the report %s: %s" % (args[0], exc))
    return None


if __name__ == "__main__":
    main()
