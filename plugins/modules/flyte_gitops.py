#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_gitops
short_description: Write the Flyte hardening as Helm values overlays and a kustomize post-renderer
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - GitOps mode of this collection. Instead of patching the live cluster (which the next C(helm upgrade) reverts),
    renders the chart with C(helm template), plans the same securityContext and CORS hardening the live modules
    apply, and writes what makes the chart render the hardened objects.
  - C(values-flytesec.yaml) holds the chart values that can express it. flyte-core gets each component's pod
    C(securityContext) (C(null) removes a chart default such as C(seLinuxOptions) C(spc_t)), and the CORS keys under
    C(configmap.adminServer.server.security) and C(configmap.console.ADMIN_API_URL). flyte-binary gets
    C(deployment.podSecurityContext), the securityContext of the C(flyte), C(wait-for-db) and
    C(gen-admin-auth-secret) containers, and C(configuration.inline.server.security).
  - flyte-core hard-codes its containers' securityContext in its templates, and neither chart mounts the emptyDir
    volumes a read-only root filesystem needs in every container. The chart is therefore rendered again with the
    values overlay, the remaining changes are planned, and they are written to C(post-renderer/) as strategic-merge
    patches in a kustomization, with an executable C(flytesec-post-render) for C(helm upgrade --post-renderer).
    RV(post_renderer) says what it does and why.
  - Before writing, the result is checked. The patches are applied to the workloads rendered with the overlay,
    and every workload must pass the requested Pod Security profile.
  - Runs on the controller; no cluster access. Needs C(helm) (O(helm_binary)). The post-renderer needs
    C(kubectl kustomize) or C(kustomize) (environment variable C(KUSTOMIZE)) where helm runs.
extends_documentation_fragment:
  - flytesec.hardening.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  chart:
    description: Which upstream chart O(chart_path) is.
    type: str
    choices: [flyte-core, flyte-binary]
    required: true
  chart_path:
    description: Path of the chart (with its dependencies built, as C(helm dependency build) leaves them).
    type: path
    required: true
  values_files:
    description: The values files of the installation, in the order C(helm) gets them.
    type: list
    elements: path
    default: []
  release_name:
    description: Helm release name.
    type: str
    default: flyte
  release_namespace:
    description: Namespace of the release.
    type: str
    default: flyte
  helm_binary:
    description: The helm executable.
    type: path
    default: helm
  api_versions:
    description: Extra API versions for C(helm template --api-versions).
    type: list
    elements: str
    default: [apiextensions.k8s.io/v1/CustomResourceDefinition]
  dest:
    description: Directory to write C(values-flytesec.yaml) and C(post-renderer/) to.
    type: path
    required: true
  securitycontext:
    description:
      - Options of the securityContext planner, as for M(flytesec.hardening.flyte_securitycontext)
        (C(profile), C(run_as_user), C(keep_selinux_type), C(openshift), C(exemptions), ...).
      - Omit to write no securityContext hardening.
    type: dict
  cors:
    description:
      - CORS settings as for M(flytesec.hardening.flyte_cors). Keys are C(admin_url), C(console_origins),
        C(allowed_headers), C(allow_insecure_origins) and C(allow_wildcard).
      - Validated and translated by the same code as M(flytesec.hardening.flyte_cors), so an input refused there is
        refused here with the same message (prefixed C(cors.)). C(admin_url) is required for flyte-core.
      - Omit to leave CORS alone.
    type: dict
