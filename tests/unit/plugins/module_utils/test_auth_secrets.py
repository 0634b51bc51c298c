# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_secrets: the key decision table of flyte_auth_secrets, per mode, from what the Secrets hold (pure)."""
from __future__ import absolute_import, division, print_function

import base64
import copy

import pytest

from upstream_manifests import BINARY, CORE, configmap_names, find, load, of_kind
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config as ac
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_secrets as asec
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as fl
from ansible_collections.flytesec.hardening.plugins.module_utils import masking

__metaclass__ = type

SECRET = "propeller-secret-0123456789"
OIDC = "oidc-secret-from-the-idp"
ALL_KEYS = ["client_secret", "oidc_client_secret", "claim_symmetric_key", "cookie_hash_key", "cookie_block_key",
            "token_rsa_key.pem"]


def params(**extra):
    out = dict(propeller_client_secret=None, oidc_client_secret=None, keys=None, rotate=[], internal_auth_server=True,
               mode="manage", scope="all", external_secret_store=None)
    out.update(extra)
    return out


def model(name=CORE):
    docs = load(name)
    return fl.detect(of_kind(docs, "Deployment"), configmap_names(docs), namespace="flyte")


def valid_values():
    return {"client_secret": SECRET, "oidc_client_secret": OIDC,
            "claim_symmetric_key": ac.generate_key("claim_symmetric_key"), "cookie_hash_key": ac.generate_key("cookie_hash_key"),
            "cookie_block_key": ac.generate_key("cookie_block_key"), "token_rsa_key.pem": ac.generate_key("token_rsa_key.pem")}


def by_key(plans):
    return dict((plan.key, plan) for plan in plans)


def test_the_keys_and_their_secrets_come_from_flyte_layout():
    assert asec.key_names() == ALL_KEYS
    core = asec.placement(model(CORE))
    assert sorted(core) == sorted(ALL_KEYS)
    assert core["client_secret"].object_name == "flyte-secret-auth"
    assert set(core[k].object_name for k in ALL_KEYS if k != "client_secret") == {"flyte-admin-secrets"}
    assert all(core[k].data_key == k for k in ALL_KEYS)
    binary = asec.placement(model(BINARY))
    assert binary["client_secret"].object_name == binary["oidc_client_secret"].object_name == "flyte-flyte-binary-client-secrets"
    assert binary["cookie_hash_key"].object_name == "flyte-flyte-binary-admin-auth"


def test_a_renamed_secret_is_followed_from_the_pod_template():
    docs = load(CORE)
    propeller = find(docs, "Deployment", "flytepropeller")
    for volume in propeller["spec"]["template"]["spec"]["volumes"]:
        if (volume.get("secret") or {}).get("secretName") == "flyte-secret-auth":
            volume["secret"]["secretName"] = "propeller-auth-5f6d7"
    placed = asec.placement(fl.detect(of_kind(docs, "Deployment"), configmap_names(docs), namespace="flyte"))
    assert placed["client_secret"].object_name == "propeller-auth-5f6d7"


@pytest.mark.parametrize("extra,expected", [
    ({}, ALL_KEYS[:2] + ["cookie_hash_key", "cookie_block_key", "claim_symmetric_key", "token_rsa_key.pem"]),
    ({"internal_auth_server": False}, ALL_KEYS[:2] + ["cookie_hash_key", "cookie_block_key"]),
    ({"scope": "propeller"}, ["client_secret"]),
])
def test_desired_keys(extra, expected):
    assert [key for key, _g, _gen in asec.desired_keys(params(**extra))] == expected


@pytest.mark.parametrize("extra,option", [
    ({"keys": {"nope": "x"}}, "keys"),
    ({"rotate": ["client_secrets"]}, "rotate"),
    ({"propeller_client_secret": "foobar"}, "propeller_client_secret"),
    ({"propeller_client_secret": " padded "}, "propeller_client_secret"),
    ({"oidc_client_secret": "  "}, "oidc_client_secret"),
    ({"keys": {"cookie_hash_key": base64.b64encode(b"x" * 64).decode()}}, "keys.cookie_hash_key"),
    ({"mode": "external_secret"}, "external_secret_store"),
])
def test_bad_input_names_the_option(extra, option):
    with pytest.raises(ac.AuthConfigError) as err:
        asec.check_params(params(**extra))
    assert err.value.option == option and str(err.value).startswith(option + ":")


def test_check_params_returns_the_values_to_mask():
    key = ac.generate_key("cookie_hash_key")
    assert sorted(asec.check_params(params(propeller_client_secret=SECRET, keys={"cookie_hash_key": key}))) == sorted([SECRET, key])


def test_nothing_there_generates_every_key_but_the_given_oidc_secret():
    wanted = asec.desired_keys(params(oidc_client_secret=OIDC))
    placed = asec.placement(model())
    plans = by_key(asec.plan_keys(wanted, placed, {}, "manage"))
    assert plans["oidc_client_secret"] == asec.KeyPlan("flyte-admin-secrets", "oidc_client_secret", "set", OIDC, True)
    for key in ALL_KEYS:
        if key != "oidc_client_secret":
            assert (plans[key].state, plans[key].value, plans[key].write) == ("generated", None, True)


def test_valid_keys_are_kept_and_nothing_is_written():
    wanted = asec.desired_keys(params())
    plans = asec.plan_keys(wanted, asec.placement(model()), valid_values(), "manage")
    assert set(p.state for p in plans) == {"kept"} and not any(p.write for p in plans)
    assert asec.values_to_write(plans) == {}


