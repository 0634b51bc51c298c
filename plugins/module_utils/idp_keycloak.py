# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Flyte clients in Keycloak, through its admin REST API and Ansible's own URL helpers (no SDK).

Desired state (``desired_clients``, ``desired_scopes``) is plain data; ``KeycloakAPI`` fetches, compares
only the fields this collection manages (``client_diff``), and writes what differs. Secrets are never
part of a representation this module returns.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
from ansible.module_utils.urls import open_url

try:
    from ansible.module_utils.six.moves.urllib.error import HTTPError
except ImportError:  # pragma: no cover
    from urllib.error import HTTPError  # type: ignore

FLYTECTL_REDIRECT = "http://localhost:53593/callback"
SCOPES = ("all", "offline")


class KeycloakError(Exception):
    """A Keycloak API call failed; the message names the call and Keycloak's answer."""


def desired_scopes(public_url, external):
    """Client scopes: ``all`` (with an audience mapper = the Flyte public URL when Keycloak issues Flyte's tokens) and ``offline``."""
    scopes = {}
    for name in SCOPES:
        scope = {"name": name, "protocol": "openid-connect",
                 "attributes": {"include.in.token.scope": "true", "display.on.consent.screen": "false"},
                 "protocolMappers": []}
        if name == "all" and external:
            scope["protocolMappers"].append({
                "name": "flyte-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                "config": {"included.custom.audience": public_url, "access.token.claim": "true",
                           "id.token.claim": "false", "introspection.token.claim": "true"}})
        scopes[name] = scope
    return scopes


def desired_clients(params):
    """The three Flyte clients: console/flyteadmin login (confidential), flytectl (public), flytepropeller (confidential)."""
    public = params["public_url"].rstrip("/")
    web = {"clientId": params["web_client_id"], "name": "Flyte console", "protocol": "openid-connect",
           "publicClient": False, "standardFlowEnabled": True, "directAccessGrantsEnabled": False,
           "serviceAccountsEnabled": False, "implicitFlowEnabled": False,
           "redirectUris": [public + "/callback"], "webOrigins": ["+"],
           "attributes": {"post.logout.redirect.uris": params.get("logout_redirect_uri") or public + "/logout"},
           "defaultClientScopes": [], "optionalClientScopes": list(SCOPES)}
    cli = {"clientId": params["cli_client_id"], "name": "flytectl and pyflyte", "protocol": "openid-connect",
           "publicClient": True, "standardFlowEnabled": True, "directAccessGrantsEnabled": False,
           "serviceAccountsEnabled": False, "implicitFlowEnabled": False,
           "redirectUris": [FLYTECTL_REDIRECT, "http://localhost:12345/callback"], "webOrigins": [],
           "attributes": {"pkce.code.challenge.method": "S256" if params.get("cli_require_pkce") else "",
                          "oauth2.device.authorization.grant.enabled": "true"},
           "defaultClientScopes": list(SCOPES), "optionalClientScopes": []}
    propeller = {"clientId": params["propeller_client_id"], "name": "flytepropeller", "protocol": "openid-connect",
                 "publicClient": False, "standardFlowEnabled": False, "directAccessGrantsEnabled": False,
                 "serviceAccountsEnabled": True, "implicitFlowEnabled": False, "redirectUris": [], "webOrigins": [],
                 "attributes": {}, "defaultClientScopes": list(SCOPES), "optionalClientScopes": []}
    return {"web": web, "cli": cli, "propeller": propeller}


MANAGED_FIELDS = ("name", "protocol", "publicClient", "standardFlowEnabled", "directAccessGrantsEnabled",
                  "serviceAccountsEnabled", "implicitFlowEnabled", "redirectUris", "webOrigins")


def client_diff(current, desired):
    """The managed fields (and attributes, default/optional scopes) that differ: ``{field: (current, desired)}``."""
    changes = {}
    for field in MANAGED_FIELDS:
        have, want = current.get(field), desired.get(field)
        if isinstance(want, list):
            have = sorted(have or [])
            want = sorted(want)
        if have != want:
            changes[field] = (current.get(field), desired.get(field))
    attrs = current.get("attributes") or {}
    for key, value in (desired.get("attributes") or {}).items():
        if (attrs.get(key) or "") != (value or ""):  # Keycloak drops empty attributes
            changes["attributes.%s" % key] = (attrs.get(key), value)
    for field in ("defaultClientScopes", "optionalClientScopes"):
        missing = sorted(set(desired.get(field) or []) - set(current.get(field) or []))
        if missing:
            changes[field] = (sorted(current.get(field) or []), sorted(set(current.get(field) or []) | set(missing)))
    return changes


