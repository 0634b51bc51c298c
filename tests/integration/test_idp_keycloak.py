# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_idp_client against a real Keycloak (Maven Central distribution) and the real local cluster (issue 7)."""
from __future__ import absolute_import, division, print_function

import base64
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration
PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "idp.yml"


def _post(url, form):
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _admin_get(keycloak, path):
    try:
        return keycloak.admin("GET", path)
    except urllib.error.HTTPError as exc:
        return exc.code


def _env(keycloak):
    return {"KEYCLOAK_ADMIN_USERNAME": "admin", "KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password}


def test_register_rerun_check_and_tokens(cluster, kube, keycloak, scratch_namespace):
    realm = "flyte-%s" % uuid.uuid4().hex[:6]
    extra = {"kc_url": keycloak.url, "kc_realm": realm, "kc_namespace": scratch_namespace}

    # Check mode on a fresh Keycloak: reports the change, creates nothing.
    checked = run_playbook(PLAYBOOK, cluster.kubeconfig, extra, check=True, env=_env(keycloak))
    assert checked.rc == 0, checked.stdout[-3000:]
    assert checked.result("Register the Flyte clients")["changed"] is True
    assert _admin_get(keycloak, "/%s" % realm) == 404

    first = run_playbook(PLAYBOOK, cluster.kubeconfig, extra, env=_env(keycloak))
    assert first.rc == 0, first.stdout[-3000:]
    registered = first.result("Register the Flyte clients")
    assert registered["issuer_url"] == "%s/realms/%s" % (keycloak.url, realm)
    assert keycloak.admin_password not in first.stdout
    secrets = client.CoreV1Api(kube)
    propeller_secret = base64.b64decode(secrets.read_namespaced_secret("flyte-secret-auth", scratch_namespace).data["client_secret"]).decode()
    oidc_secret = base64.b64decode(secrets.read_namespaced_secret("flyte-admin-secrets", scratch_namespace).data["oidc_client_secret"]).decode()
    assert propeller_secret not in first.stdout and oidc_secret not in first.stdout

    # Rerun: nothing changes; no duplicate clients.
    again = run_playbook(PLAYBOOK, cluster.kubeconfig, extra, env=_env(keycloak))
    assert again.rc == 0
    assert again.result("Register the Flyte clients")["changed"] is False, again.result("Register the Flyte clients")["changes"]
    clients = _admin_get(keycloak, "/%s/clients" % realm)
    for cid in ("flyteadmin", "flytectl", "flytepropeller"):
        assert len([c for c in clients if c["clientId"] == cid]) == 1

    # The propeller registration works: client credentials with the secret read back from the Secret.
    token_url = "%s/realms/%s/protocol/openid-connect/token" % (keycloak.url, realm)
    status, token = _post(token_url, {"grant_type": "client_credentials", "client_id": "flytepropeller",
                                      "client_secret": propeller_secret})
    assert status == 200, token
    claims = _claims(token["access_token"])
    aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert "https://flyte.example.com" in aud
    assert "all" in claims["scope"].split()
    assert _post(token_url, {"grant_type": "client_credentials", "client_id": "flytepropeller",
                             "client_secret": "wrong"})[0] == 401

    # flytectl accepts a PKCE authorization request and a device authorization request.
    verifier = uuid.uuid4().hex * 2
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    query = urllib.parse.urlencode({"client_id": "flytectl", "response_type": "code", "scope": "openid all offline",
                                    "redirect_uri": "http://localhost:53593/callback", "code_challenge": challenge,
                                    "code_challenge_method": "S256", "state": "x"})
    with urllib.request.urlopen("%s/realms/%s/protocol/openid-connect/auth?%s" % (keycloak.url, realm, query), timeout=30) as page:
        body = page.read().decode()
        assert page.status == 200 and "kc-form-login" in body or 'id="kc-login"' in body or "username" in body
    status, device = _post("%s/realms/%s/protocol/openid-connect/auth/device" % (keycloak.url, realm), {"client_id": "flytectl"})
    assert status == 200 and device.get("device_code") and device.get("user_code"), device

    # Rotation: new secrets in Keycloak and in the Secrets.
    rotated = run_playbook(PLAYBOOK, cluster.kubeconfig, dict(extra, kc_rotate=True), env=_env(keycloak))
    assert rotated.rc == 0
    new_secret = base64.b64decode(secrets.read_namespaced_secret("flyte-secret-auth", scratch_namespace).data["client_secret"]).decode()
    assert new_secret != propeller_secret
    assert _post(token_url, {"grant_type": "client_credentials", "client_id": "flytepropeller",
                             "client_secret": new_secret})[0] == 200


def test_bad_credentials_fail_clearly(cluster, keycloak, scratch_namespace):
    extra = {"kc_url": keycloak.url, "kc_realm": "flyte-bad", "kc_namespace": scratch_namespace}
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, extra,
                          env={"KEYCLOAK_ADMIN_USERNAME": "admin", "KEYCLOAK_ADMIN_PASSWORD": "wrong-password"})
    assert result.rc != 0
    msg = result.result("Register the Flyte clients")["msg"]
    assert "cannot log in" in msg and "HTTP 401" in msg and "wrong-password" not in result.stdout


def test_harden_with_keycloak_as_external_server(cluster, kube, keycloak):
    """harden-flyte.yml: register in Keycloak, then configure flyteadmin with its issuer (external server)."""
    from conftest import install_flyte
    namespace = "idp-core"
    install_flyte(cluster, "flyte-core", namespace)
    realm = "flyte-%s" % uuid.uuid4().hex[:6]
    extra = {"flytesec_namespace": namespace, "flytesec_pod_security": False,
             "idp_registration_url": keycloak.url, "idp_registration_realm": realm, "idp_registration_create_realm": True,
             "idp_registration_public_url": "https://flyte.example.com",
             "auth_public_url": "https://flyte.example.com", "auth_server": "external", "auth_admin_client": {"scopes": ["all"]},
             "auth_external_auth_server": {"metadata_url": ".well-known/openid-configuration"},
             "auth_verify_discovery": True}
    result = run_playbook(Path(__file__).resolve().parents[2] / "playbooks" / "harden-flyte.yml", cluster.kubeconfig,
                          extra, env=_env(keycloak))
    assert result.rc == 0, result.stdout[-4000:]
    server = json.loads(cluster.kubectl("-n", namespace, "get", "configmap", "flyte-admin-base-config", "-o", "json").stdout)
    import yaml
    auth = yaml.safe_load(server["data"]["server.yaml"])["auth"]
    assert auth["userAuth"]["openId"]["baseUrl"] == "%s/realms/%s" % (keycloak.url, realm)
    assert auth["appAuth"]["authServerType"] == "External"
    # The propeller secret Keycloak generated is what the cluster holds, and it gets a token with the right audience.
    secret = base64.b64decode(client.CoreV1Api(kube).read_namespaced_secret("flyte-secret-auth", namespace).data["client_secret"]).decode()
    status, token = _post("%s/realms/%s/protocol/openid-connect/token" % (keycloak.url, realm),
                          {"grant_type": "client_credentials", "client_id": "flytepropeller", "client_secret": secret})
    assert status == 200 and "https://flyte.example.com" in json.dumps(_claims(token["access_token"])["aud"])
