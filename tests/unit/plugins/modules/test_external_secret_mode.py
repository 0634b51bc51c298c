# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_auth_secrets mode=external_secret, main() against FakeClient with a stand-in for the operator (``EsoFake``:
it fills the target Secret from a dict and reports SecretSynced, as the real operator does in
tests/integration/test_flyte_live_eso.py). Check mode, the sync request, validation of synced values, restarts on
rotation, a stopped operator and missing CRDs."""
import base64
import json
import os

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config as ac
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import external_secrets as es
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout as ro
from ansible_collections.flytesec.hardening.plugins.modules import flyte_auth_secrets

from fake_client import FakeClient, dumps, run_module

ARGS = {"namespace": "flyte", "mode": "external_secret", "external_secret_store": {"name": "vault"},
        "external_secret_timeout": 2}


def remote_values():
    return {
        "flyte/flyte-secret-auth": {"client_secret": "from-the-store-%s" % os.urandom(4).hex()},
        "flyte/flyte-admin-secrets": {
            "oidc_client_secret": "oidc-from-the-store", "cookie_hash_key": ac.generate_key("cookie_hash_key"),
            "cookie_block_key": ac.generate_key("cookie_block_key"),
            "claim_symmetric_key": ac.generate_key("claim_symmetric_key"),
            "token_rsa_key.pem": ac.generate_key("token_rsa_key.pem")},
    }


class EsoFake(FakeClient):
    """FakeClient with the ExternalSecret API served and an operator that syncs on every change of an ExternalSecret."""

    def __init__(self, remote, crds=True, running=True):
        super(EsoFake, self).__init__()
        self.remote, self.crds, self.running = remote, crds, running

    def resource(self, api_version, kind):
        if kind in ("ExternalSecret", "SecretStore", "ClusterSecretStore") and not self.crds:
            raise Exception("resource not found")
        return kind

    def create(self, api_version, kind, body, namespace=None):
        out = super(EsoFake, self).create(api_version, kind, body, namespace)
        if kind == "ExternalSecret" and not self.check_mode:
            self.store[(kind, namespace, body["metadata"]["name"])]["metadata"]["generation"] = 1
            self.sync(body["metadata"]["name"], namespace)
        return out

    def patch(self, api_version, kind, name, namespace, body, patch_type="strategic"):
        out = super(EsoFake, self).patch(api_version, kind, name, namespace, body, patch_type)
        if kind == "ExternalSecret" and not self.check_mode:
            if (body or {}).get("spec"):
                meta = self.store[(kind, namespace, name)]["metadata"]
                meta["generation"] = meta.get("generation", 1) + 1
            self.sync(name, namespace)
        return out

    def sync(self, name, namespace):
        """What the operator does: the target Secret from the store, then the status."""
        if not self.running:
            return
        obj = self.store[("ExternalSecret", namespace, name)]
        target = obj["spec"]["target"]["name"]
        secret = self.store.get(("Secret", namespace, target)) or {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": target, "namespace": namespace}}
        data = dict(secret.get("data") or {})
        for entry in obj["spec"]["data"]:
            value = self.remote[entry["remoteRef"]["key"]][entry["remoteRef"]["property"]]
            data[entry["secretKey"]] = base64.b64encode(value.encode()).decode()
        secret["data"] = data
        self.add(secret)
        meta = obj["metadata"]
        obj["status"] = {"syncedResourceVersion": "%s-%s" % (meta["generation"], json.dumps(meta.get("annotations"), sort_keys=True)),
                         "conditions": [{"type": "Ready", "status": "True", "reason": "SecretSynced", "message": "secret synced"}]}

    def mark_rolled_out(self):
        """Record in every Deployment's template the hash of what it consumes now (as flyte_rollout does)."""
        for (kind, ns, _name), obj in list(self.store.items()):
            if kind != "Deployment":
                continue
            refs = ro.referenced_objects(obj["spec"]["template"]["spec"])
            inputs = [self.store.get((k, ns, n)) for k, n, _o in refs]
            annotations = obj["spec"]["template"].setdefault("metadata", {}).setdefault("annotations", {})
            annotations[ro.CONFIG_HASH_ANNOTATION] = ro.inputs_hash(obj["metadata"].get("uid"), inputs)


def secret_text(client, name, key):
    return base64.b64decode(client.store[("Secret", "flyte", name)]["data"][key]).decode()


def test_run_creates_external_secrets_waits_for_the_sync_and_validates():
    remote = remote_values()
    client = EsoFake(remote)
    result, failed = run_module(flyte_auth_secrets, ARGS, client)
    assert not failed, result.get("msg")
    assert result["changed"] and [(e["name"], e["action"], e["state"]) for e in result["external_secrets"]] == [
        ("flyte-admin-secrets", "created", "synced"), ("flyte-secret-auth", "created", "synced")]
    assert set(e["state"] for e in result["keys"]) == {"synced"}
    assert {"secret": "flyte-admin-secrets", "key": "cookie_hash_key", "state": "synced",
            "store_key": "flyte/flyte-admin-secrets:cookie_hash_key"} in result["keys"]
    assert secret_text(client, "flyte-secret-auth", "client_secret") == remote["flyte/flyte-secret-auth"]["client_secret"]
    text = dumps(result)
    assert not any(v in text for values in remote.values() for v in values.values())
    # the module writes ExternalSecrets only; the Secrets are the operator's
    assert set(w["kind"] for w in client.writes()) == {"ExternalSecret"}
    # nothing ran on these values yet: every consumer restarts once
    assert "Deployment/flyteadmin" in result["restart_required"] and "Deployment/flytepropeller" in result["restart_required"]


