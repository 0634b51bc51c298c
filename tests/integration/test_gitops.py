# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitOps mode: render the upstream charts (../shared/fixtures/charts) with the values overlay and the
post-renderer flyte_gitops writes, through the real helm and kubectl kustomize, and check the result."""
from __future__ import absolute_import, division, print_function

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES
from playbook import run_playbook

from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps

__metaclass__ = type

pytestmark = pytest.mark.integration
PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "gitops.yml"
CASES = {
    # chart: (values file of the fixture, config map holding server.security, its key)
    "flyte-core": ("values-eks.yaml", "flyte-admin-base-config", "server.yaml"),
    "flyte-binary": ("eks-starter.yaml", "flyte-flyte-binary-config", "100-inline-config.yaml"),
}


@pytest.fixture(scope="module")
def charts(tmp_path_factory, cluster):
    """The upstream charts copied somewhere writable, dependencies built (helm writes charts/)."""
    dest = tmp_path_factory.mktemp("charts") / "charts"
    shutil.copytree(str(FIXTURES / "charts"), str(dest))
    for chart in CASES:
        subprocess.run([str(cluster.bin_dir / "helm"), "dependency", "build", str(dest / chart)], check=True,
                       capture_output=True)
    return dest


def _template(cluster, charts, chart, extra_args=(), env=None):
    values = CASES[chart][0]
    cmd = [str(cluster.bin_dir / "helm"), "template", "flyte", str(charts / chart), "-n", "flyte",
           "--api-versions", "apiextensions.k8s.io/v1/CustomResourceDefinition", "-f", str(charts / chart / values)]
    proc = subprocess.run(cmd + list(extra_args), capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def _levels(docs):
    levels = {}
    for doc in docs:
        if doc.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"):
            meta, spec = ps.pod_template(doc)
            levels[doc["metadata"]["name"]] = ps.highest_level_passed(spec, meta)
    return levels


@pytest.mark.parametrize("chart", sorted(CASES))
def test_overlay_and_post_renderer_render_hardened_chart(cluster, charts, tmp_path, chart):
    values_file, admin_cm, key = CASES[chart]
    before = _levels(_template(cluster, charts, chart))
    assert any(level != "restricted" for level in before.values()), before  # upstream fails restricted
    dest = tmp_path / "out"
    extra = {"gitops_chart": chart, "gitops_chart_path": str(charts / chart),
             "gitops_values_files": [str(charts / chart / values_file)], "gitops_dest": str(dest),
             "gitops_helm_binary": str(cluster.bin_dir / "helm"),
             "gitops_cors": {"admin_url": "https://flyte-api.example.com", "console_origins": ["https://flyte.example.com"]}}
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, extra)
    assert result.rc == 0, result.stdout[-3000:]
    written = result.result("Write the hardening as Helm values")
    assert written["changed"] is True
    assert all(level == "restricted" for level in written["verified"].values())
    args = ["-f", str(dest / "values-flytesec.yaml")]
    renderer = dest / "post-renderer" / "flytesec-post-render"
    if written["post_renderer"]:
        assert os.access(str(renderer), os.X_OK)
        args += ["--post-renderer", str(renderer)]
    env = dict(os.environ, KUSTOMIZE="%s kustomize" % (cluster.bin_dir / "kubectl"))
    docs = _template(cluster, charts, chart, args, env)
    after = _levels(docs)
    assert set(after) == set(before)
    assert all(level == "restricted" for level in after.values()), after
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == admin_cm)
    security = yaml.safe_load(config["data"][key])["server"]["security"]
    assert security["allowedOrigins"] == ["https://flyte.example.com"] and security["allowCors"] is True
    if chart == "flyte-core":
        console = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "flyte-console-config")
        assert console["data"]["ADMIN_API_URL"] == "https://flyte-api.example.com"
        # flyte-core hard-codes container securityContexts: the post-renderer must carry them.
        assert any("container securityContext" in part for parts in written["post_renderer"].values() for part in parts)

    # Idempotent: a second run writes nothing.
    again = run_playbook(PLAYBOOK, cluster.kubeconfig, extra)
    assert again.rc == 0 and again.result("Write the hardening as Helm values")["changed"] is False


def test_bad_input_names_the_option(cluster, charts, tmp_path):
    extra = {"gitops_chart": "flyte-core", "gitops_chart_path": str(charts / "flyte-core"), "gitops_dest": str(tmp_path),
             "gitops_helm_binary": str(cluster.bin_dir / "helm"), "gitops_cors": {"console_origins": ["*"]}}
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, extra)
    assert result.rc != 0
    assert "console_origins: '*' is refused" in result.result("Write the hardening as Helm values")["msg"]
    assert not (tmp_path / "values-flytesec.yaml").exists()