"""

EXAMPLES = r"""
- name: Hardening as values for the next helm upgrade of flyte-core
  flytesec.hardening.flyte_gitops:
    chart: flyte-core
    chart_path: ./charts/flyte-core
    values_files: [./values-eks.yaml, ./my-values.yaml]
    dest: ./flytesec
    securitycontext:
      profile: restricted
    cors:
      admin_url: https://flyte-api.example.com
      console_origins: [https://flyte.example.com]

# Then:
#   helm upgrade flyte ./charts/flyte-core -f values-eks.yaml -f my-values.yaml \
#     -f flytesec/values-flytesec.yaml --post-renderer flytesec/post-renderer/flytesec-post-render
"""

RETURN = r"""
files:
  description: Files written (or, in check mode, that would be), relative to O(dest).
  returned: always
  type: list
  elements: str
values:
  description: The values overlay.
  returned: always
  type: dict
post_renderer:
  description: Per workload, what the post-renderer patches because the chart values cannot express it.
  returned: always
  type: dict
verified:
  description: Per workload, the highest Pod Security level it passes once the overlay and the post-renderer apply.
  returned: always
  type: dict
"""

import copy
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import cors as cors_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import gitops
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import securitycontext as sc

try:
    import yaml
except ImportError:  # pragma: no cover - reported by missing_required_lib
    yaml = None


def dump(data):
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False)


def render(module, values_files, extra_values=None):
    """``helm template`` of the chart; a list of documents."""
    p = module.params
    cmd = [p["helm_binary"], "template", p["release_name"], p["chart_path"], "--namespace", p["release_namespace"]]
    for api in p["api_versions"]:
        cmd += ["--api-versions", api]
    for path in values_files:
        cmd += ["-f", path]
    tmp = None
    if extra_values:
        handle, tmp = tempfile.mkstemp(suffix=".yaml")
        with os.fdopen(handle, "w") as stream:
            stream.write(dump(extra_values))
        cmd += ["-f", tmp]
    try:
        rc, out, err = module.run_command(cmd)
    finally:
        if tmp:
            os.unlink(tmp)
    if rc != 0:
        module.fail_json(msg="helm template failed (chart_path %s): %s" % (p["chart_path"], err.strip() or out.strip()), rc=rc)
    return [doc for doc in yaml.safe_load_all(out) if doc]


def cors_settings(module, chart):
    """The ``cors`` option through the same validation and translation as flyte_cors (module_utils/flyte/cors.py)."""
    given = module.params["cors"]
    if not given:
        return None
    try:
        admin_url, origins, headers = cors_utils.validate(given, name="cors")
        if chart == "flyte-core":
            cors_utils.require_admin_url(admin_url, chart, name="cors")
    except cors_utils.CorsError as exc:
        module.fail_json(msg=str(exc))
    return admin_url, origins, headers


def write_files(module, dest, files):
    """Write ``files`` (relative path -> text) under dest; return the paths that changed."""
    changed = []
    for rel, text in sorted(files.items()):
        path = os.path.join(dest, rel)
        current = None
        if os.path.exists(path):
            with open(path) as handle:
                current = handle.read()
        if current == text:
            continue
        changed.append(rel)
        if module.check_mode:
            continue
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory)
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o755 if rel.endswith(gitops.POST_RENDERER) else 0o644)
    return changed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            chart=dict(type="str", choices=list(gitops.CHARTS), required=True),
            chart_path=dict(type="path", required=True),
            values_files=dict(type="list", elements="path", default=[]),
            release_name=dict(type="str", default="flyte"),
            release_namespace=dict(type="str", default="flyte"),
            helm_binary=dict(type="path", default="helm"),
            api_versions=dict(type="list", elements="str", default=["apiextensions.k8s.io/v1/CustomResourceDefinition"]),
            dest=dict(type="path", required=True),
            securitycontext=dict(type="dict"),
            cors=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    if yaml is None or not ey.HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    p = module.params
    chart = p["chart"]
    if not os.path.isfile(os.path.join(p["chart_path"], "Chart.yaml")):
        module.fail_json(msg="chart_path: %s is not a chart (no Chart.yaml)" % p["chart_path"])
    for path in p["values_files"]:
        if not os.path.isfile(path):
            module.fail_json(msg="values_files: %s does not exist" % path)
    options = None
    if p["securitycontext"] is not None:
        try:
            options = sc.normalize_options(p["securitycontext"])
        except sc.SecurityContextError as exc:
            module.fail_json(msg="securitycontext.%s: %s" % (exc.option, exc) if exc.option else "securitycontext: %s" % exc)
    cors = cors_settings(module, chart)

    values = {}
    if cors:
        values = gitops.merge(values, gitops.cors_values(chart, *cors))
    residual = {}
    verified = {}
    files = {}
    try:
        if options is not None:
            base = render(module, p["values_files"])
            values = gitops.merge(values, gitops.securitycontext_values(chart, gitops.plan_all(base, options)))
        overlaid = render(module, p["values_files"], values) if values else None
        if options is not None:
            plans = gitops.plan_all(overlaid, options)
            residual = gitops.residual_summary(plans)
            files.update(("post-renderer/%s" % rel, text) for rel, text in gitops.kustomize_files(plans, dump).items())
            for workload in gitops.workloads(overlaid):
                label = "%s/%s" % (workload["kind"], workload["metadata"]["name"])
                final = copy.deepcopy(workload)
                if plans[label].get("changed"):
                    final = sc.strategic_merge(final, plans[label]["patch"])
                meta, spec = ps.pod_template(final)
                level = ps.highest_level_passed(spec or {}, meta or {}, options["version"])
                verified[label] = level
                if options["profile"] == ps.LEVEL_RESTRICTED and level != ps.LEVEL_RESTRICTED and not plans[label].get("exempted_violations"):
                    module.fail_json(msg="%s would still fail Pod Security %s after the overlay and the post-renderer"
                                     % (label, options["profile"]), verified=verified)
    except gitops.GitOpsError as exc:
        module.fail_json(msg="securitycontext: %s" % exc)
    except sc.SecurityContextError as exc:
        module.fail_json(msg="securitycontext: %s" % exc)

    header = ("# Helm values written by flytesec.hardening (flyte_gitops) for chart %s.\n"
              "# Pass after your own values: helm upgrade ... -f values-flytesec.yaml%s\n"
              % (chart, " --post-renderer post-renderer/%s" % gitops.POST_RENDERER if residual else ""))
    files["values-flytesec.yaml"] = header + dump(values)
    changed = write_files(module, p["dest"], files)
    module.exit_json(changed=bool(changed), files=sorted(files), changed_files=changed, values=values,
                     post_renderer=residual, verified=verified)


if __name__ == "__main__":
    main()