def test_rerun_asks_for_a_fresh_sync_and_restarts_only_what_a_rotation_changed():
    remote = remote_values()
    client = EsoFake(remote)
    run_module(flyte_auth_secrets, ARGS, client)
    client.mark_rolled_out()
    again, failed = run_module(flyte_auth_secrets, ARGS, client)
    assert not failed and not again["changed"] and again["restart_required"] == []
    patches = [w for w in client.writes() if w["verb"] == "patch"]
    assert patches and all(list(w["body"]["metadata"]["annotations"]) == [es.SYNC_ANNOTATION] for w in patches)

    remote["flyte/flyte-secret-auth"]["client_secret"] = "rotated-in-the-store"
    checked, failed = run_module(flyte_auth_secrets, ARGS, client, check_mode=True)
    # check mode asks nothing of the operator; here the stand-in has not synced yet, so nothing is pending
    assert not failed and checked["restart_required"] == []
    client.sync("flyte-secret-auth", "flyte")   # the operator's next refresh
    checked, failed = run_module(flyte_auth_secrets, ARGS, client, check_mode=True)
    assert not failed and "Deployment/flytepropeller" in checked["restart_required"]
    assert "Deployment/flyteadmin" not in checked["restart_required"]   # it does not mount flyte-secret-auth
    rotated, failed = run_module(flyte_auth_secrets, ARGS, client)
    assert not failed and rotated["restart_required"] == checked["restart_required"]
    assert "rotated-in-the-store" not in dumps(rotated)


def test_check_mode_on_a_fresh_install_writes_nothing_and_reports_pending():
    client = EsoFake(remote_values())
    before = dict(client.store)
    result, failed = run_module(flyte_auth_secrets, ARGS, client, check_mode=True)
    assert not failed and result["changed"]
    assert client.writes(dry_run=False) == [] and client.store == before
    assert set(e["state"] for e in result["keys"]) == {"pending-sync"}
    assert "Deployment/flyteadmin" in result["restart_required"]


def test_a_padded_key_in_the_store_fails_naming_it():
    remote = remote_values()
    padded = base64.b64encode(os.urandom(64)).decode()
    remote["flyte/flyte-admin-secrets"]["cookie_hash_key"] = padded
    client = EsoFake(remote)
    result, failed = run_module(flyte_auth_secrets, ARGS, client)
    assert failed and result["option"] == "external_secret_store"
    assert "flyte-admin-secrets/cookie_hash_key (store key flyte/flyte-admin-secrets, property cookie_hash_key) " \
           "is padded base64" in result["msg"]
    assert padded not in dumps(result)


def test_a_default_propeller_secret_in_the_store_fails():
    remote = remote_values()
    remote["flyte/flyte-secret-auth"]["client_secret"] = "foobar"
    result, failed = run_module(flyte_auth_secrets, ARGS, EsoFake(remote))
    assert failed and "flyte-secret-auth/client_secret" in result["msg"] and "default secret" in result["msg"]


def test_a_stopped_operator_fails_even_with_an_old_synced_status():
    client = EsoFake(remote_values())
    run_module(flyte_auth_secrets, ARGS, client)
    client.running = False
    result, failed = run_module(flyte_auth_secrets, ARGS, client)
    assert failed and result["option"] == "external_secret_timeout"
    assert "did not sync from SecretStore vault within 2s" in result["msg"]
    assert "external-secrets operator running" in result["msg"] and "flyte-admin-secrets/cookie_hash_key" in result["msg"]


def test_without_the_operators_crds_nothing_is_written():
    client = EsoFake(remote_values(), crds=False)
    result, failed = run_module(flyte_auth_secrets, ARGS, client)
    assert failed and "install the External Secrets Operator" in result["msg"] and client.writes() == []


def test_secret_store_is_created_first_and_names_the_external_secrets_store():
    client = EsoFake(remote_values())
    args = dict(ARGS, external_secret_store=None, secret_store={
        "name": "aws", "provider": "aws", "aws": {"region": "eu-west-1", "role_arn": "arn:aws:iam::1:role/r"}})
    result, failed = run_module(flyte_auth_secrets, args, client)
    assert not failed, result.get("msg")
    assert result["secret_store"] == [{"object": "SecretStore/aws", "action": "created"},
                                      {"object": "ServiceAccount/flyte-external-secrets", "action": "created"}]
    es_obj = client.store[("ExternalSecret", "flyte", "flyte-secret-auth")]
    assert es_obj["spec"]["secretStoreRef"] == {"name": "aws", "kind": "SecretStore"}
    again, failed = run_module(flyte_auth_secrets, args, client)
    assert not failed and [s["action"] for s in again["secret_store"]] == ["unchanged", "unchanged"]