def test_rotate_invalid_and_given_values():
    current = valid_values()
    current["cookie_block_key"] = "padded="
    current["client_secret"] = "foobar"
    wanted = asec.desired_keys(params(rotate=["cookie_hash_key", "oidc_client_secret"], oidc_client_secret=OIDC))
    plans = by_key(asec.plan_keys(wanted, asec.placement(model()), current, "manage",
                                  rotate=["cookie_hash_key", "oidc_client_secret"]))
    assert plans["client_secret"].state == "replaced-invalid" and plans["client_secret"].write
    assert plans["cookie_block_key"].state == "replaced-invalid"
    assert plans["cookie_hash_key"].state == "rotated" and plans["cookie_hash_key"].value is None
    # the IdP issues oidc_client_secret: rotate never generates it, and the same given value is no change
    assert (plans["oidc_client_secret"].state, plans["oidc_client_secret"].write) == ("kept", False)
    assert (plans["claim_symmetric_key"].state, plans["claim_symmetric_key"].write) == ("kept", False)


def test_a_missing_oidc_secret_is_refused_unless_this_runs_idp_registration_writes_it():
    current = valid_values()
    del current["oidc_client_secret"]
    wanted = asec.desired_keys(params())
    placed = asec.placement(model())
    with pytest.raises(ac.AuthConfigError) as err:
        asec.plan_keys(wanted, placed, current, "manage")
    assert err.value.option == "oidc_client_secret" and "flyte-admin-secrets" in str(err.value)
    plans = by_key(asec.plan_keys(wanted, placed, current, "manage", preview_from_idp=True))
    assert plans["oidc_client_secret"] == asec.KeyPlan("flyte-admin-secrets", "oidc_client_secret", "from-idp", None, False)


def test_reference_mode_judges_and_writes_nothing():
    current = valid_values()
    current["client_secret"] = "foobar"
    del current["token_rsa_key.pem"]
    plans = asec.plan_keys(asec.desired_keys(params()), asec.placement(model()), current, "reference")
    states = dict((p.key, p.state) for p in plans)
    assert states["client_secret"] == "invalid" and states["token_rsa_key.pem"] == "missing"
    assert states["cookie_hash_key"] == "valid" and not any(p.write for p in plans)
    assert asec.reference_failure(plans) == ("mode=reference: flyte-secret-auth/client_secret is invalid; "
                                             "flyte-admin-secrets/token_rsa_key.pem is missing")
    assert asec.reference_failure([p for p in plans if p.state == "valid"]) is None


def test_writes_create_or_patch_and_the_diff_has_no_value():
    placed = asec.placement(model())
    wanted = asec.desired_keys(params(oidc_client_secret=OIDC))
    plans = asec.plan_keys(wanted, placed, {}, "manage")
    values = asec.values_to_write(plans, generate=lambda key: "generated-%s" % key)
    assert values["flyte-secret-auth"] == {"client_secret": "generated-client_secret"}
    assert values["flyte-admin-secrets"]["oidc_client_secret"] == OIDC
    existing = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "flyte-admin-secrets", "resourceVersion": "7"}}
    writes = asec.secret_writes("flyte", values, {"flyte-admin-secrets": existing, "flyte-secret-auth": None})
    assert [w.name for w in writes] == ["flyte-admin-secrets", "flyte-secret-auth"]
    patch, create = writes
    assert patch.current is existing and list(patch.body) == ["data"]
    assert base64.b64decode(patch.body["data"]["oidc_client_secret"]).decode() == OIDC
    assert create.current is None and create.body["kind"] == "Secret" and create.body["metadata"]["namespace"] == "flyte"
    assert create.body["metadata"]["labels"] == asec.MANAGED_LABELS
    for write in writes:
        assert OIDC not in str(write.diff) and "generated-" not in str(write.diff) and masking.MASK in write.diff["after"]


def test_current_values_are_decoded_from_the_secrets_read():
    placed = asec.placement(model())
    wanted = asec.desired_keys(params(scope="propeller"))
    secret = {"data": {"client_secret": base64.b64encode(SECRET.encode()).decode()}}
    assert asec.current_values(wanted, placed, {"flyte-secret-auth": secret}) == {"client_secret": SECRET}
    assert asec.current_values(wanted, placed, {"flyte-secret-auth": None}) == {"client_secret": None}
    assert asec.secret_names(placed, asec.desired_keys(params())) == ["flyte-admin-secrets", "flyte-secret-auth"]


def test_unread_keys_follow_the_volumes_items():
    docs = load(CORE)
    workloads = of_kind(docs, "Deployment")
    placed = asec.placement(model())
    wanted = asec.desired_keys(params())
    assert asec.unread(placed, wanted, workloads) == []
    admin = find(workloads, "Deployment", "flyteadmin")
    for volume in admin["spec"]["template"]["spec"]["volumes"]:
        if (volume.get("secret") or {}).get("secretName") == "flyte-admin-secrets":
            volume["secret"]["items"] = [{"key": "cookie_hash_key", "path": "cookie_hash_key"}]
    missing = asec.unread(placed, wanted, workloads)
    assert "flyte-admin-secrets/oidc_client_secret" in missing and "flyte-admin-secrets/cookie_hash_key" not in missing


def test_plans_do_not_change_their_inputs():
    current = valid_values()
    before = copy.deepcopy(current)
    asec.plan_keys(asec.desired_keys(params()), asec.placement(model()), current, "manage", rotate=["cookie_hash_key"])
    assert current == before
