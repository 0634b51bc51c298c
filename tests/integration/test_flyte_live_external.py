# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flyte runs for real (issue 16), external authorization server: harden-flyte.yml registers the Flyte clients
in a real Keycloak and makes it flyteadmin's authorization server; the real flyteadmin v1.16.8 then accepts
Keycloak's token for flytepropeller and refuses one with another audience.
"""
from __future__ import absolute_import, division, print_function

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from flyte_live import harden_and_serve, login_redirect, request, secret_value

__metaclass__ = type

pytestmark = pytest.mark.integration

NS = "live-ext"
PUBLIC = "https://flyte-ext.example.test"


@pytest.fixture(scope="module")
def live(cluster, kube, keycloak, tmp_path_factory):
    extra = {"auth_server": "external", "auth_admin_client": {"scopes": ["all"]},
             "auth_external_auth_server": {"metadata_url": ".well-known/openid-configuration"},
             "auth_verify_discovery": True, "flytesec_pod_security": False}
    state = harden_and_serve(cluster, kube, keycloak, tmp_path_factory.mktemp("live-ext"), NS, PUBLIC, extra)
    state.keycloak = keycloak
    yield state
    state.close()


def _form(url, form, headers=None):
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _projects(token):
    return request("GET", "/api/v1/projects", headers={"Authorization": "Bearer %s" % token})


def test_keycloak_token_for_propeller_is_accepted(live):
    secret = secret_value(live.kube, NS, "flyte-secret-auth", "client_secret")
    status, answer = _form("%s/protocol/openid-connect/token" % live.issuer,
                           {"grant_type": "client_credentials", "client_id": "flytepropeller", "client_secret": secret,
                            "scope": "all"})   # as flytepropeller asks (admin.scopes)
    assert status == 200, answer
    status, _h, body = _projects(answer["access_token"])
    assert status == 200, body
    assert request("GET", "/api/v1/projects")[0] == 401


def test_token_with_another_audience_is_refused(live):
    """A client of the same realm without Flyte's audience: Keycloak issues a token, flyteadmin refuses it."""
    live.keycloak.admin("POST", "/%s/clients" % live.realm, {
        "clientId": "not-flyte", "secret": "not-flyte-secret-0123456789", "publicClient": False,
        "serviceAccountsEnabled": True, "standardFlowEnabled": False, "protocol": "openid-connect",
        # the scp claim flyteadmin wants, so that only the audience differs from flytepropeller's token
        "protocolMappers": [{"name": "scp", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
                             "config": {"claim.name": "scp", "claim.value": "all", "jsonType.label": "String",
                                        "access.token.claim": "true"}}]})
    status, answer = _form("%s/protocol/openid-connect/token" % live.issuer,
                           {"grant_type": "client_credentials", "client_id": "not-flyte",
                            "client_secret": "not-flyte-secret-0123456789"})
    assert status == 200, answer
    status, _h, body = _projects(answer["access_token"])
    assert status == 401 and "audience" in body, body


def test_login_redirects_to_keycloak(live):
    authorize, query = login_redirect()
    assert authorize == live.issuer + "/protocol/openid-connect/auth"
    assert query["client_id"] == ["flyteadmin"] and query["redirect_uri"] == [PUBLIC + "/callback"]


def test_metadata_is_keycloaks(live):
    status, _h, body = request("GET", "/.well-known/oauth-authorization-server")
    assert status == 200, body
    assert json.loads(body)["issuer"] == live.issuer
