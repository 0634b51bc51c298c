# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""FAKES of the Okta management API and of Microsoft Entra ID (token endpoint + Microsoft Graph).

Okta and Entra ID cannot run on this machine, so these are local HTTP fakes on 127.0.0.1, named as
fakes. They implement only the documented endpoints flyte_idp_client calls, keep their objects in
memory, record every request (method, path, query, JSON body), and reject a request whose shape
differs from the documented one with HTTP 400 and the reason (which then fails the module, and so
the test). They do not pretend to issue usable tokens for Flyte.

Documented shapes followed:
- Okta: ``Authorization: SSWS <token>``; /api/v1/authorizationServers (name, audiences), its /scopes,
  /policies (type OAUTH_AUTHORIZATION_POLICY, conditions.clients.include) and /policies/{id}/rules
  (type RESOURCE_ACCESS, conditions.grantTypes/scopes/people, actions.token); /api/v1/apps (name
  oidc_client, signOnMode OPENID_CONNECT, credentials.oauthClient.token_endpoint_auth_method,
  settings.oauthClient.{application_type, grant_types, response_types, redirect_uris}); the client
  secret only in the create answer and in POST /apps/{id}/credentials/secrets; q= matches the start
  of a name or label; an app must be deactivated before DELETE.
- Entra ID: POST /{tenant}/oauth2/v2.0/token (client_credentials, scope <graph>/.default); Graph
  /v1.0/applications (displayName required; $filter=displayName eq '...'), PATCH, addPassword
  (passwordCredential.displayName/endDateTime; secretText returned once, never listed),
  removePassword (keyId), /v1.0/servicePrincipals (appId).
"""
from __future__ import absolute_import, division, print_function

import json
import re
import secrets
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

__metaclass__ = type


class ShapeError(Exception):
    pass


def need(cond, why):
    if not cond:
        raise ShapeError(why)


class FakeServer(object):
    """An HTTP server on 127.0.0.1 that hands each request to ``self.handle``; records all requests."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                record = {"method": self.command, "path": unquote(parts.path), "query": parse_qs(parts.query),
                          "headers": dict(self.headers), "raw": raw.decode("utf-8", "replace")}
                try:
                    ctype = self.headers.get("Content-Type") or ""
                    if raw and ctype.startswith("application/json"):
                        record["body"] = json.loads(raw)
                    elif raw:
                        record["form"] = dict((k, v[0]) for k, v in parse_qs(raw.decode()).items())
                    with fake.lock:
                        fake.requests.append(record)
                        status, answer = fake.handle(record)
                except ShapeError as exc:
                    status, answer = 400, {"errorSummary": "fake: bad request shape: %s" % exc}
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()

    def writes(self):
        """Requests that would change something (token requests are reads)."""
        return [r for r in self.requests if r["method"] != "GET" and not r["path"].endswith("/token")]

    def all_text(self):
        return "\n".join(r["raw"] for r in self.requests)


