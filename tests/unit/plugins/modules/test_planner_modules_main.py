# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""main() of the modules whose planners live in module_utils (flyte_auth_secrets, flyte_rbac, flyte_auth_config,
flyte_network_policies), against FakeClient on the upstream flyte-core objects: check mode writes nothing, a change
writes with a backup and the resourceVersion read, bad input fails naming the option before any write."""
import base64
import os

import pytest
import yaml

from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.modules import flyte_auth_config
from ansible_collections.flytesec.hardening.plugins.modules import flyte_auth_secrets
from ansible_collections.flytesec.hardening.plugins.modules import flyte_network_policies
from ansible_collections.flytesec.hardening.plugins.modules import flyte_rbac
from ansible_collections.flytesec.hardening.plugins.modules import flyte_restore

from fake_client import FakeClient, dumps, run_module

import upstream_manifests as um

SECRET = "propeller-secret-0123456789"
OIDC = "oidc-secret-from-the-idp-0123"


def assert_dry_run_only(client, backup_dir, before):
    assert client.writes(dry_run=False) == [] and client.writes(dry_run=True)
    assert os.listdir(str(backup_dir)) == []
    assert client.store == before


def assert_backed_up_with_versions(client, result, kinds):
    patches = client.writes(dry_run=False)
    assert patches and all(w["body"]["metadata"]["resourceVersion"] for w in patches if w["verb"] == "patch")
    records = [bk.read_record(path) for path in result["backups"]]
    assert sorted(set(r["kind"] for r in records)) == sorted(kinds)
    assert sorted(r["name"] for r in records) == sorted(set(w["name"] for w in patches))


# ------------------------------------------------------------------------------------------ shared options

@pytest.mark.parametrize("module", [flyte_auth_secrets, flyte_auth_config, flyte_network_policies])
def test_target_and_backup_options_come_from_args_common(module):
    spec = module.argument_spec()
    for name, option in list(args_common.TARGET.items()) + list(args_common.BACKUP.items()):
        assert spec[name] == option
    assert "extends_documentation_fragment" in module.DOCUMENTATION
    assert "flytesec.hardening.flyte_target" in module.DOCUMENTATION and "flytesec.hardening.backup" in module.DOCUMENTATION
    options = yaml.safe_load(module.DOCUMENTATION)["options"]
    shared = set(args_common.TARGET) | set(args_common.BACKUP)
    assert not shared & set(options), "option docs copied instead of taken from the doc fragments"


def test_rbac_takes_backup_from_args_common_and_keeps_its_namespace():
    spec = flyte_rbac.argument_spec()
    assert spec["namespace"] == {"type": "str", "default": "flyte"} and "layout" not in spec
    for name, option in args_common.BACKUP.items():
        assert spec[name] == option
    doc = yaml.safe_load(flyte_rbac.DOCUMENTATION)
    assert "flytesec.hardening.backup" in doc["extends_documentation_fragment"]
    assert "backup_dir" not in doc["options"] and "run_id" not in doc["options"]


# ------------------------------------------------------------------------------------------ flyte_auth_secrets

AUTH_SECRETS = {"namespace": "flyte", "propeller_client_secret": SECRET, "oidc_client_secret": OIDC}


def test_auth_secrets_check_mode_writes_nothing(tmp_path):
    client = FakeClient()
    before = dict(client.store)
    result, failed = run_module(flyte_auth_secrets, dict(AUTH_SECRETS, backup_dir=str(tmp_path), run_id="r1"), client,
                                check_mode=True, diff=True)
    assert not failed and result["changed"], result.get("msg")
    assert_dry_run_only(client, tmp_path, before)
    assert SECRET not in dumps(result) and OIDC not in dumps(result)
    states = dict((e["key"], e["state"]) for e in result["keys"])
    assert states["client_secret"] == "set" and states["cookie_hash_key"] == "generated"


def test_auth_secrets_run_backs_up_with_versions_then_rerun_keeps_everything(tmp_path):
    client = FakeClient()
    result, failed = run_module(flyte_auth_secrets, dict(AUTH_SECRETS, backup_dir=str(tmp_path), run_id="r1"), client,
                                diff=True)
    assert not failed and result["changed"], result.get("msg")
    assert_backed_up_with_versions(client, result, ["Secret"])
    assert sorted(w["name"] for w in client.writes()) == ["flyte-admin-secrets", "flyte-secret-auth"]
    assert all(list(w["body"]) == ["data", "metadata"] for w in client.writes())   # a merge patch of data only
    stored = client.store[("Secret", "flyte", "flyte-admin-secrets")]["data"]
    assert base64.b64decode(stored["oidc_client_secret"]).decode() == OIDC
    assert sorted(stored) == ["claim_symmetric_key", "cookie_block_key", "cookie_hash_key", "oidc_client_secret",
                              "token_rsa_key.pem"]
    text = dumps(result)
    assert SECRET not in text and OIDC not in text and not any(v in text for v in stored.values())
    assert result["restart_required"] == ["Deployment/flyteadmin", "Deployment/flytepropeller", "Deployment/flytescheduler"]
    writes = len(client.writes())
    again, failed = run_module(flyte_auth_secrets, dict(AUTH_SECRETS, backup_dir=str(tmp_path), run_id="r2"), client)
    assert not failed and not again["changed"] and set(e["state"] for e in again["keys"]) == {"kept"}
    assert len(client.writes()) == writes and again["backups"] == []


@pytest.mark.parametrize("extra,option", [
    ({"keys": {"cookie_hash_keys": "x"}}, "keys"),
    ({"rotate": ["secret"]}, "rotate"),
    ({"keys": {"cookie_block_key": base64.b64encode(os.urandom(32)).decode()}}, "keys.cookie_block_key"),
    ({"mode": "external_secret"}, "propeller_client_secret"),   # the values come from the store
    ({"mode": "external_secret", "propeller_client_secret": None, "oidc_client_secret": None}, "external_secret_store"),
    ({"oidc_client_secret": None}, "oidc_client_secret"),   # not given and not in the Secret: refused by the plan
])
def test_auth_secrets_bad_input_fails_naming_the_option_before_any_write(extra, option):
    client = FakeClient()
    result, failed = run_module(flyte_auth_secrets, dict(AUTH_SECRETS, **extra), client)
    assert failed and result["option"] == option and result["msg"].startswith(option + ":"), result["msg"]
    assert client.writes() == [] and SECRET not in dumps(result)


def test_auth_secrets_missing_oidc_secret_is_the_idp_registrations_in_check_mode():
    client = FakeClient()
    args = dict(AUTH_SECRETS, oidc_client_secret=None, oidc_client_secret_from_idp=True)
    result, failed = run_module(flyte_auth_secrets, args, client, check_mode=True)
    assert not failed and {"secret": "flyte-admin-secrets", "key": "oidc_client_secret", "state": "from-idp"} in result["keys"]


def test_auth_secrets_reference_mode_writes_nothing():
    client = FakeClient()
    result, failed = run_module(flyte_auth_secrets, {"namespace": "flyte", "mode": "reference"}, client)
    assert failed and result["msg"].startswith("mode=reference: flyte-secret-auth/client_secret is missing")
    assert client.writes() == []


def test_auth_secrets_refuses_a_secret_no_workload_mounts():
    docs = um.load(um.CORE)
    for deployment in um.of_kind(docs, "Deployment"):   # propeller and scheduler: a volume whose items leave it out
        for volume in deployment["spec"]["template"]["spec"].get("volumes") or []:
            if (volume.get("secret") or {}).get("secretName") == "flyte-secret-auth":
                volume["secret"]["items"] = [{"key": "other", "path": "other"}]
    client = FakeClient(objects=docs)
    result, failed = run_module(flyte_auth_secrets, dict(AUTH_SECRETS, scope="propeller"), client)
    assert failed and "mounts flyte-secret-auth/client_secret" in result["msg"] and client.writes() == []


# ------------------------------------------------------------------------------------------------ flyte_rbac

CHANGED_ROLES = ["ClusterRole/flyte-flytepropeller", "ClusterRole/flyte-flyte-pod-webhook", "ClusterRole/flyte-flyteadmin"]


def test_rbac_check_mode_writes_nothing(tmp_path):
    client = FakeClient()
    before = dict(client.store)
    result, failed = run_module(flyte_rbac, {"namespace": "flyte", "backup_dir": str(tmp_path), "run_id": "r1"}, client,
                                check_mode=True, diff=True)
    assert not failed and result["changed"] and result["changed_roles"] == CHANGED_ROLES
    assert_dry_run_only(client, tmp_path, before)
    assert result["wildcard_findings"] == []   # reported as if the plan were applied
    assert [d["before_header"] for d in result["diff"]] == CHANGED_ROLES


def _rbac_run(client, tmp_path, run_id):
    return run_module(flyte_rbac, {"namespace": "flyte", "task_plugins": ["spark"], "backup_dir": str(tmp_path),
                                   "run_id": run_id}, client)


def test_rbac_run_backs_up_with_versions_and_rerun_changes_nothing(tmp_path):
    client = FakeClient()
    result, failed = _rbac_run(client, tmp_path, "r1")
    assert not failed and result["changed_roles"] == CHANGED_ROLES
    assert_backed_up_with_versions(client, result, ["ClusterRole"])
    propeller = client.store[("ClusterRole", None, "flyte-flytepropeller")]["rules"]
    assert not any("*" in r.get("resources", []) for r in propeller)
    again, failed = _rbac_run(client, tmp_path, "r2")
    assert not failed and not again["changed"] and again["backups"] == []


def test_rbac_restore_puts_the_rules_back(tmp_path):
    client = FakeClient()
    before = dict((k, v) for k, v in client.store.items() if k[0] == "ClusterRole")
    result, failed = _rbac_run(client, tmp_path, "r1")
    assert not failed and result["changed"]
    restored, failed = run_module(flyte_restore, {"backup_dir": str(tmp_path), "run_id": "r1", "namespace": "flyte"}, client)
    assert not failed, restored["msg"]
    for key, role in before.items():
        assert client.store[key]["rules"] == role["rules"], key


@pytest.mark.parametrize("args,message", [
    ({"task_plugins": ["sparkz"]}, "task_plugins: unknown plugin 'sparkz'"),
    ({"extra_rules": [{"apiGroups": ["*"], "resources": ["x"], "verbs": ["get"]}]}, "extra_rules[0]: wildcard"),
    ({"extra_rules": [{"resources": ["x"]}]}, "extra_rules[0]: a rule needs verbs and resources"),
    ({"namespace": "nope"}, "namespace: nope does not exist"),
])
def test_rbac_bad_input_fails_naming_the_option_before_any_write(args, message):
    client = FakeClient()
    result, failed = run_module(flyte_rbac, dict({"namespace": "flyte"}, **args), client)
    assert failed and result["msg"].startswith(message) and client.writes() == []


# ------------------------------------------------------------------------------------------ flyte_auth_config

AUTH = {"namespace": "flyte", "public_url": "https://flyte.example.test", "bcrypt_cost": 4,
        "oidc": {"base_url": "https://idp.example.test/realms/flyte", "client_id": "flyteadmin"}}


def _static_clients(client):
    server = yaml.safe_load(client.store[("ConfigMap", "flyte", "flyte-admin-base-config")]["data"]["server.yaml"])
    return server["auth"]["appAuth"]["selfAuthServer"]["staticClients"]


def test_auth_config_check_mode_writes_nothing(tmp_path):
    client = FakeClient()
    before = dict(client.store)
    # no propeller secret given and none stored yet: check mode previews the one flyte_auth_secrets will write
    result, failed = run_module(flyte_auth_config, dict(AUTH, backup_dir=str(tmp_path), run_id="r1"), client,
                                check_mode=True, diff=True)
    assert not failed and result["changed"] and result["propeller_hash"] == "new", result.get("msg")
    assert_dry_run_only(client, tmp_path, before)


def test_auth_config_run_backs_up_with_versions_and_rerun_keeps_the_hash(tmp_path):
    import bcrypt
    client = FakeClient()
    args = dict(AUTH, propeller_client_secret=SECRET, backup_dir=str(tmp_path), run_id="r1")
    result, failed = run_module(flyte_auth_config, args, client, diff=True)
    assert not failed and result["changed"] and result["propeller_hash"] == "new", result.get("msg")
    assert_backed_up_with_versions(client, result, ["ConfigMap"])
    assert sorted(o["object"] for o in result["changed_objects"]) == [
        "ConfigMap/flyte-admin-base-config", "ConfigMap/flyte-propeller-config", "ConfigMap/flyte-scheduler-config"]
    stored = _static_clients(client)["flytepropeller"]["client_secret"]
    assert bcrypt.checkpw(SECRET.encode(), base64.b64decode(stored))
    assert sorted(_static_clients(client)) == ["flyte-cli", "flytectl", "flytepropeller"]
    assert SECRET not in dumps(result) and stored not in dumps(result)
    again, failed = run_module(flyte_auth_config, dict(args, run_id="r2"), client)
    assert not failed and not again["changed"] and again["propeller_hash"] == "kept" and again["backups"] == []
    assert _static_clients(client)["flytepropeller"]["client_secret"] == stored


@pytest.mark.parametrize("extra,option", [
    ({"bcrypt_cost": 3}, "bcrypt_cost"),
    ({"public_url": "http://flyte.example.test"}, "public_url"),
    ({"propeller_client_secret": "foobar"}, "propeller_client_secret"),
    ({"auth_server": "external", "external_auth_server": {"allowed_audience": ["https://x.example.test"]}},
     "external_auth_server.allowed_audience"),
])
def test_auth_config_bad_input_fails_naming_the_option_before_any_write(extra, option):
    client = FakeClient()
    result, failed = run_module(flyte_auth_config, dict(AUTH, **extra), client)
    assert failed and result["option"] == option and result["msg"].startswith(option + ":"), result["msg"]
    assert client.requests == []   # validated before the cluster is even read


def test_auth_config_without_a_propeller_secret_fails_before_any_write():
    client = FakeClient()
    result, failed = run_module(flyte_auth_config, AUTH, client)
    assert failed and result["msg"].startswith("propeller_client_secret: not given, and Secret flyte-secret-auth has no "
                                               "client_secret") and client.writes() == []


# ------------------------------------------------------------------------------------- flyte_network_policies

POLICIES = {"namespace": "flyte", "peers": {"apiserver_cidrs": ["10.0.0.1/32"], "database_cidrs": ["10.1.0.0/24"]}}


def test_network_policies_check_mode_writes_nothing(tmp_path):
    client = FakeClient()
    before = dict(client.store)
    result, failed = run_module(flyte_network_policies, dict(POLICIES, backup_dir=str(tmp_path), run_id="r1"), client,
                                check_mode=True)
    assert not failed and result["changed"] and result["changed_policies"] == result["policies"]
    assert len(result["policies"]) == 9
    assert_dry_run_only(client, tmp_path, before)


def test_network_policies_a_changed_policy_is_patched_with_backup_and_version(tmp_path):
    client = FakeClient()
    done, failed = run_module(flyte_network_policies, dict(POLICIES, backup_dir=str(tmp_path), run_id="r1"), client)
    assert not failed and len(done["changed_policies"]) == 9
    again, failed = run_module(flyte_network_policies, dict(POLICIES, backup_dir=str(tmp_path), run_id="r2"), client)
    assert not failed and not again["changed"] and again["changed_policies"] == [] and again["backups"] == []
    # someone widens the database port to a range, and drops the managed label of another policy
    key = ("NetworkPolicy", "flyte", "flytesec-flyteadmin")
    widened = client.store[key]
    for rule in widened["spec"]["egress"]:
        for port in rule.get("ports") or []:
            if port["port"] == 5432:
                port["endPort"] = 6000
    client.add(widened)
    client.store[("NetworkPolicy", "flyte", "flytesec-allow-dns")]["metadata"]["labels"] = {}
    count = len(client.writes())
    fixed, failed = run_module(flyte_network_policies, dict(POLICIES, backup_dir=str(tmp_path), run_id="r3"), client)
    assert not failed and fixed["changed_policies"] == ["flyte/flytesec-allow-dns", "flyte/flytesec-flyteadmin"]
    patches = client.writes()[count:]
    assert [w["verb"] for w in patches] == ["patch", "patch"]
    assert all(w["body"]["metadata"]["resourceVersion"] and w["patch_type"] == "merge" for w in patches)
    records = [bk.read_record(path) for path in fixed["backups"]]
    assert sorted(r["name"] for r in records) == ["flytesec-allow-dns", "flytesec-flyteadmin"]
    assert not any(r.get("absent") for r in records)
    assert not any(p.get("endPort") for r in client.store[key]["spec"]["egress"] for p in r.get("ports") or [])


@pytest.mark.parametrize("args,message", [
    ({"peers": {"dbcidrs": []}}, "peers: unknown key(s) dbcidrs"),
    ({"project_namespaces": ["nope-development"]}, "project_namespaces: nope-development does not exist"),
])
def test_network_policies_bad_input_fails_naming_the_option_before_any_write(args, message):
    client = FakeClient()
    result, failed = run_module(flyte_network_policies, dict(POLICIES, **args), client)
    assert failed and result["msg"].startswith(message) and client.writes() == []
