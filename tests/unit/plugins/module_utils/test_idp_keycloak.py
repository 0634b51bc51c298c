# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""idp_keycloak desired state and comparison."""
from ansible_collections.flytesec.hardening.plugins.module_utils.idp import keycloak as kc

PARAMS = {"public_url": "https://flyte.example.com/", "web_client_id": "flyteadmin", "cli_client_id": "flytectl",
          "propeller_client_id": "flytepropeller"}


def test_desired_clients():
    clients = kc.desired_clients(PARAMS)
    assert clients["web"]["redirectUris"] == ["https://flyte.example.com/callback"] and not clients["web"]["publicClient"]
    assert clients["cli"]["publicClient"] and "http://localhost:53593/callback" in clients["cli"]["redirectUris"]
    assert clients["cli"]["attributes"]["oauth2.device.authorization.grant.enabled"] == "true"
    assert clients["propeller"]["serviceAccountsEnabled"] and not clients["propeller"]["standardFlowEnabled"]


def test_audience_mapper_only_for_external_server():
    assert kc.desired_scopes("https://f.example.com", True)["all"]["protocolMappers"][0]["config"][
        "included.custom.audience"] == "https://f.example.com"
    assert kc.desired_scopes("https://f.example.com", False)["all"]["protocolMappers"] == []


def test_scp_claim_mapper_for_external_server():
    """flyteadmin checks the scp claim for ``all`` (claims_verifier.go); Keycloak only sets ``scope``."""
    mappers = dict((m["name"], m) for m in kc.desired_scopes("https://f.example.com", True)["all"]["protocolMappers"])
    assert mappers["flyte-scp"]["config"]["claim.name"] == "scp" and mappers["flyte-scp"]["config"]["claim.value"] == "all"
    assert mappers["flyte-scp"]["config"]["access.token.claim"] == "true"


def test_client_diff_ignores_unmanaged_fields_order_and_empty_attributes():
    want = kc.desired_clients(PARAMS)["cli"]
    have = dict(want, id="abc", redirectUris=list(reversed(want["redirectUris"])), attributes={
        "oauth2.device.authorization.grant.enabled": "true", "other": "x"}, defaultClientScopes=["all", "offline", "profile"])
    assert kc.client_diff(have, want) == {}
    have["publicClient"] = False
    assert list(kc.client_diff(have, want)) == ["publicClient"]


def test_public_view_drops_the_secret():
    assert "secret" not in kc.public_view({"clientId": "x", "secret": "s"})