class OktaFake(FakeServer):
    """FAKE Okta org: management API below /api/v1, SSWS token auth."""

    def __init__(self, api_token):
        self.api_token = api_token
        self.servers, self.apps, self.app_secrets, self.app_groups = {}, {}, {}, {}
        self.issued_secrets = []
        super(OktaFake, self).__init__()

    def _id(self, prefix):
        return prefix + uuid.uuid4().hex[:16]

    def _secret(self):
        value = "okta-fake-" + secrets.token_urlsafe(24)
        self.issued_secrets.append(value)
        return value

    def add_app(self, label, kind="web"):
        """Put an app there directly (as if made in the console)."""
        app_id = self._id("0oa")
        self.apps[app_id] = {"id": app_id, "name": "oidc_client", "label": label, "status": "ACTIVE",
                             "signOnMode": "OPENID_CONNECT",
                             "credentials": {"oauthClient": {"client_id": app_id, "token_endpoint_auth_method": "client_secret_basic"}},
                             "settings": {"oauthClient": {"application_type": kind, "grant_types": ["authorization_code"],
                                                          "response_types": ["code"], "redirect_uris": []}}}
        self.app_secrets[app_id] = []
        return app_id

    @staticmethod
    def _check_app(body):
        need(body.get("name") == "oidc_client", "app name must be oidc_client")
        need(body.get("signOnMode") == "OPENID_CONNECT", "signOnMode must be OPENID_CONNECT")
        need(body.get("label"), "label is required")
        oauth = (body.get("settings") or {}).get("oauthClient") or {}
        need(oauth.get("application_type") in ("web", "native", "service", "browser"), "settings.oauthClient.application_type")
        need(isinstance(oauth.get("grant_types"), list) and oauth["grant_types"], "settings.oauthClient.grant_types")
        need(isinstance(oauth.get("response_types"), list), "settings.oauthClient.response_types")
        method = ((body.get("credentials") or {}).get("oauthClient") or {}).get("token_endpoint_auth_method")
        need(method in ("client_secret_basic", "client_secret_post", "none", "private_key_jwt"),
             "credentials.oauthClient.token_endpoint_auth_method")
        if oauth["application_type"] == "service":
            need(oauth["grant_types"] == ["client_credentials"], "a service app has only client_credentials")
        if oauth["application_type"] == "native":
            need(method == "none", "a public native app has token_endpoint_auth_method none")
        if "authorization_code" in oauth["grant_types"]:
            need(oauth.get("redirect_uris"), "authorization_code needs redirect_uris")

    def handle(self, r):
        if r["headers"].get("Authorization") != "SSWS %s" % self.api_token:
            return 401, {"errorCode": "E0000011", "errorSummary": "Invalid token provided"}
        path, method, body = r["path"], r["method"], r.get("body")
        need(path.startswith("/api/v1/"), "path below /api/v1")
        parts = path[len("/api/v1/"):].strip("/").split("/")
        q = (r["query"].get("q") or [""])[0]
        if parts[0] == "authorizationServers":
            if len(parts) == 1:
                if method == "GET":
                    return 200, [s["obj"] for s in self.servers.values() if s["obj"]["name"].startswith(q)]
                need(method == "POST", "POST")
                need(body.get("name") and isinstance(body.get("audiences"), list) and len(body["audiences"]) == 1,
                     "authorization server needs name and one audience")
                sid = self._id("aus")
                obj = dict(body, id=sid, status="ACTIVE", issuer="%s/oauth2/%s" % (self.url, sid))
                self.servers[sid] = {"obj": obj, "scopes": {}, "policies": {}}
                return 200, obj
            server = self.servers.get(parts[1])
            if server is None:
                return 404, {"errorCode": "E0000007"}
            if len(parts) == 2:
                if method == "PUT":
                    need(body.get("name") and body.get("audiences"), "PUT needs the whole object")
                    server["obj"].update(body)
                return 200, server["obj"]
            if parts[2] == "scopes":
                if len(parts) == 3 and method == "GET":
                    return 200, list(server["scopes"].values())
                if len(parts) == 3:
                    need(re.match(r"^[a-z_]+$", body.get("name") or ""), "scope name")
                    need(body.get("consent") in ("REQUIRED", "IMPLICIT", "FLEXIBLE"), "scope consent")
                    need(body.get("metadataPublish") in ("ALL_CLIENTS", "NO_CLIENTS"), "scope metadataPublish")
                    obj = dict(body, id=self._id("scp"), system=False)
                    server["scopes"][obj["id"]] = obj
                    return 201, obj
                server["scopes"][parts[3]].update(body)
                return 200, server["scopes"][parts[3]]
            if parts[2] == "policies":
                if len(parts) == 3 and method == "GET":
                    return 200, [p["obj"] for p in server["policies"].values()]
                if len(parts) == 3:
                    need(body.get("type") == "OAUTH_AUTHORIZATION_POLICY", "policy type")
                    need(body["conditions"]["clients"]["include"], "policy conditions.clients.include")
                    obj = dict(body, id=self._id("00p"))
                    server["policies"][obj["id"]] = {"obj": obj, "rules": {}}
                    return 201, obj
                policy = server["policies"][parts[3]]
                if len(parts) == 4:
                    policy["obj"].update(body)
                    return 200, policy["obj"]
                if len(parts) == 5 and method == "GET":
                    return 200, list(policy["rules"].values())
                if len(parts) == 5:
                    need(body.get("type") == "RESOURCE_ACCESS", "rule type")
                    need(body["conditions"]["grantTypes"]["include"] and body["conditions"]["scopes"]["include"],
                         "rule grantTypes and scopes")
                    need("token" in body.get("actions", {}), "rule actions.token")
                    obj = dict(body, id=self._id("0pr"))
                    policy["rules"][obj["id"]] = obj
                    return 201, obj
                policy["rules"][parts[5]].update(body)
                return 200, policy["rules"][parts[5]]
        if parts[0] == "apps":
            if len(parts) == 1 and method == "GET":
                return 200, [a for a in self.apps.values() if a["label"].startswith(q) or a["name"].startswith(q)]
            if len(parts) == 1:
                need(method == "POST", "POST /apps")
                self._check_app(body)
                app_id = self._id("0oa")
                app = json.loads(json.dumps(body))
                app.update(id=app_id, status="ACTIVE" if r["query"].get("activate", ["true"])[0] == "true" else "INACTIVE")
                app["credentials"]["oauthClient"]["client_id"] = app_id
                self.apps[app_id] = app
                self.app_secrets[app_id] = []
                answer = json.loads(json.dumps(app))
                if app["credentials"]["oauthClient"]["token_endpoint_auth_method"] != "none":
                    value = self._secret()
                    self.app_secrets[app_id].append({"id": self._id("ocs"), "status": "ACTIVE", "value": value})
                    answer["credentials"]["oauthClient"]["client_secret"] = value
                return 200, answer
            app = self.apps.get(parts[1])
            if app is None:
                return 404, {"errorCode": "E0000007"}
            if len(parts) == 2 and method == "PUT":
                self._check_app(body)
                need("client_secret" not in body["credentials"]["oauthClient"], "no secret in PUT")
                app.update(json.loads(json.dumps(body)))
                return 200, app
            if len(parts) == 2 and method == "DELETE":
                need(app["status"] == "INACTIVE", "an app must be deactivated before it is deleted")
                del self.apps[parts[1]]
                return 204, None
            if len(parts) == 2:
                return 200, app
            if parts[2:] == ["lifecycle", "deactivate"]:
                app["status"] = "INACTIVE"
                return 200, {}
            if parts[2] == "groups":
                groups = self.app_groups.setdefault(app["id"], set())
                if method == "GET":
                    return (200, {"id": parts[3]}) if parts[3] in groups else (404, {"errorCode": "E0000007"})
                groups.add(parts[3])
                return 200, {"id": parts[3]}
            if parts[2:4] == ["credentials", "secrets"]:
                items = self.app_secrets[app["id"]]
                if len(parts) == 4 and method == "GET":
                    return 200, [{"id": s["id"], "status": s["status"], "secret_hash": "x"} for s in items]
                if len(parts) == 4:
                    need(len([s for s in items if s["status"] == "ACTIVE"]) < 2, "Okta allows two active secrets")
                    value = self._secret()
                    item = {"id": self._id("ocs"), "status": "ACTIVE", "value": value}
                    items.append(item)
                    return 201, {"id": item["id"], "status": "ACTIVE", "client_secret": value}
                item = [s for s in items if s["id"] == parts[4]][0]
                if parts[5:] == ["lifecycle", "deactivate"]:
                    item["status"] = "INACTIVE"
                    return 200, {"id": item["id"], "status": "INACTIVE"}
                need(method == "DELETE" and item["status"] == "INACTIVE", "only an inactive secret can be deleted")
                items.remove(item)
                return 204, None
        return 404, {"errorCode": "E0000022", "errorSummary": "fake: not implemented: %s %s" % (method, path)}

    def active_secrets(self, label):
        app = [a for a in self.apps.values() if a["label"] == label][0]
        return [s["value"] for s in self.app_secrets[app["id"]] if s["status"] == "ACTIVE"]


