# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_idp_client for Okta and Microsoft Entra ID against local FAKES of their APIs (issue 7).

Okta and Entra ID cannot run here; tests/integration/idp_fakes.py fakes the documented endpoints the
module calls and rejects requests of another shape. The Kubernetes side is the real local cluster: the
client secrets land in real Secrets. Asserted: request shapes (the fakes' checks plus the objects they
hold), no duplicate on rerun, a rerun with no write request, check mode with no write, secrets never in
the output (also with -vvv and --diff), secret rotation, a secret re-made when the Kubernetes Secret lost
it, an ambiguous name refused, and state absent.
"""
from __future__ import absolute_import, division, print_function

import base64
import uuid
from pathlib import Path

import pytest

from idp_fakes import EntraFake, OktaFake
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration
PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "idp_fake.yml"
TASK = "Register the Flyte clients"


def _secret(kube, namespace, name, key):
    try:
        data = client.CoreV1Api(kube).read_namespaced_secret(name, namespace).data or {}
    except client.exceptions.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return base64.b64decode(data[key]).decode() if key in data else None


@pytest.fixture
def okta():
    fake = OktaFake(api_token="okta-admin-token-" + uuid.uuid4().hex)
    yield fake
    fake.stop()


@pytest.fixture
def entra():
    fake = EntraFake(tenant=str(uuid.uuid4()), admin_id=str(uuid.uuid4()), admin_secret="entra-admin-" + uuid.uuid4().hex)
    yield fake
    fake.stop()


def _okta_run(cluster, okta, namespace, **kw):
    extra = {"idp_provider": "okta", "idp_url": okta.url, "idp_namespace": namespace}
    extra.update(dict(("idp_" + k, v) for k, v in kw.pop("extra", {}).items()))
    return run_playbook(PLAYBOOK, cluster.kubeconfig, extra, env={"OKTA_API_TOKEN": okta.api_token}, **kw)


def _entra_run(cluster, entra, namespace, **kw):
    extra = {"idp_provider": "entra", "idp_url": entra.url, "idp_namespace": namespace, "idp_tenant": entra.tenant}
    extra.update(dict(("idp_" + k, v) for k, v in kw.pop("extra", {}).items()))
    return run_playbook(PLAYBOOK, cluster.kubeconfig, extra,
                        env={"AZURE_CLIENT_ID": entra.admin_id, "AZURE_CLIENT_SECRET": entra.admin_secret}, **kw)


def _no_secret_in(text, values):
    leaked = [v for v in values if v and v in text]
    assert not leaked, "secret values in the output"


def test_okta_register_rerun_check_rotate_absent(cluster, kube, okta, scratch_namespace):
    # Check mode: reports the work, makes no write request, no Secret.
    checked = _okta_run(cluster, okta, scratch_namespace, check=True)
    assert checked.rc == 0, checked.stdout[-3000:]
    assert checked.result(TASK)["changed"] is True
    assert okta.writes() == [] and okta.apps == {} and okta.servers == {}
    assert _secret(kube, scratch_namespace, "flyte-secret-auth", "client_secret") is None

    first = _okta_run(cluster, okta, scratch_namespace, extra={"okta_groups": ["00gEVERYONE"]})
    assert first.rc == 0, first.stdout[-3000:]
    res = first.result(TASK)
    # One authorization server with the Flyte audience, scopes all/offline, one policy with one rule.
    (server,) = okta.servers.values()
    assert server["obj"]["audiences"] == ["https://flyte.example.com"]
    assert res["issuer_url"] == server["obj"]["issuer"] and res["audience"] == "https://flyte.example.com"
    assert sorted(s["name"] for s in server["scopes"].values()) == ["all", "offline"]
    (policy,) = server["policies"].values()
    assert policy["obj"]["conditions"]["clients"]["include"] == ["ALL_CLIENTS"]
    (rule,) = policy["rules"].values()
    assert "client_credentials" in rule["conditions"]["grantTypes"]["include"]
    assert "urn:ietf:params:oauth:grant-type:device_code" in rule["conditions"]["grantTypes"]["include"]
    # Three apps of the documented kinds.
    kinds = dict((a["label"], a["settings"]["oauthClient"]["application_type"]) for a in okta.apps.values())
    assert kinds == {"flyteadmin": "web", "flytectl": "native", "flytepropeller": "service"}
    cli = [a for a in okta.apps.values() if a["label"] == "flytectl"][0]
    assert cli["credentials"]["oauthClient"]["token_endpoint_auth_method"] == "none"
    assert cli["credentials"]["oauthClient"]["pkce_required"] is True
    assert "http://localhost:53593/callback" in cli["settings"]["oauthClient"]["redirect_uris"]
    web = [a for a in okta.apps.values() if a["label"] == "flyteadmin"][0]
    assert web["settings"]["oauthClient"]["redirect_uris"] == ["https://flyte.example.com/callback"]
    assert okta.app_groups[web["id"]] == {"00gEVERYONE"} and okta.app_groups[cli["id"]] == {"00gEVERYONE"}
    assert res["client_ids"]["propeller"] == [a for a in okta.apps.values() if a["label"] == "flytepropeller"][0]["id"]
    # The secrets Okta issued are in the cluster, and nowhere in the output.
    propeller = _secret(kube, scratch_namespace, "flyte-secret-auth", "client_secret")
    oidc = _secret(kube, scratch_namespace, "flyte-admin-secrets", "oidc_client_secret")
    assert propeller == okta.active_secrets("flytepropeller")[0] and oidc == okta.active_secrets("flyteadmin")[0]
    _no_secret_in(first.stdout + first.stderr, okta.issued_secrets + [okta.api_token])

    # Rerun: no change, no write request, no duplicate.
    before = len(okta.requests)
    again = _okta_run(cluster, okta, scratch_namespace, extra={"okta_groups": ["00gEVERYONE"]})
    assert again.rc == 0 and again.result(TASK)["changed"] is False, again.result(TASK)["changes"]
    assert [r for r in okta.requests[before:] if r["method"] != "GET"] == []
    assert len(okta.apps) == 3 and len(okta.servers) == 1

    # A drifted redirect URI is put back, in place.
    web["settings"]["oauthClient"]["redirect_uris"] = ["https://evil.example.com/callback"]
    fixed = _okta_run(cluster, okta, scratch_namespace, diff=True)
    assert fixed.result(TASK)["changed"] is True and len(okta.apps) == 3
    assert web["settings"]["oauthClient"]["redirect_uris"] == ["https://flyte.example.com/callback"]

    # Rotation with -vvv and --diff: a new secret in Okta and the cluster; none in the output; one active secret.
    rotated = _okta_run(cluster, okta, scratch_namespace, extra={"rotate": True}, diff=True, verbosity=3)
    assert rotated.rc == 0, rotated.stdout[-3000:]
    new = _secret(kube, scratch_namespace, "flyte-secret-auth", "client_secret")
    assert new != propeller and okta.active_secrets("flytepropeller") == [new]
    _no_secret_in(rotated.stdout + rotated.stderr, okta.issued_secrets + [okta.api_token])

    # The Kubernetes Secret lost its key: a new Okta secret is made (Okta shows none again).
    client.CoreV1Api(kube).delete_namespaced_secret("flyte-admin-secrets", scratch_namespace)
    healed = _okta_run(cluster, okta, scratch_namespace)
    assert healed.rc == 0 and healed.result(TASK)["changed"] is True
    assert _secret(kube, scratch_namespace, "flyte-admin-secrets", "oidc_client_secret") == okta.active_secrets("flyteadmin")[0]

    # state absent: the three apps go (deactivated first, as Okta requires); the server stays.
    gone = _okta_run(cluster, okta, scratch_namespace, extra={"state": "absent"})
    assert gone.rc == 0 and gone.result(TASK)["changed"] is True, gone.stdout[-2000:]
    assert okta.apps == {} and len(okta.servers) == 1


def test_okta_duplicate_label_is_refused(cluster, okta, scratch_namespace):
    okta.add_app("flytectl", kind="native")
    okta.add_app("flytectl", kind="native")
    result = _okta_run(cluster, okta, scratch_namespace)
    assert result.rc != 0
    msg = result.result(TASK)["msg"]
    assert "2 objects are named 'flytectl'" in msg
    assert len([a for a in okta.apps.values() if a["label"] == "flytectl"]) == 2


def test_okta_bad_token_fails_clearly(cluster, okta, scratch_namespace):
    extra = {"idp_provider": "okta", "idp_url": okta.url, "idp_namespace": scratch_namespace}
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, extra, env={"OKTA_API_TOKEN": "wrong-token-value"})
    assert result.rc != 0
    assert "HTTP 401" in result.result(TASK)["msg"] and "wrong-token-value" not in result.stdout
    assert okta.writes() == []


def test_entra_register_rerun_check_rotate_absent(cluster, kube, entra, scratch_namespace):
    checked = _entra_run(cluster, entra, scratch_namespace, check=True)
    assert checked.rc == 0, checked.stdout[-3000:]
    assert checked.result(TASK)["changed"] is True and entra.writes() == [] and entra.applications == {}

    first = _entra_run(cluster, entra, scratch_namespace)
    assert first.rc == 0, first.stdout[-3000:]
    res = first.result(TASK)
    (app,) = entra.app("Flyte")
    app_id = app["appId"]
    assert res["issuer_url"] == "%s/%s/v2.0" % (entra.url, entra.tenant)
    assert res["client_ids"] == {"web": app_id, "cli": app_id, "propeller": app_id}
    assert res["audience"] == "api://%s" % app_id and res["scopes"] == ["api://%s/access_flyte" % app_id]
    assert res["propeller_scopes"] == ["api://%s/.default" % app_id]
    assert app["web"]["redirectUris"] == ["https://flyte.example.com/callback"]
    assert "http://localhost:53593/callback" in app["publicClient"]["redirectUris"]
    assert app["isFallbackPublicClient"] is True and app["identifierUris"] == ["api://%s" % app_id]
    (scope,) = app["api"]["oauth2PermissionScopes"]
    assert scope["value"] == "access_flyte" and scope["type"] == "Admin"
    assert app["api"]["preAuthorizedApplications"] == [{"appId": app_id, "delegatedPermissionIds": [scope["id"]]}]
    graph = [e for e in app["requiredResourceAccess"] if e["resourceAppId"] == "00000003-0000-0000-c000-000000000000"][0]
    assert len(graph["resourceAccess"]) == 5
    assert [sp["appId"] for sp in entra.service_principals.values()] == [app_id]
    (cred,) = app["passwordCredentials"]
    assert _secret(kube, scratch_namespace, "flyte-secret-auth", "client_secret") == cred["value"]
    assert _secret(kube, scratch_namespace, "flyte-admin-secrets", "oidc_client_secret") == cred["value"]
    _no_secret_in(first.stdout + first.stderr, entra.issued_secrets + [entra.admin_secret])

    before = len(entra.requests)
    again = _entra_run(cluster, entra, scratch_namespace)
    assert again.rc == 0 and again.result(TASK)["changed"] is False, again.result(TASK)["changes"]
    assert [r for r in entra.requests[before:] if r["method"] != "GET" and not r["path"].endswith("/token")] == []
    assert len(entra.applications) == 1 and len(entra.service_principals) == 1

    rotated = _entra_run(cluster, entra, scratch_namespace, extra={"rotate": True}, diff=True, verbosity=3)
    assert rotated.rc == 0, rotated.stdout[-3000:]
    (new,) = app["passwordCredentials"]
    assert new["keyId"] != cred["keyId"]
    assert _secret(kube, scratch_namespace, "flyte-secret-auth", "client_secret") == new["value"]
    _no_secret_in(rotated.stdout + rotated.stderr, entra.issued_secrets + [entra.admin_secret])

    gone = _entra_run(cluster, entra, scratch_namespace, extra={"state": "absent"})
    assert gone.rc == 0 and gone.result(TASK)["changed"] is True and entra.applications == {}


def test_entra_finds_an_existing_registration_and_refuses_two(cluster, kube, entra, scratch_namespace):
    oid = entra.add_application("Flyte")
    first = _entra_run(cluster, entra, scratch_namespace)
    assert first.rc == 0, first.stdout[-3000:]
    assert list(entra.applications) == [oid]  # updated in place, not created again
    assert entra.applications[oid]["web"]["redirectUris"] == ["https://flyte.example.com/callback"]
    assert _secret(kube, scratch_namespace, "flyte-secret-auth", "client_secret") == entra.applications[oid]["passwordCredentials"][0]["value"]

    entra.add_application("Flyte")
    result = _entra_run(cluster, entra, scratch_namespace)
    assert result.rc != 0 and "2 app registrations are named 'Flyte'" in result.result(TASK)["msg"]
    assert len(entra.applications) == 2


def test_entra_bad_admin_secret_fails_clearly(cluster, entra, scratch_namespace):
    extra = {"idp_provider": "entra", "idp_url": entra.url, "idp_namespace": scratch_namespace, "idp_tenant": entra.tenant}
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, extra,
                          env={"AZURE_CLIENT_ID": entra.admin_id, "AZURE_CLIENT_SECRET": "wrong-admin-secret"})
    assert result.rc != 0
    msg = result.result(TASK)["msg"]
    assert "cannot log in" in msg and "HTTP 401" in msg and "wrong-admin-secret" not in result.stdout


def test_harden_with_entra_fake_as_external_server(cluster, kube, entra):
    """harden-flyte.yml registers Flyte in (fake) Entra ID and configures flyteadmin with its issuer, audience and app."""
    import json

    import yaml

    from conftest import install_flyte
    namespace = "idp-entra"
    install_flyte(cluster, "flyte-core", namespace)
    extra = {"flytesec_namespace": namespace, "flytesec_pod_security": False, "flytesec_audit": False,
             "idp_registration_provider": "entra", "idp_registration_url": entra.url,
             "idp_registration_entra_tenant_id": entra.tenant, "idp_registration_public_url": "https://flyte.example.com",
             "idp_registration_validate_certs": False,
             "auth_public_url": "https://flyte.example.com", "auth_server": "external"}
    env = {"AZURE_CLIENT_ID": entra.admin_id, "AZURE_CLIENT_SECRET": entra.admin_secret}
    harden = Path(__file__).resolve().parents[2] / "playbooks" / "harden-flyte.yml"
    # the module's default login URL is Microsoft's; the fake serves both on one port
    extra["idp_registration_entra_login_url"] = entra.url
    result = run_playbook(harden, cluster.kubeconfig, extra, env=env)
    assert result.rc == 0, result.stdout[-4000:]
    (app,) = entra.app("Flyte")
    config = json.loads(cluster.kubectl("-n", namespace, "get", "configmap", "flyte-admin-base-config", "-o", "json").stdout)
    auth = yaml.safe_load(config["data"]["server.yaml"])["auth"]
    issuer = "%s/%s/v2.0" % (entra.url, entra.tenant)
    assert auth["userAuth"]["openId"]["baseUrl"] == issuer and auth["userAuth"]["openId"]["clientId"] == app["appId"]
    assert auth["appAuth"]["authServerType"] == "External"
    assert auth["appAuth"]["externalAuthServer"]["allowedAudience"] == ["api://%s" % app["appId"]]
    assert auth["appAuth"]["thirdPartyConfig"]["flyteClient"]["clientId"] == app["appId"]
    maps = json.loads(cluster.kubectl("-n", namespace, "get", "configmaps", "-o", "json").stdout)["items"]
    admin_clients = [yaml.safe_load(m["data"]["admin.yaml"])["admin"] for m in maps if "admin.yaml" in (m.get("data") or {})]
    assert admin_clients and all(a["clientId"] == app["appId"] for a in admin_clients), admin_clients
    assert all(a["scopes"] == ["api://%s/.default" % app["appId"]] for a in admin_clients)
    secret = _secret(kube, namespace, "flyte-admin-secrets", "oidc_client_secret")
    assert secret == app["passwordCredentials"][0]["value"]
    _no_secret_in(result.stdout + result.stderr, entra.issued_secrets + [entra.admin_secret])
    again = run_playbook(harden, cluster.kubeconfig, extra, env=env)
    assert again.rc == 0 and again.changed() == 0, [(n, r.get("changes")) for n, r in again.tasks() if r.get("changed")]
