# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Flyte registrations in Okta, through its management API (``/api/v1``, ``SSWS`` API token).

For an external authorization server: a custom authorization server whose audience is Flyte's public
URL, the scopes ``all`` and ``offline``, an access policy for all clients and a rule granting the
flows Flyte uses. Always: three OIDC app integrations, found by label (never created twice): the
console/flyteadmin web app, the flytectl native app (PKCE, device flow) and the flytepropeller service
app (client credentials). Okta shows a client secret only when it is made, so a secret is written to
the cluster when the app is created, on rotation, or when the Kubernetes Secret lacks it (then a new
one is made and the older ones are deactivated).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.six.moves.urllib.parse import quote

from ansible_collections.flytesec.hardening.plugins.module_utils.idp.common import (
    FLYTECTL_REDIRECTS, Registration, SECRET_TARGETS, field_diff)
from ansible_collections.flytesec.hardening.plugins.module_utils.idp.http import IdpError, JsonAPI

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
POLICY_NAME = "Flyte"
RULE_NAME = "Flyte clients"


def desired_apps(params):
    """The three app integrations by role, as Okta app objects (labels from the ``*_client_id`` options)."""
    public = params["public_url"].rstrip("/")

    def app(label, method, kind, grants, responses, redirects, logout=None, pkce=False):
        oauth = {"client_uri": public, "redirect_uris": redirects, "response_types": responses,
                 "grant_types": grants, "application_type": kind}
        if logout:
            oauth["post_logout_redirect_uris"] = [logout]
        credentials = {"token_endpoint_auth_method": method}
        if pkce:
            credentials["pkce_required"] = True
        return {"name": "oidc_client", "label": label, "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": credentials}, "settings": {"oauthClient": oauth}}

    return {
        "web": app(params["web_client_id"], "client_secret_basic", "web", ["authorization_code", "refresh_token"],
                   ["code"], [public + "/callback"], params.get("logout_redirect_uri") or public + "/logout"),
        "cli": app(params["cli_client_id"], "none", "native", ["authorization_code", "refresh_token", DEVICE_GRANT],
                   ["code"], list(FLYTECTL_REDIRECTS), pkce=True),
        "propeller": app(params["propeller_client_id"], "client_secret_basic", "service", ["client_credentials"],
                         ["token"], []),
    }


def desired_server(params):
    return {"name": params["okta_authorization_server"], "description": "Flyte (managed by flytesec.hardening)",
            "audiences": [params["public_url"].rstrip("/")]}


def desired_scopes():
    """``all`` (consent required, not published) and ``offline`` (published in the metadata)."""
    return {"all": {"name": "all", "description": "Flyte: all operations", "consent": "REQUIRED",
                    "metadataPublish": "NO_CLIENTS", "default": False},
            "offline": {"name": "offline", "description": "Flyte: refresh tokens", "consent": "REQUIRED",
                        "metadataPublish": "ALL_CLIENTS", "default": False}}


def desired_policy():
    return {"type": "OAUTH_AUTHORIZATION_POLICY", "status": "ACTIVE", "name": POLICY_NAME,
            "description": "Flyte clients (managed by flytesec.hardening)", "priority": 1,
            "conditions": {"clients": {"include": ["ALL_CLIENTS"]}}}


def desired_rule():
    return {"type": "RESOURCE_ACCESS", "status": "ACTIVE", "name": RULE_NAME, "priority": 1,
            "conditions": {"people": {"groups": {"include": ["EVERYONE"]}},
                           "grantTypes": {"include": ["authorization_code", DEVICE_GRANT, "client_credentials",
                                                      "refresh_token"]},
                           "scopes": {"include": ["*"]}},
            "actions": {"token": {"accessTokenLifetimeMinutes": 60, "refreshTokenLifetimeMinutes": 0,
                                  "refreshTokenWindowMinutes": 10080}}}


APP_FIELDS = ("label", "signOnMode", "credentials", "settings")


def _one(items, key, value, what):
    """The single item whose ``key`` equals ``value`` (None when there is none; an error when ambiguous)."""
    found = [i for i in items or [] if i.get(key) == value]
    if len(found) > 1:
        raise IdpError("%s: %d objects are named %r in Okta; remove the duplicates (ids %s) so the registration "
                       "is unambiguous" % (what, len(found), value, ", ".join(sorted(str(i.get("id")) for i in found))))
    return found[0] if found else None


