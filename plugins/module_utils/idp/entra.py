# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Flyte app registration in Microsoft Entra ID, through Microsoft Graph (``/v1.0``).

As in Flyte's Entra ID guide, one app registration serves the console/flyteadmin login (Web redirect
``<public_url>/callback``), flytectl (Mobile and desktop redirect, public client flows on, so the device
flow works) and flytepropeller (client credentials). It exposes an API (``api://<appId>``) with one
admin-consent scope, pre-authorizes itself for that scope, requests the Microsoft Graph delegated
permissions openid, email, profile, offline_access and User.Read, and has a service principal.

The registration is found by display name, never created twice (azure.azcollection's module does:
its issues 1264 and 1573); two registrations with that name are an error. Graph never returns a secret
again, so a new password credential is added when the app is created, on rotation, or when the
Kubernetes Secret lacks it; older credentials this collection made are then removed.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import uuid

from ansible.module_utils.six.moves.urllib.parse import quote, urlsplit

from ansible_collections.flytesec.hardening.plugins.module_utils.idp.common import (
    FLYTECTL_REDIRECTS, Registration, SECRET_TARGETS, field_diff)
from ansible_collections.flytesec.hardening.plugins.module_utils.idp.http import IdpError, JsonAPI, token

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Microsoft Graph delegated permission (scope) ids, as published in Graph's permissions reference.
GRAPH_SCOPES = {"openid": "37f7f235-527c-4136-accd-4a02d197296e", "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
                "profile": "14dad69e-099b-42c9-810b-d002981feec1",
                "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
                "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d"}
CREDENTIAL_NAME = "flytesec.hardening"
MANAGED = ("displayName", "signInAudience", "isFallbackPublicClient", "web", "publicClient")


def desired_app(params):
    """The app registration's managed properties, without the parts that need its appId."""
    public = params["public_url"].rstrip("/")
    return {"displayName": params["entra_display_name"], "signInAudience": params["entra_sign_in_audience"],
            "isFallbackPublicClient": True,
            "web": {"redirectUris": [public + "/callback"],
                    "logoutUrl": params.get("logout_redirect_uri") or public + "/logout",
                    "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False}},
            "publicClient": {"redirectUris": list(FLYTECTL_REDIRECTS)},
            "requiredResourceAccess": [{"resourceAppId": GRAPH_APP_ID,
                                        "resourceAccess": [{"id": i, "type": "Scope"} for _n, i in sorted(GRAPH_SCOPES.items())]}]}


def api_patch(app, scope_name):
    """The ``identifierUris`` and ``api`` properties (exposed scope, self pre-authorized) for ``app``, or {} when set."""
    app_id = app["appId"]
    api = app.get("api") or {}
    scopes = list(api.get("oauth2PermissionScopes") or [])
    scope = [s for s in scopes if s.get("value") == scope_name]
    patch = {}
    if "api://%s" % app_id not in (app.get("identifierUris") or []):
        patch["identifierUris"] = sorted(set(app.get("identifierUris") or []) | set(["api://%s" % app_id]))
    if scope:
        scope_id = scope[0]["id"]
    else:
        scope_id = str(uuid.uuid4())
        scopes.append({"id": scope_id, "value": scope_name, "type": "Admin", "isEnabled": True,
                       "adminConsentDisplayName": "Access Flyte",
                       "adminConsentDescription": "Use Flyte (flyteadmin) on behalf of the signed-in user.",
                       "userConsentDisplayName": None, "userConsentDescription": None})
    pre = list(api.get("preAuthorizedApplications") or [])
    mine = [a for a in pre if a.get("appId") == app_id]
    new_api = {}
    if not scope:
        new_api["oauth2PermissionScopes"] = scopes
    if not mine or scope_id not in (mine[0].get("delegatedPermissionIds") or []):
        pre = [a for a in pre if a.get("appId") != app_id] + [{"appId": app_id, "delegatedPermissionIds": [scope_id]}]
        new_api["preAuthorizedApplications"] = pre
    if api.get("requestedAccessTokenVersion") != 2:
        new_api["requestedAccessTokenVersion"] = 2
    if new_api:
        patch["api"] = new_api
    return patch


def _resource_access_missing(app, want):
    have = set()
    for entry in app.get("requiredResourceAccess") or []:
        if entry.get("resourceAppId") == GRAPH_APP_ID:
            have |= set(a.get("id") for a in entry.get("resourceAccess") or [])
    needed = set(a["id"] for a in want["requiredResourceAccess"][0]["resourceAccess"])
    return sorted(needed - have)


class GraphAPI(object):
    def __init__(self, params):
        graph = (params.get("url") or "https://graph.microsoft.com").rstrip("/")
        origin = "%s://%s" % urlsplit(graph)[:2]
        login = params["entra_login_url"].rstrip("/")
        access = token("%s/%s/oauth2/v2.0/token" % (login, quote(params["entra_tenant_id"])),
                       {"grant_type": "client_credentials", "client_id": params["entra_client_id"],
                        "client_secret": params["entra_client_secret"], "scope": origin + "/.default"},
                       params["idp_validate_certs"], what="the Entra admin application")
        self.api = JsonAPI(graph + "/v1.0", "Bearer %s" % access, params["idp_validate_certs"])

    def call(self, method, path, body=None, missing=None):
        return self.api.call(method, path, body, missing)

    def find(self, collection, prop, value):
        query = quote("%s eq '%s'" % (prop, value.replace("'", "''")))
        return (self.call("GET", "/%s?$filter=%s" % (collection, query)) or {}).get("value") or []


def _new_password(graph, app, reg, why, days, check_mode):
    reg.change("app %s: new client secret (%s)" % (app["displayName"], why))
    if check_mode:
        return None
    end = datetime.datetime.utcnow() + datetime.timedelta(days=days)
    made = graph.call("POST", "/applications/%s/addPassword" % app["id"],
                      {"passwordCredential": {"displayName": CREDENTIAL_NAME,
                                              "endDateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")}})
    for cred in app.get("passwordCredentials") or []:
        if cred.get("displayName") == CREDENTIAL_NAME and cred.get("keyId") != made.get("keyId"):
            graph.call("POST", "/applications/%s/removePassword" % app["id"], {"keyId": cred["keyId"]})
    return made.get("secretText")


def register(params, check_mode, secret_missing=None):
    """Ensure (or, for state absent, delete) the Flyte app registration in one Entra tenant; see idp_common."""
    p = params
    for option in ("entra_tenant_id", "entra_client_id", "entra_client_secret"):
        if not p.get(option):
            raise IdpError("%s is required for provider entra (or AZURE_TENANT_ID / AZURE_CLIENT_ID / "
                           "AZURE_CLIENT_SECRET)" % option)
    graph = GraphAPI(p)
    want = desired_app(p)
    login = p["entra_login_url"].rstrip("/")
    reg = Registration("%s/%s/v2.0" % (login, p["entra_tenant_id"]), {})
    found = graph.find("applications", "displayName", want["displayName"])
    if len(found) > 1:
        ids = ", ".join(sorted(a.get("appId", "?") for a in found))
        raise IdpError("entra_display_name: %d app registrations are named %r; remove the duplicates (appIds %s) so "
                       "the registration is unambiguous" % (len(found), want["displayName"], ids))
    app = found[0] if found else None
    if p["state"] == "absent":
        if app:
            reg.change("app registration %s: delete" % want["displayName"])
            if not check_mode:
                graph.call("DELETE", "/applications/%s" % app["id"])
        return reg
    header = "app registration %s" % want["displayName"]
    created = app is None
    if created:
        reg.change("%s: create" % header, header, {}, want)
        if check_mode:
            reg.client_ids = dict((role, "<new app %s>" % want["displayName"]) for role in ("web", "cli", "propeller"))
            return reg
        app = graph.call("POST", "/applications", want)
    else:
        delta = field_diff(app, want, MANAGED)
        missing = _resource_access_missing(app, want)
        if missing:
            delta["requiredResourceAccess"] = (None, missing)
        if delta:
            reg.change("%s: update %s" % (header, ", ".join(sorted(delta))), header,
                       dict((k, v[0]) for k, v in delta.items()), dict((k, v[1]) for k, v in delta.items()))
            body = dict((k, want[k]) for k in MANAGED if any(d == k or d.startswith(k + ".") for d in delta))
            if missing:
                others = [e for e in app.get("requiredResourceAccess") or [] if e.get("resourceAppId") != GRAPH_APP_ID]
                body["requiredResourceAccess"] = others + want["requiredResourceAccess"]
            if not check_mode:
                graph.call("PATCH", "/applications/%s" % app["id"], body)
    patch = api_patch(app, p["entra_scope_name"])
    if patch:
        reg.change("%s: expose %s" % (header, ", ".join(sorted(patch))), header,
                   dict((k, app.get(k)) for k in patch), patch)
        if not check_mode:
            graph.call("PATCH", "/applications/%s" % app["id"], patch)
    app_id = app["appId"]
    reg.client_ids = {"web": app_id, "cli": app_id, "propeller": app_id}
    reg.audience = "api://%s" % app_id
    reg.scopes = ["api://%s/%s" % (app_id, p["entra_scope_name"])]
    reg.propeller_scopes = ["api://%s/.default" % app_id]
    if not graph.find("servicePrincipals", "appId", app_id):
        reg.change("service principal of %s: create" % app_id)
        if not check_mode:
            graph.call("POST", "/servicePrincipals", {"appId": app_id})
    why = None
    if created:
        why = "new app"
    elif p["rotate_secret"]:
        why = "rotate_secret"
    elif secret_missing is not None and any(secret_missing(role) for role in SECRET_TARGETS):
        why = "the Kubernetes Secret has none"
    if why:
        secret = _new_password(graph, app, reg, why, p["entra_secret_days"], check_mode)
        for role in SECRET_TARGETS:
            reg.secrets[role] = secret
    return reg
