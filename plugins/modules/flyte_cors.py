#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_cors
short_description: CORS between flyteadmin and flyteconsole served from different domains
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Sets C(server.security.allowCors), C(allowedOrigins) and C(allowedHeaders) in flyteadmin's configuration,
    editing only those keys of the YAML document held in the ConfigMap. flyte-core keeps it in
    C(flyte-admin-base-config) key C(server.yaml); flyte-binary in C(<fullname>-config) key
    C(100-inline-config.yaml), which overrides the chart's earlier files.
  - For flyte-core also sets C(ADMIN_API_URL) in C(flyte-console-config), which flyteconsole loads as environment
    variables, so the console calls flyteadmin on its own domain. flyte-binary serves the console itself.
  - Values are compared parsed; a formatting difference is not a change. Every other key keeps its text.
  - Restarts nothing. RV(restart_required) lists the workloads that consume what changed; pass it to
    M(flytesec.hardening.flyte_rollout).
  - Validates before reading the cluster. An origin is C(scheme://host[:port]) with no path; https only unless
    O(allow_insecure_origins) (C(http://localhost) is accepted for development); C(*) is refused unless
    O(allow_wildcard), because flyteadmin then answers C(Access-Control-Allow-Origin) C(*) with
    C(Access-Control-Allow-Credentials) C(true), which browsers reject for logged-in requests; an empty list is
    refused, because flyteadmin then allows every origin. Duplicates and trailing slashes are normalised.
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
  - flytesec.hardening.flyte_target
attributes:
  check_mode:
    support: full
    details: Changes are sent as server-side dry runs; nothing is written.
  diff_mode:
    support: full
    details: A unified diff per changed ConfigMap key.
options:
  state:
    description:
      - C(present) turns CORS on for O(console_origins).
      - C(absent) sets C(allowCors=false), removes C(allowedOrigins) and C(allowedHeaders), and removes C(ADMIN_API_URL).
    type: str
    choices: [present, absent]
    default: present
  admin_url:
    description:
      - flyteadmin's public URL as the browser reaches it, for example C(https://flyte-api.example.com).
      - Written to flyteconsole's C(ADMIN_API_URL) (flyte-core). Required with O(state=present) on flyte-core.
    type: str
  console_origins:
    description: Origins flyteconsole is served from, for example C(https://flyte.example.com).
    type: list
    elements: str
    default: []
  allowed_headers:
    description: Request headers to allow in addition to C(Content-Type) and C(flyte-authorization), which are always allowed.
    type: list
    elements: str
    default: []
  allow_insecure_origins:
    description: Accept http origins and an http O(admin_url) for hosts other than localhost.
    type: bool
    default: false
  allow_wildcard:
    description: Accept C(*) in O(console_origins).
    type: bool
    default: false
  backup_dir:
    description:
      - Directory on the host running the module where a backup record of every object is written before it changes,
        under C(<backup_dir>/<run_id>/). M(flytesec.hardening.flyte_rollout) restores from it when a rollout fails.
      - Files are mode 0600. Nothing is written in check mode.
    type: path
  run_id:
    description: Identifier of the hardening run; groups the backups of one run. Generated when not given.
    type: str
"""

EXAMPLES = r"""
- name: Console on flyte.example.com calls flyteadmin on flyte-api.example.com
  flytesec.hardening.flyte_cors:
    namespace: flyte
    admin_url: https://flyte-api.example.com
    console_origins:
      - https://flyte.example.com
  register: cors

- name: Restart what changed
  flytesec.hardening.flyte_rollout:
    namespace: flyte
    workloads: "{{ cors.restart_required }}"

- name: Turn CORS off again
  flytesec.hardening.flyte_cors:
    namespace: flyte
    state: absent
"""

RETURN = r"""
layout:
  description: The Flyte layout found (or given).
  returned: always
  type: str
  sample: flyte-core
origins:
  description: The normalised origins written to C(allowedOrigins).
  returned: always
  type: list
  elements: str
  sample: [https://flyte.example.com]
allowed_headers:
  description: The headers written to C(allowedHeaders).
  returned: always
  type: list
  elements: str
  sample: [Content-Type, flyte-authorization]
changed_objects:
  description: ConfigMaps changed (or, in check mode, that would change), as C(ConfigMap/name) with the changed keys.
  returned: always
  type: list
  elements: dict
  sample: [{object: ConfigMap/flyte-admin-base-config, keys: [server.yaml]}]
restart_required:
  description: Workloads that consume a changed object and must restart to apply it, as C(Kind/name).
  returned: always
  type: list
  elements: str
  sample: [Deployment/flyteadmin, Deployment/flyteconsole]
backups:
  description: Backup files written before the change.
  returned: always
  type: list
  elements: str
warnings_from_api:
  description: Warnings returned by the API server.
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import cors
from ansible_collections.flytesec.hardening.plugins.module_utils import masking
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import config as flyte_config
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common

SECURITY_PATH = ("server", "security")


def validated(params):
    """Validate and normalise the options; raise CorsError naming the option."""
    if params["state"] == "absent":
        return None, [], []
    # the same translation as GitOps mode (flyte_gitops' cors option)
    return cors.validate(dict((key, params[key]) for key in cors.OPTIONS))


def planned_edits(target, state, admin_url, origins, headers):
    """The edits for one layout, as flyte_config.Edit tuples."""
    admin = target.setting("cors")
    edits = []
    if state == "present":
        for key, value in cors.security_block(origins, headers).items():
            edits.append(flyte_config.Edit(admin.object_kind, admin.object_name, admin.data_key, admin.path + (key,), value))
    else:
        edits.append(flyte_config.Edit(admin.object_kind, admin.object_name, admin.data_key, admin.path + ("allowCors",), False))
        for key in ("allowedOrigins", "allowedHeaders"):
            edits.append(flyte_config.Edit(admin.object_kind, admin.object_name, admin.data_key, admin.path + (key,), flyte_config.DELETE))
    console = target.setting("console_admin_api_url")
    if console is not None:
        value = admin_url if state == "present" else flyte_config.DELETE
        edits.append(flyte_config.edits_for(console, value))
    return edits


def main():
    spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        admin_url=dict(type="str"),
        console_origins=dict(type="list", elements="str", default=[]),
        allowed_headers=dict(type="list", elements="str", default=[]),
        allow_insecure_origins=dict(type="bool", default=False),
        allow_wildcard=dict(type="bool", default=False),
    )
    spec.update(args_common.spec(args_common.TARGET, args_common.BACKUP))
    module = k8s_utils.new_module(argument_spec=spec, supports_check_mode=True)
    params = module.params
    try:
        admin_url, origins, headers = validated(params)
    except cors.CorsError as exc:
        module.fail_json(msg=str(exc))

    client = k8s_utils.connect(module)
    try:
        target = flyte_config.discover(client, params["namespace"], params["layout"], params["release_name"])
        if params["state"] == "present" and target.setting("console_admin_api_url") is not None:
            cors.require_admin_url(admin_url, target.layout)
        edits = planned_edits(target, params["state"], admin_url, origins, headers)
        outcome = flyte_config.apply_edits(client, module, target, edits, masker=masking.Masker(),
                                           backup_dir=params["backup_dir"], run_id=params["run_id"] or bk.new_run_id())
    except (cors.CorsError, flyte_config.FlyteConfigError, k8s_utils.FlyteK8sError) as exc:
        module.fail_json(msg=str(exc))

    result = dict(
        changed=outcome.changed,
        layout=target.layout,
        origins=origins,
        allowed_headers=headers,
        changed_objects=outcome.changed_objects,
        restart_required=outcome.restart_required,
        backups=outcome.backups,
        warnings_from_api=client.warnings,
    )
    if module._diff:
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