def _merge(current, desired):
    merged = dict(current)
    for key, value in desired.items():
        merged[key] = _merge(current.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


class OktaAPI(object):
    def __init__(self, org_url, api_token, validate_certs=True, timeout=30):
        self.api = JsonAPI(org_url.rstrip("/") + "/api/v1", "SSWS %s" % api_token, validate_certs, timeout)

    def call(self, method, path, body=None, missing=None):
        return self.api.call(method, path, body, missing)


def _ensure(api, reg, check_mode, what, list_path, items, key, desired, fields, create_path=None):
    """Find by ``key``; create or update (PUT of the merged object) the managed ``fields``; return the object."""
    current = _one(items, key, desired[key], what)
    if current is None:
        reg.change("%s %s: create" % (what, desired[key]), "%s %s" % (what, desired[key]), {}, desired)
        return None if check_mode else api.call("POST", create_path or list_path, desired)
    delta = field_diff(current, desired, fields)
    if delta:
        reg.change("%s %s: update %s" % (what, desired[key], ", ".join(sorted(delta))), "%s %s" % (what, desired[key]),
                   dict((k, v[0]) for k, v in delta.items()), dict((k, v[1]) for k, v in delta.items()))
        if not check_mode:
            return api.call("PUT", "%s/%s" % (list_path, current["id"]), _merge(current, desired))
    return current


def _authorization_server(api, params, reg, check_mode):
    want = desired_server(params)
    servers = api.call("GET", "/authorizationServers?q=%s" % quote(want["name"])) or []
    server = _ensure(api, reg, check_mode, "authorization server", "/authorizationServers", servers, "name", want,
                     ("name", "description", "audiences"))
    if server is None:  # check mode, not there yet
        return None
    base = "/authorizationServers/%s" % server["id"]
    scopes = api.call("GET", base + "/scopes") or []
    for name, scope in sorted(desired_scopes().items()):
        _ensure(api, reg, check_mode, "scope", base + "/scopes", scopes, "name", scope,
                ("description", "consent", "metadataPublish", "default"))
    policies = api.call("GET", base + "/policies") or []
    policy = _ensure(api, reg, check_mode, "access policy", base + "/policies", policies, "name", desired_policy(),
                     ("type", "status", "description", "conditions"))
    if policy is not None:
        rules_path = "%s/policies/%s/rules" % (base, policy["id"])
        rules = api.call("GET", rules_path) or []
        _ensure(api, reg, check_mode, "policy rule", rules_path, rules, "name", desired_rule(),
                ("type", "status", "conditions", "actions"))
    return server


def _new_secret(api, app, reg, why, check_mode):
    """A new client secret for ``app``; the older ones are deactivated and deleted. None in check mode."""
    reg.change("app %s: new client secret (%s)" % (app["label"], why))
    if check_mode:
        return None
    path = "/apps/%s/credentials/secrets" % app["id"]
    old = api.call("GET", path) or []
    made = api.call("POST", path, {})
    for secret in old:
        if secret.get("status") == "ACTIVE":
            api.call("POST", "%s/%s/lifecycle/deactivate" % (path, secret["id"]))
        api.call("DELETE", "%s/%s" % (path, secret["id"]))
    return made.get("client_secret")


def register(params, check_mode, secret_missing=None):
    """Ensure (or, for state absent, delete) the Flyte registrations in one Okta org; see idp_common."""
    p = params
    if not p.get("url"):
        raise IdpError("url: the Okta org URL (https://<org>.okta.com) is required (or OKTA_ORG_URL)")
    if not p.get("okta_api_token"):
        raise IdpError("okta_api_token is required (or OKTA_API_TOKEN / OKTA_CLIENT_TOKEN)")
    org = p["url"].rstrip("/")
    api = OktaAPI(org, p["okta_api_token"], p["idp_validate_certs"])
    apps = desired_apps(p)
    reg = Registration("%s/oauth2/default" % org, {})
    reg.audience = p["public_url"].rstrip("/") if p["external_auth_server"] else "api://default"
    reg.scopes = ["all", "offline"]
    reg.propeller_scopes = ["all"]
    if p["state"] == "absent":
        for role, want in sorted(apps.items()):
            found = _one(api.call("GET", "/apps?q=%s" % quote(want["label"])), "label", want["label"], "app")
            if found:
                reg.change("app %s: delete" % want["label"])
                if not check_mode:
                    if found.get("status") == "ACTIVE":
                        api.call("POST", "/apps/%s/lifecycle/deactivate" % found["id"])
                    api.call("DELETE", "/apps/%s" % found["id"])
        return reg
    if p["external_auth_server"]:
        server = _authorization_server(api, p, reg, check_mode)
        if server is not None:
            reg.issuer = server.get("issuer") or "%s/oauth2/%s" % (org, server["id"])
        else:
            reg.issuer = "%s/oauth2/<new authorization server %s>" % (org, p["okta_authorization_server"])
        reg.discovery = reg.issuer + "/.well-known/openid-configuration"
    for role, want in sorted(apps.items()):
        listed = api.call("GET", "/apps?q=%s" % quote(want["label"])) or []
        existed = _one(listed, "label", want["label"], "app") is not None
        app = _ensure(api, reg, check_mode, "app", "/apps", listed, "label", want, APP_FIELDS,
                      create_path="/apps?activate=true")
        if app is None:
            reg.client_ids[role] = "<new app %s>" % want["label"]
            continue
        reg.client_ids[role] = app["credentials"]["oauthClient"]["client_id"]
        for group in p.get("okta_group_ids") or []:
            if role != "propeller" and api.call("GET", "/apps/%s/groups/%s" % (app["id"], quote(group)), missing=False) is False:
                reg.change("app %s: assign group %s" % (want["label"], group))
                if not check_mode:
                    api.call("PUT", "/apps/%s/groups/%s" % (app["id"], quote(group)), {})
        if role not in SECRET_TARGETS:
            continue
        if not existed:
            reg.secrets[role] = app["credentials"]["oauthClient"].get("client_secret")
        elif p["rotate_secret"]:
            reg.secrets[role] = _new_secret(api, app, reg, "rotate_secret", check_mode)
        elif secret_missing is not None and secret_missing(role):
            reg.secrets[role] = _new_secret(api, app, reg, "the Kubernetes Secret has none", check_mode)
    return reg