def public_view(client):
    """A client representation without its secret, for results and diffs."""
    return dict((k, v) for k, v in (client or {}).items() if k not in ("secret", "registrationAccessToken"))


class KeycloakAPI(object):
    """Admin REST API of one Keycloak server."""

    def __init__(self, base_url, admin_realm="master", username=None, password=None, client_id="admin-cli",
                 client_secret=None, validate_certs=True, timeout=30):
        self.base = base_url.rstrip("/")
        self.validate_certs = validate_certs
        self.timeout = timeout
        form = {"client_id": client_id}
        if client_secret:
            form.update(grant_type="client_credentials", client_secret=client_secret)
        else:
            form.update(grant_type="password", username=username or "", password=password or "")
        token_url = "%s/realms/%s/protocol/openid-connect/token" % (self.base, quote(admin_realm))
        try:
            answer = open_url(token_url, method="POST", data=urlencode(form), validate_certs=validate_certs,
                              timeout=timeout, headers={"Content-Type": "application/x-www-form-urlencoded"})
            self.token = json.loads(answer.read())["access_token"]
        except HTTPError as exc:
            raise KeycloakError("cannot log in to %s as the admin (%s): HTTP %s" % (token_url, form["grant_type"], exc.code))
        except Exception as exc:  # pylint: disable=broad-except
            raise KeycloakError("cannot reach Keycloak at %s: %s" % (token_url, exc))

    def call(self, method, path, body=None, ok=(200, 201, 204), missing=None):
        url = "%s/admin/realms%s" % (self.base, path)
        headers = {"Authorization": "Bearer %s" % self.token, "Content-Type": "application/json"}
        try:
            answer = open_url(url, method=method, data=json.dumps(body) if body is not None else None,
                              headers=headers, validate_certs=self.validate_certs, timeout=self.timeout)
            text = answer.read()
            return json.loads(text) if text else None
        except HTTPError as exc:
            if exc.code == 404 and missing is not None:
                return missing
            detail = ""
            try:
                detail = exc.read().decode("utf-8", "replace")[:300]
            except Exception:  # pylint: disable=broad-except
                pass
            raise KeycloakError("%s %s failed: HTTP %s %s" % (method, path, exc.code, detail))

    # realms and scopes
    def realm(self, realm):
        return self.call("GET", "/%s" % quote(realm), missing=False)

    def create_realm(self, realm):
        self.call("POST", "", {"realm": realm, "enabled": True})

    def client_scopes(self, realm):
        return dict((s["name"], s) for s in self.call("GET", "/%s/client-scopes" % quote(realm)) or [])

    def create_client_scope(self, realm, scope):
        self.call("POST", "/%s/client-scopes" % quote(realm), scope)

    def add_scope_mapper(self, realm, scope_id, mapper):
        self.call("POST", "/%s/client-scopes/%s/protocol-mappers/models" % (quote(realm), scope_id), mapper)

    # clients
    def find_client(self, realm, client_id):
        found = self.call("GET", "/%s/clients?clientId=%s" % (quote(realm), quote(client_id))) or []
        return found[0] if found else None

    def create_client(self, realm, rep):
        self.call("POST", "/%s/clients" % quote(realm), rep)
        return self.find_client(realm, rep["clientId"])

    def update_client(self, realm, uuid, rep):
        self.call("PUT", "/%s/clients/%s" % (quote(realm), uuid), rep)

    def delete_client(self, realm, uuid):
        self.call("DELETE", "/%s/clients/%s" % (quote(realm), uuid))

    def client_secret(self, realm, uuid):
        return (self.call("GET", "/%s/clients/%s/client-secret" % (quote(realm), uuid)) or {}).get("value")

    def regenerate_secret(self, realm, uuid):
        return (self.call("POST", "/%s/clients/%s/client-secret" % (quote(realm), uuid)) or {}).get("value")

    def add_default_scope(self, realm, uuid, scope_id, optional=False):
        kind = "optional-client-scopes" if optional else "default-client-scopes"
        self.call("PUT", "/%s/clients/%s/%s/%s" % (quote(realm), uuid, kind, scope_id))
