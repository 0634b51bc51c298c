# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""external_secrets: the ExternalSecrets of mode=external_secret, their sync state, the checks of synced values and
the SecretStore renderers (pure)."""
from __future__ import absolute_import, division, print_function

import base64
import os

import pytest

from upstream_manifests import CORE, configmap_names, load, of_kind
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config as ac
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_secrets as asec
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import external_secrets as es
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as fl

__metaclass__ = type


def params(**extra):
    out = dict(propeller_client_secret=None, oidc_client_secret=None, keys=None, rotate=[], internal_auth_server=True,
               mode="external_secret", scope="all", external_secret_store={"name": "vault"})
    out.update(extra)
    return out


def placed():
    docs = load(CORE)
    return asec.placement(fl.detect(of_kind(docs, "Deployment"), configmap_names(docs), namespace="flyte"))


def test_one_external_secret_per_secret_flyte_reads():
    found = es.desired("flyte", {"name": "vault"}, "flyte/", placed(), asec.desired_keys(params()),
                       existing={"flyte-admin-secrets": {"metadata": {}}})
    assert sorted(found) == ["flyte-admin-secrets", "flyte-secret-auth"]
    admin = found["flyte-admin-secrets"]
    assert admin["apiVersion"] == "external-secrets.io/v1" and admin["spec"]["refreshInterval"] == "1h"
    assert admin["spec"]["secretStoreRef"] == {"name": "vault", "kind": "SecretStore"}
    assert {"secretKey": "cookie_hash_key", "remoteRef": {"key": "flyte/flyte-admin-secrets", "property": "cookie_hash_key"}} \
        in admin["spec"]["data"]
    assert sorted(e["secretKey"] for e in admin["spec"]["data"]) == [
        "claim_symmetric_key", "cookie_block_key", "cookie_hash_key", "oidc_client_secret", "token_rsa_key.pem"]
    # an existing Secret keeps its owner and other keys (Merge); a missing one is created by its ExternalSecret
    assert admin["spec"]["target"] == {"name": "flyte-admin-secrets", "creationPolicy": "Merge"}
    assert found["flyte-secret-auth"]["spec"]["target"]["creationPolicy"] == "Owner"


def test_external_server_leaves_out_the_internal_servers_keys():
    found = es.desired("flyte", {"name": "aws", "kind": "ClusterSecretStore"}, "p/", placed(),
                       asec.desired_keys(params(internal_auth_server=False)))
    keys = sorted(e["secretKey"] for e in found["flyte-admin-secrets"]["spec"]["data"])
    assert keys == ["cookie_block_key", "cookie_hash_key", "oidc_client_secret"]
    assert found["flyte-secret-auth"]["spec"]["secretStoreRef"]["kind"] == "ClusterSecretStore"


def test_bad_store_reference():
    with pytest.raises(es.ExternalSecretError, match="kind must be"):
        es.store_ref({"name": "x", "kind": "Vault"})
    with pytest.raises(es.ExternalSecretError, match="name is required"):
        es.store_ref({})


def test_spec_patch_ignores_server_defaults_and_keeps_the_creation_policy():
    want = es.desired("flyte", {"name": "vault"}, "flyte/", placed(), asec.desired_keys(params()))["flyte-secret-auth"]
    current = {"spec": {"refreshInterval": "1h", "secretStoreRef": {"name": "vault", "kind": "SecretStore"},
                        "target": {"name": "flyte-secret-auth", "creationPolicy": "Merge", "deletionPolicy": "Retain"},
                        "data": [{"secretKey": "client_secret", "remoteRef": {
                            "key": "flyte/flyte-secret-auth", "property": "client_secret", "conversionStrategy": "Default",
                            "decodingStrategy": "None", "metadataPolicy": "None"}}]}}
    assert es.spec_patch(current, want) is None
    current["spec"]["refreshInterval"] = "5m"
    current["spec"]["secretStoreRef"]["name"] = "other"
    assert es.spec_patch(current, want) == {"spec": {"refreshInterval": "1h",
                                                     "secretStoreRef": {"name": "vault", "kind": "SecretStore"}}}


def _es(generation=1, version="1-abc", ready=None):
    obj = {"metadata": {"name": "x", "generation": generation}, "status": {"syncedResourceVersion": version}}
    if ready:
        obj["status"]["conditions"] = [dict({"type": "Ready"}, **ready)]
    return obj


@pytest.mark.parametrize("obj,before,state", [
    (_es(ready={"status": "True", "reason": "SecretSynced"}), None, "synced"),
    (_es(ready={"status": "True", "reason": "SecretSynced"}), "1-abc", "pending"),   # no sync since the request
    (_es(ready={"status": "True", "reason": "SecretSynced"}), "1-old", "synced"),
    (_es(generation=2, ready={"status": "True", "reason": "SecretSynced"}), None, "pending"),   # an older spec
    (_es(version="", ready=None), None, "pending"),
    (_es(ready={"status": "False", "reason": "SecretSyncedError", "message": "could not get secret data"}), None, "error"),
    ({"metadata": {"name": "x", "generation": 1}}, None, "pending"),
])
def test_sync_state(obj, before, state):
    assert es.sync_state(obj, before)[0] == state


def test_a_pending_state_carries_the_operators_last_error():
    obj = _es(ready={"status": "False", "reason": "SecretSyncedError", "message": "could not get secret data"})
    state, message = es.sync_state(obj, "1-abc")
    assert state == "pending" and message.endswith("last Ready condition: False SecretSyncedError: could not get secret data")


def test_synced_values_get_the_checks_of_mode_manage():
    padded = base64.b64encode(os.urandom(64)).decode()
    assert "padded base64" in es.value_error("cookie_hash_key", padded)
    assert es.value_error("cookie_hash_key", ac.generate_key("cookie_hash_key")) is None
    assert "32" in es.value_error("cookie_block_key", ac.generate_key("cookie_hash_key"))
    assert "default secret" in es.value_error("client_secret", "foobar")
    assert "whitespace" in es.value_error("client_secret", "secret\n")
    assert es.value_error("client_secret", "a-good-secret") is None
    assert es.value_error("oidc_client_secret", " ") == "is empty"
    assert es.value_error("token_rsa_key.pem", ac.generate_key("token_rsa_key.pem")) is None
    assert "missing" in es.value_error("claim_symmetric_key", None)


def test_synced_failures_name_the_secret_key_and_store_key():
    objects = es.desired("flyte", {"name": "vault"}, "flyte/", placed(), asec.desired_keys(params()))
    values = {"client_secret": "ok-secret", "oidc_client_secret": "x", "cookie_hash_key": "a=",
              "cookie_block_key": ac.generate_key("cookie_block_key"), "claim_symmetric_key": ac.generate_key("claim_symmetric_key"),
              "token_rsa_key.pem": ac.generate_key("token_rsa_key.pem")}
    failures = es.synced_failures(objects, values)
    assert len(failures) == 1 and failures[0].startswith(
        "flyte-admin-secrets/cookie_hash_key (store key flyte/flyte-admin-secrets, property cookie_hash_key) is padded")
    assert "a=" not in failures[0]


def test_vault_store_with_kubernetes_auth():
    objects = es.secret_store({"name": "vault", "provider": "vault", "vault": {
        "server": "https://vault:8200", "role": "flyte", "service_account": "flyte-vault"}}, "flyte")
    assert len(objects) == 1
    store = objects[0]
    assert store["kind"] == "SecretStore" and store["metadata"]["namespace"] == "flyte"
    assert store["spec"]["provider"]["vault"] == {
        "server": "https://vault:8200", "path": "secret", "version": "v2",
        "auth": {"kubernetes": {"mountPath": "kubernetes", "role": "flyte", "serviceAccountRef": {"name": "flyte-vault"}}}}
    cluster = es.secret_store({"name": "v", "kind": "ClusterSecretStore", "provider": "vault", "vault": {
        "server": "https://vault:8200", "role": "flyte", "service_account": "sa"}}, "flyte")[0]
    assert "namespace" not in cluster["metadata"]
    assert cluster["spec"]["provider"]["vault"]["auth"]["kubernetes"]["serviceAccountRef"] == {"name": "sa", "namespace": "flyte"}


def test_aws_store_with_irsa():
    store, account = es.secret_store({"name": "aws", "provider": "aws", "aws": {
        "region": "eu-west-1", "role_arn": "arn:aws:iam::1:role/r"}}, "flyte")
    assert store["spec"]["provider"]["aws"] == {"service": "SecretsManager", "region": "eu-west-1",
                                                "auth": {"jwt": {"serviceAccountRef": {"name": "flyte-external-secrets"}}}}
    assert account["kind"] == "ServiceAccount" and account["metadata"]["name"] == "flyte-external-secrets"
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"}


def test_kubernetes_store():
    store = es.secret_store({"name": "k", "provider": "kubernetes", "kubernetes": {
        "remote_namespace": "vault-ish", "service_account": "reader", "server_url": "https://127.0.0.1:6443"}}, "flyte")[0]
    assert store["spec"]["provider"]["kubernetes"] == {
        "remoteNamespace": "vault-ish", "auth": {"serviceAccount": {"name": "reader"}},
        "server": {"url": "https://127.0.0.1:6443", "caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt"}}}


@pytest.mark.parametrize("spec,option", [
    ({"provider": "vault"}, "secret_store.name"),
    ({"name": "x", "provider": "gcp"}, "secret_store.provider"),
    ({"name": "x", "provider": "vault", "vault": {"server": "https://v"}}, "secret_store.vault"),
    ({"name": "x", "provider": "aws", "aws": {"region": "eu-west-1"}}, "secret_store.aws"),
    ({"name": "x", "provider": "kubernetes", "kubernetes": {}}, "secret_store.kubernetes"),
])
def test_store_options_missing(spec, option):
    with pytest.raises(es.ExternalSecretError) as exc:
        es.secret_store(spec, "flyte")
    assert exc.value.option == option


def test_object_patch_only_for_a_real_difference():
    want = es.secret_store({"name": "vault", "provider": "vault", "vault": {"server": "https://v", "role": "r"}}, "flyte")[0]
    current = {"metadata": {}, "spec": {"provider": {"vault": dict(want["spec"]["provider"]["vault"], extra="default")}}}
    assert es.object_patch(current, want) is None
    current = {"metadata": {}, "spec": {"provider": {"aws": {"region": "x"}}}}
    patch = es.object_patch(current, want)
    assert patch["spec"]["provider"]["aws"] is None and patch["spec"]["provider"]["vault"]["server"] == "https://v"
