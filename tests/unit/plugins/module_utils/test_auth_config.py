# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""auth_config: validation, the propeller hash (verify-or-rehash), static clients, key formats."""
import base64

import bcrypt
import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config as ac

BASE = {"public_url": "https://flyte.example.com", "oidc": {"base_url": "https://idp.example.com/realms/f", "client_id": "fa"}}


def _params(**extra):
    params = dict(BASE)
    params.update(extra)
    return params


def test_normalize_defaults():
    settings = ac.normalize(_params())
    assert settings["server_type"] == "Self" and settings["authorized_uris"] == ["https://flyte.example.com"]
    assert settings["oidc"]["scopes"] == ["openid", "profile"]
    assert settings["admin_client"] == {"authType": "ClientSecret", "clientId": "flytepropeller",
                                        "clientSecretLocation": "/etc/secrets/client_secret", "useAudienceFromAdmin": True}


@pytest.mark.parametrize("extra,option", [
    ({"public_url": "http://flyte.example.com"}, "public_url"),
    ({"oidc": {"base_url": "http://idp.example.com", "client_id": "x"}}, "oidc.base_url"),
    ({"oidc": {"base_url": "https://idp.example.com", "client_id": "x", "scopes": []}}, "oidc.scopes"),
    ({"auth_server": "External"}, "auth_server"),
    ({"authorized_uris": ["https://other.example.com"]}, "authorized_uris"),
    ({"auth_server": "external", "authorized_uris": ["https://flyte.example.com"],
      "external_auth_server": {"allowed_audience": ["https://x.example.com"]}}, "external_auth_server.allowed_audience"),
    ({"external_auth_server": {"base_url": "https://idp.example.com"}}, "external_auth_server"),
    ({"flyte_client": {"redirect_uri": "localhost:53593/callback"}}, "flyte_client.redirect_uri"),
])
def test_bad_input_names_the_option(extra, option):
    with pytest.raises(ac.AuthConfigError) as info:
        ac.normalize(_params(**extra))
    assert info.value.option == option


def test_hash_is_base64_of_bcrypt_and_kept_when_it_matches():
    value = ac.hash_secret("s3cret-value", cost=4)
    raw = base64.b64decode(value)
    assert raw.startswith(b"$2") and bcrypt.checkpw(b"s3cret-value", raw)
    assert ac.choose_hash("s3cret-value", value, 4) == (value, False)
    new, rehashed = ac.choose_hash("other-secret", value, 4)
    assert rehashed and ac.verify("other-secret", new)


def test_stored_hash_errors():
    raw = bcrypt.hashpw(b"x", bcrypt.gensalt(4)).decode()
    assert "raw bcrypt hash" in ac.stored_hash_error(raw)
    assert "built-in default" in ac.stored_hash_error(base64.b64encode(ac.UPSTREAM_DEFAULT_HASH.encode()).decode())
    assert ac.stored_hash_error("not base64!") is not None
    assert ac.choose_hash("x", raw, 4)[1] is True  # a raw hash is never kept


def test_default_pair_refused():
    with pytest.raises(ac.AuthConfigError, match="chart's default"):
        ac.check_client_secret("foobar")


def test_static_clients_every_field():
    clients = ac.static_clients(ac.normalize(_params()), "HASH")
    assert sorted(clients) == ["flyte-cli", "flytectl", "flytepropeller"]
    assert clients["flytepropeller"]["client_secret"] == "HASH" and clients["flytepropeller"]["public"] is False
    for entry in clients.values():
        assert set(["id", "redirect_uris", "grant_types", "response_types", "scopes", "public"]) <= set(entry)


@pytest.mark.parametrize("name", sorted(ac.GENERATED_KEYS))
def test_generated_keys_are_valid(name):
    assert ac.key_error(name, ac.generate_key(name)) is None


def test_key_format_errors():
    padded = base64.b64encode(b"x" * 32).decode()
    assert "padded" in ac.key_error("claim_symmetric_key", padded)
    assert "bytes" in ac.key_error("cookie_hash_key", base64.b64encode(b"x" * 32).decode().rstrip("="))
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    pkcs8 = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    assert "PKCS#8" in ac.key_error("token_rsa_key.pem", pkcs8)


# ---- the decision table of one Secret key (flyte_auth_secrets) ----
@pytest.mark.parametrize("key,given,current,rotate,generated,expected", [
    ("client_secret", None, None, False, True, (None, "generated")),
    ("client_secret", None, "foobar", False, True, (None, "replaced-invalid")),
    ("client_secret", None, "s3cret-value-0123456789", False, True, ("s3cret-value-0123456789", "kept")),
    ("client_secret", None, "s3cret-value-0123456789", True, True, (None, "rotated")),
    ("client_secret", "given-0123456789abcdef", "s3cret", False, True, ("given-0123456789abcdef", "rotated")),
    ("client_secret", "given-0123456789abcdef", None, False, True, ("given-0123456789abcdef", "set")),
    ("oidc_client_secret", None, "from-the-idp", False, False, ("from-the-idp", "kept")),
    ("oidc_client_secret", "new", "from-the-idp", False, False, ("new", "rotated")),
    ("oidc_client_secret", None, "from-the-idp", True, False, ("from-the-idp", "kept")),
])
def test_plan_key(key, given, current, rotate, generated, expected):
    assert ac.plan_key(key, given, current, rotate, generated, "flyte-admin-secrets") == expected