class EntraFake(FakeServer):
    """FAKE Microsoft Entra ID: the tenant's token endpoint and Microsoft Graph v1.0 (same port)."""

    def __init__(self, tenant, admin_id, admin_secret):
        self.tenant, self.admin_id, self.admin_secret = tenant, admin_id, admin_secret
        self.token = "entra-fake-token-" + secrets.token_hex(8)
        self.applications, self.service_principals = {}, {}
        self.issued_secrets = []
        super(EntraFake, self).__init__()

    def add_application(self, name):
        oid, app_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.applications[oid] = {"id": oid, "appId": app_id, "displayName": name, "identifierUris": [],
                                  "passwordCredentials": [], "api": {}, "web": {}, "publicClient": {}}
        return oid

    def _filter(self, items, r):
        expr = (r["query"].get("$filter") or [""])[0]
        match = re.match(r"^(\w+) eq '(.*)'$", expr)
        need(match, "$filter must be \"<property> eq '<value>'\"")
        prop, value = match.group(1), match.group(2).replace("''", "'")
        return [i for i in items if i.get(prop) == value]

    def handle(self, r):
        path, method, body = r["path"], r["method"], r.get("body")
        if path == "/%s/oauth2/v2.0/token" % self.tenant:
            form = r.get("form") or {}
            need(form.get("grant_type") == "client_credentials", "grant_type client_credentials")
            need(form.get("scope") == self.url + "/.default", "scope <graph>/.default")
            if form.get("client_id") != self.admin_id or form.get("client_secret") != self.admin_secret:
                return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
            return 200, {"token_type": "Bearer", "expires_in": 3599, "access_token": self.token}
        if r["headers"].get("Authorization") != "Bearer %s" % self.token:
            return 401, {"error": {"code": "InvalidAuthenticationToken"}}
        need(path.startswith("/v1.0/"), "Graph path below /v1.0")
        parts = path[len("/v1.0/"):].strip("/").split("/")
        if parts[0] == "applications":
            if len(parts) == 1 and method == "GET":
                return 200, {"value": self._public(self._filter(list(self.applications.values()), r))}
            if len(parts) == 1:
                need(body.get("displayName"), "displayName is required")
                need("passwordCredentials" not in body or not body["passwordCredentials"], "no secrets at create")
                for key in ("web", "publicClient"):
                    for uri in (body.get(key) or {}).get("redirectUris") or []:
                        need(uri.startswith("https://") or uri.startswith("http://localhost"),
                             "%s.redirectUris must be https (http only for localhost): %s" % (key, uri))
                oid, app_id = str(uuid.uuid4()), str(uuid.uuid4())
                app = dict(json.loads(json.dumps(body)), id=oid, appId=app_id, passwordCredentials=[])
                app.setdefault("identifierUris", [])
                app.setdefault("api", {})
                self.applications[oid] = app
                return 201, self._public([app])[0]
            app = self.applications.get(parts[1])
            if app is None:
                return 404, {"error": {"code": "Request_ResourceNotFound"}}
            if len(parts) == 2 and method == "PATCH":
                need(set(body) - set(["id", "appId", "passwordCredentials"]) == set(body), "read-only properties in PATCH")
                for uri in body.get("identifierUris") or []:
                    need(uri.startswith("api://"), "identifierUris must start with api://")
                if "api" in body:
                    scopes = dict((s["id"], s) for s in (app.get("api") or {}).get("oauth2PermissionScopes") or [])
                    scopes.update(dict((s["id"], s) for s in (body["api"].get("oauth2PermissionScopes") or [])))
                    for pre in body["api"].get("preAuthorizedApplications") or []:
                        for sid in pre["delegatedPermissionIds"]:
                            need(sid in scopes, "preAuthorizedApplications names an unknown scope id")
                    for scope in body["api"].get("oauth2PermissionScopes") or []:
                        need(scope.get("type") in ("Admin", "User") and scope.get("value") and scope.get("id"),
                             "oauth2PermissionScopes need id, value and type")
                    app["api"] = dict(app.get("api") or {}, **body["api"])
                app.update(dict((k, v) for k, v in body.items() if k != "api"))
                return 204, None
            if len(parts) == 2 and method == "DELETE":
                del self.applications[parts[1]]
                return 204, None
            if len(parts) == 2:
                return 200, self._public([app])[0]
            if parts[2] == "addPassword":
                cred = body.get("passwordCredential") or {}
                need(cred.get("displayName") and cred.get("endDateTime"), "passwordCredential.displayName and endDateTime")
                value = "entra-fake-" + secrets.token_urlsafe(24)
                self.issued_secrets.append(value)
                item = {"keyId": str(uuid.uuid4()), "displayName": cred["displayName"], "endDateTime": cred["endDateTime"],
                        "hint": value[:3], "value": value}
                app["passwordCredentials"].append(item)
                return 200, dict((k, v) for k, v in item.items() if k != "value") | {"secretText": value}
            if parts[2] == "removePassword":
                need(body.get("keyId"), "keyId")
                app["passwordCredentials"] = [c for c in app["passwordCredentials"] if c["keyId"] != body["keyId"]]
                return 204, None
        if parts[0] == "servicePrincipals":
            if method == "GET":
                return 200, {"value": self._filter(list(self.service_principals.values()), r)}
            need(body.get("appId") in [a["appId"] for a in self.applications.values()], "appId of an existing application")
            sp = {"id": str(uuid.uuid4()), "appId": body["appId"]}
            self.service_principals[sp["id"]] = sp
            return 201, sp
        return 404, {"error": {"code": "fake: not implemented: %s %s" % (method, path)}}

    @staticmethod
    def _public(apps):
        """What Graph returns: passwordCredentials without the secret text."""
        out = []
        for app in apps:
            copy = json.loads(json.dumps(app))
            copy["passwordCredentials"] = [dict((k, v) for k, v in c.items() if k != "value") | {"secretText": None}
                                           for c in app["passwordCredentials"]]
            out.append(copy)
        return out

    def app(self, name):
        return [a for a in self.applications.values() if a["displayName"] == name]
