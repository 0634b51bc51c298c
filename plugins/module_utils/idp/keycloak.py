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

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.flytesec.hardening.plugins.module_utils.idp.common import FLYTECTL_REDIRECTS, Registration, SECRET_TARGETS
from ansible_collections.flytesec.hardening.plugins.module_utils.idp.http import IdpError, JsonAPI, token

SCOPES = ("all", "offline")


KeycloakError = IdpError


def desired_scopes(public_url, external):
    """Client scopes: ``all`` (when Keycloak issues Flyte's tokens: an audience mapper = the Flyte public URL, and the
    ``scp`` claim flyteadmin checks) and ``offline``."""
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
            # flyteadmin reads granted scopes from the ``scp`` claim, not Keycloak's ``scope`` string, and refuses a
            # client's token without ``all`` there ("authenticated user doesn't have required scope"; seen live).
            scope["protocolMappers"].append({
                "name": "flyte-scp", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
                "config": {"claim.name": "scp", "claim.value": "all", "jsonType.label": "String",
                           "access.token.claim": "true", "id.token.claim": "false", "userinfo.token.claim": "false",
                           "introspection.token.claim": "true"}})
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
           "redirectUris": list(FLYTECTL_REDIRECTS), "webOrigins": [],
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
        base = base_url.rstrip("/")
        form = {"client_id": client_id}
        if client_secret:
            form.update(grant_type="client_credentials", client_secret=client_secret)
        else:
            form.update(grant_type="password", username=username or "", password=password or "")
        access = token("%s/realms/%s/protocol/openid-connect/token" % (base, quote(admin_realm)), form,
                       validate_certs, timeout, what="the admin")
        self.api = JsonAPI(base + "/admin/realms", "Bearer %s" % access, validate_certs, timeout)

    def call(self, method, path, body=None, missing=None):
        return self.api.call(method, path, body, missing)

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


def _ensure_scopes(api, realm, desired, reg, check_mode):
    existing = api.client_scopes(realm)
    for name, scope in sorted(desired.items()):
        current = existing.get(name)
        if current is None:
            reg.change("client scope %s: create" % name)
            if not check_mode:
                api.create_client_scope(realm, scope)
            continue
        have = set(m.get("name") for m in current.get("protocolMappers") or [])
        for mapper in scope["protocolMappers"]:
            if mapper["name"] not in have:
                reg.change("client scope %s: add mapper %s" % (name, mapper["name"]))
                if not check_mode:
                    api.add_scope_mapper(realm, current["id"], mapper)
    return api.client_scopes(realm) if not check_mode else existing


def _ensure_client(api, realm, rep, reg, check_mode):
    found = api.find_client(realm, rep["clientId"])
    if found is None:
        reg.change("client %s: create" % rep["clientId"], rep["clientId"], {}, public_view(rep))
        if check_mode:
            return None
        body = dict((k, v) for k, v in rep.items() if k not in ("defaultClientScopes", "optionalClientScopes"))
        return api.create_client(realm, body)
    delta = client_diff(found, rep)
    if delta:
        reg.change("client %s: update %s" % (rep["clientId"], ", ".join(sorted(delta))), rep["clientId"],
                   dict((k, v[0]) for k, v in delta.items()), dict((k, v[1]) for k, v in delta.items()))
        if not check_mode:
            merged = dict(found)
            merged.update(dict((k, v) for k, v in rep.items()
                               if k not in ("attributes", "defaultClientScopes", "optionalClientScopes")))
            merged["attributes"] = dict(found.get("attributes") or {}, **rep["attributes"])
            api.update_client(realm, found["id"], merged)
    return found


def register(params, check_mode, secret_missing=None):
    """Ensure (or, for state absent, delete) the Flyte clients in one Keycloak realm; see idp_common."""
    p = params
    if not p.get("url"):
        raise IdpError("url: the Keycloak base URL is required (or KEYCLOAK_URL)")
    if not (p["admin_client_secret"] or (p["admin_username"] and p["admin_password"])):
        raise IdpError("admin_username and admin_password (or admin_client_id and admin_client_secret) are required; "
                       "they may come from KEYCLOAK_ADMIN_USERNAME / KEYCLOAK_ADMIN_PASSWORD")
    base = p["url"].rstrip("/")
    realm = p["realm"]
    desired = desired_clients(p)
    reg = Registration("%s/realms/%s" % (base, realm), dict((role, c["clientId"]) for role, c in desired.items()))
    reg.audience = p["public_url"].rstrip("/") if p["external_auth_server"] else None
    reg.scopes = list(SCOPES)
    reg.propeller_scopes = ["all"]
    api = KeycloakAPI(base, p["admin_realm"], p["admin_username"], p["admin_password"],
                      p["admin_client_id"] or "admin-cli", p["admin_client_secret"], p["idp_validate_certs"])
    if not api.realm(realm):
        if not p["create_realm"]:
            raise IdpError("realm: %s does not exist in %s; set create_realm: true" % (realm, base))
        reg.change("realm %s: create" % realm)
        if check_mode:
            return reg
        api.create_realm(realm)
    if p["state"] == "absent":
        for _role, rep in sorted(desired.items()):
            found = api.find_client(realm, rep["clientId"])
            if found:
                reg.change("client %s: delete" % rep["clientId"])
                if not check_mode:
                    api.delete_client(realm, found["id"])
        return reg
    scopes = _ensure_scopes(api, realm, desired_scopes(p["public_url"].rstrip("/"), p["external_auth_server"]), reg, check_mode)
    for role, rep in sorted(desired.items()):
        found = _ensure_client(api, realm, rep, reg, check_mode)
        if check_mode:
            continue
        for field, optional in (("defaultClientScopes", False), ("optionalClientScopes", True)):
            have = set(found.get(field) or [])
            for name in rep[field]:
                if name in SCOPES and name not in have and name in scopes:
                    api.add_default_scope(realm, found["id"], scopes[name]["id"], optional=optional)
        if role in SECRET_TARGETS:
            if p["rotate_secret"]:
                reg.change("client %s: new secret" % rep["clientId"])
                reg.secrets[role] = api.regenerate_secret(realm, found["id"])
            else:
                reg.secrets[role] = api.client_secret(realm, found["id"])
    return reg
