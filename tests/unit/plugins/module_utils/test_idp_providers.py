# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure parts of the Okta and Entra ID providers: desired objects, diffs, scrubbing (the HTTP side is tested
against the fakes in tests/integration/test_idp_fakes.py)."""
from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.idp import common as idp_common
from ansible_collections.flytesec.hardening.plugins.module_utils.idp import entra as idp_entra
from ansible_collections.flytesec.hardening.plugins.module_utils.idp import google as idp_google
from ansible_collections.flytesec.hardening.plugins.module_utils.idp import okta as idp_okta
from ansible_collections.flytesec.hardening.plugins.module_utils.idp.http import IdpError

__metaclass__ = type

PARAMS = {"public_url": "https://flyte.example.com/", "web_client_id": "flyteadmin", "cli_client_id": "flytectl",
          "propeller_client_id": "flytepropeller", "logout_redirect_uri": None, "okta_authorization_server": "flyte",
          "entra_display_name": "Flyte", "entra_sign_in_audience": "AzureADMyOrg", "external_auth_server": True,
          "state": "present"}


def test_okta_apps_have_the_documented_kinds():
    apps = idp_okta.desired_apps(PARAMS)
    assert apps["web"]["settings"]["oauthClient"]["redirect_uris"] == ["https://flyte.example.com/callback"]
    assert apps["cli"]["credentials"]["oauthClient"] == {"token_endpoint_auth_method": "none", "pkce_required": True}
    assert idp_okta.DEVICE_GRANT in apps["cli"]["settings"]["oauthClient"]["grant_types"]
    assert apps["propeller"]["settings"]["oauthClient"]["grant_types"] == ["client_credentials"]
    assert idp_okta.desired_server(PARAMS)["audiences"] == ["https://flyte.example.com"]


def test_field_diff_compares_lists_as_sets_and_recurses():
    want = {"settings": {"oauthClient": {"redirect_uris": ["b", "a"], "application_type": "web"}}, "label": "x"}
    have = {"settings": {"oauthClient": {"redirect_uris": ["a", "b"], "application_type": "web", "other": 1}}, "label": "x"}
    assert idp_common.field_diff(have, want, ("settings", "label")) == {}
    have["settings"]["oauthClient"]["redirect_uris"] = ["a"]
    assert list(idp_common.field_diff(have, want, ("settings",))) == ["settings.oauthClient.redirect_uris"]


def test_scrub_removes_secrets_at_any_depth():
    value = {"credentials": {"oauthClient": {"client_secret": "s3cr3t", "client_id": "id"}}, "list": [{"secretText": "x"}]}
    assert "s3cr3t" not in repr(idp_common.scrub(value)) and "x'" not in repr(idp_common.scrub(value)["list"])


def test_entra_api_patch_is_empty_once_exposed():
    app = {"appId": "abc", "identifierUris": [], "api": {}}
    patch = idp_entra.api_patch(app, "access_flyte")
    assert patch["identifierUris"] == ["api://abc"]
    scope_id = patch["api"]["oauth2PermissionScopes"][0]["id"]
    assert patch["api"]["preAuthorizedApplications"] == [{"appId": "abc", "delegatedPermissionIds": [scope_id]}]
    app.update(identifierUris=["api://abc"], api=dict(patch["api"]))
    assert idp_entra.api_patch(app, "access_flyte") == {}


def test_google_takes_the_console_client_and_refuses_external():
    with pytest.raises(IdpError, match="external_auth_server"):
        idp_google.register(PARAMS, False)
    params = dict(PARAMS, external_auth_server=False, google_client_id="123.apps.googleusercontent.com",
                  google_client_secret="g-secret")
    reg = idp_google.register(params, False)
    assert reg.issuer == "https://accounts.google.com" and reg.secrets == {"web": "g-secret"}
    assert reg.discovery == "https://accounts.google.com/.well-known/openid-configuration"
