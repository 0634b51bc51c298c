# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""project_templates: the upstream cluster resource templates of both charts, hardened without breaking them."""
import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import project_templates as pt

from upstream_manifests import BINARY, CORE, find, load

OPTIONS = {"pod_security": {"enforce": "restricted", "warn": "restricted", "audit": "restricted"},
           "service_account_automount": False,
           "network": {"flyte_namespace": "flyte", "object_store_cidrs": ["10.1.0.0/16"], "allow_same_namespace": True},
           "pod_template": True}


def _data(name, cm):
    return find(load(name), "ConfigMap", cm)["data"]


def _apply(data, changes):
    out = dict(data)
    out.update(changes)
    return out


@pytest.mark.parametrize("fixture,cm", [(CORE, "clusterresource-template"),
                                        (BINARY, "flyte-flyte-binary-cluster-resource-templates")])
def test_upstream_templates_hardened_and_still_valid(fixture, cm):
    data = _data(fixture, cm)
    changes, summary = pt.plan(data, OPTIONS)
    ns_key = summary["namespace_template"]
    assert ns_key in changes
    after = _apply(data, changes)
    ns = pt.instantiate(after[ns_key], "flytesnacks-development", "flytesnacks", "development")
    assert ns["metadata"]["name"] == "flytesnacks-development"
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/warn-version"] == "latest"
    # placeholders kept as flyteadmin writes them, one object per file, every added file after the Namespace file
    assert "{{ namespace }}" in after[ns_key]
    assert all(k > ns_key for k in summary["added"])
    sa = pt.instantiate(after[summary["service_account_template"]], "p-d", "p", "d", {"defaultIamRole": "arn:x"})
    assert sa["automountServiceAccountToken"] is False
    if fixture == CORE:   # upstream's IAM role annotation stays
        assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:x"}
    kinds = sorted(pt.instantiate(after[k], "p-d", "p", "d")["kind"] for k in summary["added"]
                   if k != summary["service_account_template"])
    assert kinds == ["LimitRange"] + ["NetworkPolicy"] * 5 + ["PodTemplate"]
    # a second plan on the result changes nothing
    assert pt.plan(after, OPTIONS)[0] == {}


def test_unchanged_files_keep_their_text_and_quota_placeholders():
    data = _data(CORE, "clusterresource-template")
    changes, _summary = pt.plan(data, OPTIONS)
    assert "ab_project_resource_quota.yaml" not in changes
    quota = pt.instantiate(data["ab_project_resource_quota.yaml"], "p-d", "p", "d",
                           {"projectQuotaCpu": "8", "projectQuotaMemory": "16Gi"})
    assert quota["spec"]["hard"]["limits.cpu"] == 8


def test_lowering_enforce_drops_the_label_and_stale_files_are_found():
    data = _apply(_data(CORE, "clusterresource-template"), pt.plan(_data(CORE, "clusterresource-template"), OPTIONS)[0])
    relaxed = dict(OPTIONS, pod_security={"warn": "restricted", "audit": "restricted"}, pod_template=False)
    changes, summary = pt.plan(data, relaxed)
    labels = ey.load(pt.protect(changes[summary["namespace_template"]], "ns"))["metadata"]["labels"]
    assert "pod-security.kubernetes.io/enforce" not in labels
    assert pt.stale(data, relaxed) == ["zz-flytesec-podtemplate.yaml"]


@pytest.mark.parametrize("text,message", [
    ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{namespace}}\n", "not a placeholder"),
    ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: '{{ namespace }}'\n---\nkind: X\n", "exactly one object"),
    ("kind: [\n", "does not parse"),
])
def test_broken_templates_are_refused(text, message):
    with pytest.raises(pt.TemplateError, match=message):
        pt.plan({"aa_namespace.yaml": text}, OPTIONS)


def test_no_namespace_template_is_an_error():
    with pytest.raises(pt.TemplateError, match="no template creates the project Namespace"):
        pt.plan({"a.yaml": "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n"}, OPTIONS)
