# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_config planning on the upstream manifests: one patch per object, parsed comparison, masked diffs."""
import base64

import pytest
import yaml

import upstream_manifests as um
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import cors
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import config as fc
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as fl
from ansible_collections.flytesec.hardening.plugins.module_utils import masking


def _target(name, namespace="flyte"):
    docs = um.load(name)
    deployments = um.of_kind(docs, "Deployment")
    model = fl.detect(deployments, um.configmap_names(docs), namespace=namespace)
    objects = dict(((d["kind"], d["metadata"]["name"]), d) for d in docs if d.get("kind") in ("ConfigMap", "Secret"))
    return fc.Target(namespace, model, deployments), objects


def _cors_edits(target):
    admin = target.setting("cors")
    edits = [fc.Edit(admin.object_kind, admin.object_name, admin.data_key, admin.path + (key,), value)
             for key, value in cors.security_block(["https://flyte.example.com"], list(cors.REQUIRED_HEADERS)).items()]
    console = target.setting("console_admin_api_url")
    if console is not None:
        edits.append(fc.edits_for(console, "https://flyte-api.example.com"))
    return edits


@pytest.mark.parametrize("manifest,objects_changed", [
    (um.CORE, ["ConfigMap/flyte-admin-base-config", "ConfigMap/flyte-console-config"]),
    (um.BINARY, ["ConfigMap/flyte-flyte-binary-config"]),
])
def test_plan_changes_each_object_once_and_is_stable(manifest, objects_changed):
    target, objects = _target(manifest)
    plans = fc.plan(objects, _cors_edits(target))
    assert ["%s/%s" % (kind, name) for kind, name, _obj, _plan in plans] == objects_changed
    for kind, name, obj, result in plans:
        patch = fc.merge_patch(obj, result)
        assert sorted(patch["data"]) == sorted(result.changed_keys)
        obj["data"].update(patch["data"])
    # Planned again on the patched objects: nothing left to do.
    assert fc.plan(objects, _cors_edits(target)) == []


def test_untouched_keys_and_text_are_kept():
    target, objects = _target(um.CORE)
    before = dict(objects[("ConfigMap", "flyte-admin-base-config")]["data"])
    (_kind, _name, _obj, result), _console = fc.plan(objects, _cors_edits(target))
    assert result.changed_keys == ["server.yaml"]
    for key in set(before) - {"server.yaml"}:
        assert result.data[key] == before[key]
    doc = yaml.safe_load(result.data["server.yaml"])
    assert doc["server"]["security"]["allowedOrigins"] == ["https://flyte.example.com"]
    old = yaml.safe_load(before["server.yaml"])
    old["server"]["security"].update(doc["server"]["security"])
    assert doc == old


def test_reformatted_document_is_no_change():
    target, objects = _target(um.CORE)
    for _kind, _name, obj, result in fc.plan(objects, _cors_edits(target)):
        obj["data"].update(fc.merge_patch(obj, result)["data"])
    cm = objects[("ConfigMap", "flyte-admin-base-config")]
    cm["data"]["server.yaml"] = yaml.safe_dump(yaml.safe_load(cm["data"]["server.yaml"]), indent=6)
    assert fc.plan(objects, _cors_edits(target)) == []


def test_secret_values_are_base64_and_masked_in_diffs():
    secret = {"kind": "Secret", "metadata": {"name": "flyte-secret-auth"},
              "data": {"client_secret": base64.b64encode(b"old-secret-value").decode()}}
    masker = masking.Masker()
    plans = fc.plan({("Secret", "flyte-secret-auth"): secret},
                    [fc.Edit("Secret", "flyte-secret-auth", "client_secret", None, "new-secret-value")], masker)
    (_kind, _name, _obj, result), = plans
    assert base64.b64decode(result.data["client_secret"]) == b"new-secret-value"
    text = repr(result.diffs)
    assert "new-secret-value" not in text and "old-secret-value" not in text


def test_missing_object_is_a_clear_error():
    target, objects = _target(um.CORE)
    objects.pop(("ConfigMap", "flyte-console-config"))
    with pytest.raises(fc.FlyteConfigError, match="ConfigMap flyte-console-config does not exist"):
        fc.plan(objects, _cors_edits(target))