@pytest.mark.parametrize("current", [None, "", "  \n"])
def test_plan_key_refuses_oidc_login_without_its_client_secret(current):
    """flyteadmin reads oidc_client_secret at startup whenever auth is on: no value is a CrashLoopBackOff."""
    with pytest.raises(ac.AuthConfigError) as err:
        ac.plan_key("oidc_client_secret", None, current, False, False, "flyte-admin-secrets")
    assert err.value.option == "oidc_client_secret"
    assert "auth_oidc_client_secret" in str(err.value) and "flyte-admin-secrets" in str(err.value)


# ---- the edits flyte_auth_config plans (config blocks, staticClients with the propeller hash) ----
def _model(name):
    from upstream_manifests import configmap_names, load, of_kind
    from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as fl
    docs = load(name)
    return fl.detect(of_kind(docs, "Deployment"), configmap_names(docs), namespace="flyte")


def test_config_edits_at_the_layouts_locations():
    from upstream_manifests import CORE
    model = _model(CORE)
    settings = ac.normalize(_params())
    edits = ac.config_edits(settings, model.locate("use_auth"), model.locate("auth"), model.locate_all("admin_client"))
    assert edits[0] == ("ConfigMap", "flyte-admin-base-config", "server.yaml", ("server", "security", "useAuth"), True)
    auth_paths = [e.path for e in edits if e.object_name == "flyte-admin-base-config"][1:]
    assert ("auth", "appAuth", "authServerType") in auth_paths and ("auth", "authorizedUris") in auth_paths
    assert not any("staticClients" in path for path in auth_paths)
    admin = [e for e in edits if e.data_key == "admin.yaml"]
    assert sorted(set(e.object_name for e in admin)) == ["flyte-propeller-config", "flyte-scheduler-config"]
    assert ("ConfigMap", "flyte-propeller-config", "admin.yaml", ("admin", "clientSecretLocation"),
            "/etc/secrets/client_secret") in admin


def test_static_client_edits_flyte_core_one_map_with_the_hash():
    from upstream_manifests import CORE
    model = _model(CORE)
    settings = ac.normalize(_params())
    edits, value, rehashed = ac.static_client_edits(settings, "s3cret-value", None, model.locate("auth"),
                                                    model.locate("static_client_secret"), cost=4)
    assert rehashed and ac.verify("s3cret-value", value)
    assert len(edits) == 1 and edits[0].path == ("auth", "appAuth", "selfAuthServer", "staticClients")
    assert edits[0].value["flytepropeller"]["client_secret"] == value
    # a stored hash of the same secret is kept: a rerun changes nothing
    again, kept, rehashed = ac.static_client_edits(settings, "s3cret-value", value, model.locate("auth"),
                                                   model.locate("static_client_secret"), cost=4)
    assert (kept, rehashed) == (value, False) and again == edits


def test_static_client_edits_flyte_binary_hash_in_the_secret_file():
    from upstream_manifests import BINARY
    model = _model(BINARY)
    settings = ac.normalize(_params())
    edits, value, _rehashed = ac.static_client_edits(settings, "s3cret-value", None, model.locate("auth"),
                                                     model.locate("static_client_secret"), cost=4)
    clients, secret = edits
    assert (clients.object_kind, clients.data_key) == ("ConfigMap", "100-inline-config.yaml")
    assert "client_secret" not in clients.value["flytepropeller"] and clients.value["flytepropeller"]["public"] is False
    assert (secret.object_kind, secret.object_name, secret.data_key) == ("Secret", "flyte-flyte-binary-config-secret",
                                                                         "014-auth-secrets.yaml")
    assert secret.path[-1] == "client_secret" and secret.value == value


def test_propeller_secret_given_stored_or_previewed():
    from upstream_manifests import CORE
    location = _model(CORE).locate("propeller_client_secret")
    assert ac.propeller_secret("given-0123456789", "stored-0123456789", location) == "given-0123456789"
    assert ac.propeller_secret(None, "stored-0123456789", location) == "stored-0123456789"
    # check mode: flyte_auth_secrets replaces a missing or chart-default secret first in a real run
    assert ac.propeller_secret(None, "foobar", location, check_mode=True, stand_in=lambda: "stand-in-0123") == "stand-in-0123"
    with pytest.raises(ac.AuthConfigError) as info:
        ac.propeller_secret(None, None, location)
    assert str(info.value) == ("propeller_client_secret: not given, and Secret flyte-secret-auth has no client_secret; "
                               "run flyte_auth_secrets first or give it")
    with pytest.raises(ac.AuthConfigError, match=r"propeller_client_secret \(from flyte-secret-auth\): is the flyte-core"):
        ac.propeller_secret(None, "foobar", location)
