#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_idp_client
short_description: Register the Flyte clients in the identity provider (Keycloak)
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Ensures the registrations Flyte needs in the IdP. These are a confidential web client for the console and
    flyteadmin OIDC login (redirect C(<public_url>/callback)), and a public native client for flytectl (PKCE with
    S256, device flow, redirect C(http://localhost:53593/callback)). There is also a confidential client for
    flytepropeller (client credentials) and the client scopes C(all) and C(offline).
  - When Keycloak is Flyte's external authorization server (O(external_auth_server=true)), the C(all) scope gets an
    audience mapper, so access tokens carry C(aud) = O(public_url) and a C(scope) claim containing C(all).
  - The flytectl client accepts PKCE (S256) and the device authorization grant; see O(cli_require_pkce).
  - Existing clients are found by client id and updated in place when a managed field differs; none is ever
    created twice. Other fields are left as they are.
  - Client secrets go straight into the Kubernetes Secrets the auth work reads, and never into the result.
    They are C(flyte-admin-secrets) key C(oidc_client_secret) and C(flyte-secret-auth) key C(client_secret)
    (O(secrets_namespace)). O(rotate_secret) has Keycloak generate new ones.
  - The provider is C(keycloak). Okta and Microsoft Entra ID registrations are not implemented yet. Google OAuth
    clients cannot be automated; create them in the Google Cloud console and give their id and secret to the
    auth role.
  - Uses Ansible's own URL helpers, no SDK.
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
attributes:
  check_mode:
    support: full
    details: Reads Keycloak and the cluster and reports what would change; writes nothing.
  diff_mode:
    support: full
    details: The managed fields of each client before and after; secrets never appear.
options:
  provider:
    description: The identity provider.
    type: str
    choices: [keycloak]
    default: keycloak
  state:
    description: C(absent) deletes the three clients (scopes and realm stay).
    type: str
    choices: [present, absent]
    default: present
  url:
    description: Base URL of Keycloak (without C(/realms)); env C(KEYCLOAK_URL).
    type: str
    required: true
  admin_realm:
    description: Realm of the admin account.
    type: str
    default: master
  admin_username:
    description: Admin user (password grant with C(admin-cli)); env C(KEYCLOAK_ADMIN_USERNAME).
    type: str
  admin_password:
    description: Password of O(admin_username); env C(KEYCLOAK_ADMIN_PASSWORD).
    type: str
  admin_client_id:
    description: Admin client for the client-credentials grant instead of a user; env C(KEYCLOAK_ADMIN_CLIENT_ID).
    type: str
  admin_client_secret:
    description: Secret of O(admin_client_id); env C(KEYCLOAK_ADMIN_SECRET).
    type: str
  idp_validate_certs:
    description: Verify Keycloak's TLS certificate (O(validate_certs) is the Kubernetes API's).
    type: bool
    default: true
  realm:
    description: Realm of the Flyte clients.
    type: str
    default: flyte
  create_realm:
    description: Create O(realm) when missing (else a missing realm is an error).
    type: bool
    default: false
  public_url:
    description: Flyte's public URL (the console redirect base and, for an external authorization server, the token audience).
    type: str
    required: true
  external_auth_server:
    description: Keycloak issues the tokens flyteadmin checks (audience mapper on the C(all) scope).
    type: bool
    default: true
  web_client_id:
    description: Client id of the console / flyteadmin login client.
    type: str
    default: flyteadmin
  cli_client_id:
    description: Client id of the flytectl / pyflyte public client.
    type: str
    default: flytectl
  propeller_client_id:
    description: Client id of flytepropeller.
    type: str
    default: flytepropeller
  cli_require_pkce:
    description:
      - Make Keycloak require PKCE (S256) from the flytectl client. flytectl's C(Pkce) flow sends it anyway. But
        Keycloak then also demands it on the device flow, which flytectl's C(DeviceFlow) does not send, so the
        default leaves it optional.
    type: bool
    default: false
  logout_redirect_uri:
    description: Post-logout redirect URI of the web client.
    type: str
  rotate_secret:
    description: Have Keycloak generate new secrets for the confidential clients (and write them to the Secrets).
    type: bool
    default: false
  secrets_namespace:
    description: Namespace of the Kubernetes Secrets to write the client secrets to; omit to write none.
    type: str
"""

EXAMPLES = r"""
- name: Register Flyte in Keycloak and store the secrets in the cluster
  flytesec.hardening.flyte_idp_client:
    url: https://keycloak.example.com
    realm: flyte
    public_url: https://flyte.example.com
    secrets_namespace: flyte
  environment:
    KEYCLOAK_ADMIN_USERNAME: admin
    KEYCLOAK_ADMIN_PASSWORD: "{{ vault_keycloak_admin_password }}"
  register: idp

- name: Hand the issuer to the auth role
  ansible.builtin.set_fact:
    auth_oidc:
      base_url: "{{ idp.issuer_url }}"
      client_id: "{{ idp.client_ids.web }}"
"""

RETURN = r"""
issuer_url:
  description: The realm's issuer URL (give it to the auth role as C(oidc.base_url)).
  returned: always
  type: str
  sample: https://keycloak.example.com/realms/flyte
discovery_url:
  description: The OpenID discovery document of the realm.
  returned: always
  type: str
client_ids:
  description: Client ids, by role (C(web), C(cli), C(propeller)).
  returned: always
  type: dict
changes:
  description: What changed (or would), per object.
  returned: always
  type: list
  elements: str
secrets_written:
  description: Kubernetes Secret keys written with client secrets (never the values).
  returned: always
  type: list
  elements: str
"""

import base64

from ansible.module_utils.basic import env_fallback

from ansible_collections.flytesec.hardening.plugins.module_utils import idp_keycloak as kc
from ansible_collections.flytesec.hardening.plugins.module_utils import k8s as k8s_utils


SECRET_TARGETS = {"web": ("flyte-admin-secrets", "oidc_client_secret"), "propeller": ("flyte-secret-auth", "client_secret")}


def ensure_scopes(api, module, realm, desired, changes):
    existing = api.client_scopes(realm)
    for name, scope in sorted(desired.items()):
        current = existing.get(name)
        if current is None:
            changes.append("client scope %s: create" % name)
            if not module.check_mode:
                api.create_client_scope(realm, scope)
            continue
        have = set(m.get("name") for m in current.get("protocolMappers") or [])
        for mapper in scope["protocolMappers"]:
            if mapper["name"] not in have:
                changes.append("client scope %s: add mapper %s" % (name, mapper["name"]))
                if not module.check_mode:
                    api.add_scope_mapper(realm, current["id"], mapper)
    return api.client_scopes(realm) if not module.check_mode else existing


def write_secret(module, client, namespace, name, key, value):
    """Put ``value`` into Secret ``name`` key ``key`` (created if missing); True when it changed."""
    encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
    current = client.get("v1", "Secret", name, namespace)
    if current is not None and (current.get("data") or {}).get(key) == encoded:
        return False
    if current is None:
        client.create("v1", "Secret", {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                                       "metadata": {"name": name, "namespace": namespace},
                                       "data": {key: encoded}}, namespace)
    else:
        client.patch("v1", "Secret", name, namespace, {"data": {key: encoded}}, patch_type="merge")
    return True


def main():
    module = k8s_utils.new_module(
        argument_spec=dict(
            provider=dict(type="str", choices=["keycloak"], default="keycloak"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            url=dict(type="str", required=True, fallback=(env_fallback, ["KEYCLOAK_URL"])),
            admin_realm=dict(type="str", default="master"),
            admin_username=dict(type="str", fallback=(env_fallback, ["KEYCLOAK_ADMIN_USERNAME"])),
            admin_password=dict(type="str", no_log=True, fallback=(env_fallback, ["KEYCLOAK_ADMIN_PASSWORD"])),
            admin_client_id=dict(type="str", fallback=(env_fallback, ["KEYCLOAK_ADMIN_CLIENT_ID"])),
            admin_client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["KEYCLOAK_ADMIN_SECRET"])),
            idp_validate_certs=dict(type="bool", default=True),
            realm=dict(type="str", default="flyte"),
            create_realm=dict(type="bool", default=False),
            public_url=dict(type="str", required=True),
            external_auth_server=dict(type="bool", default=True),
            web_client_id=dict(type="str", default="flyteadmin"),
            cli_client_id=dict(type="str", default="flytectl"),
            propeller_client_id=dict(type="str", default="flytepropeller"),
            cli_require_pkce=dict(type="bool", default=False),
            logout_redirect_uri=dict(type="str"),
            rotate_secret=dict(type="bool", default=False),
            secrets_namespace=dict(type="str", no_log=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not (p["admin_client_secret"] or (p["admin_username"] and p["admin_password"])):
        module.fail_json(msg="admin_username and admin_password (or admin_client_id and admin_client_secret) are required; "
                             "they may come from KEYCLOAK_ADMIN_USERNAME / KEYCLOAK_ADMIN_PASSWORD")
    if not p["public_url"].startswith(("https://", "http://localhost", "http://127.0.0.1")):
        module.fail_json(msg="public_url: %r must be an https URL (http only for localhost)" % p["public_url"])
    base = p["url"].rstrip("/")
    issuer = "%s/realms/%s" % (base, p["realm"])
    desired = kc.desired_clients(p)
    result = dict(changed=False, issuer_url=issuer, discovery_url=issuer + "/.well-known/openid-configuration",
                  client_ids=dict((role, c["clientId"]) for role, c in desired.items()), changes=[], secrets_written=[])
    try:
        api = kc.KeycloakAPI(base, p["admin_realm"], p["admin_username"], p["admin_password"],
                             p["admin_client_id"] or "admin-cli", p["admin_client_secret"], p["idp_validate_certs"])
        if not api.realm(p["realm"]):
            if not p["create_realm"]:
                module.fail_json(msg="realm: %s does not exist in %s; set create_realm: true" % (p["realm"], base), **result)
            result["changes"].append("realm %s: create" % p["realm"])
            if module.check_mode:
                result["changed"] = True
                module.exit_json(**result)
            api.create_realm(p["realm"])
        realm = p["realm"]
        if p["state"] == "absent":
            for role, rep in sorted(desired.items()):
                found = api.find_client(realm, rep["clientId"])
                if found:
                    result["changes"].append("client %s: delete" % rep["clientId"])
                    if not module.check_mode:
                        api.delete_client(realm, found["id"])
            result["changed"] = bool(result["changes"])
            module.exit_json(**result)

        scopes = ensure_scopes(api, module, realm, kc.desired_scopes(p["public_url"].rstrip("/"), p["external_auth_server"]),
                               result["changes"])
        diffs = []
        secrets = {}
        for role, rep in sorted(desired.items()):
            found = api.find_client(realm, rep["clientId"])
            if found is None:
                result["changes"].append("client %s: create" % rep["clientId"])
                diffs.append(dict(before_header=rep["clientId"], after_header=rep["clientId"], before={},
                                  after=kc.public_view(rep)))
                if module.check_mode:
                    continue
                body = dict((k, v) for k, v in rep.items() if k not in ("defaultClientScopes", "optionalClientScopes"))
                found = api.create_client(realm, body)
            else:
                delta = kc.client_diff(found, rep)
                if delta:
                    result["changes"].append("client %s: update %s" % (rep["clientId"], ", ".join(sorted(delta))))
                    diffs.append(dict(before_header=rep["clientId"], after_header=rep["clientId"],
                                      before=dict((k, v[0]) for k, v in delta.items()),
                                      after=dict((k, v[1]) for k, v in delta.items())))
                    if not module.check_mode:
                        merged = dict(found)
                        merged.update(dict((k, v) for k, v in rep.items()
                                           if k not in ("attributes", "defaultClientScopes", "optionalClientScopes")))
                        merged["attributes"] = dict(found.get("attributes") or {}, **rep["attributes"])
                        api.update_client(realm, found["id"], merged)
            if module.check_mode:
                continue
            have_default = set(found.get("defaultClientScopes") or [])
            have_optional = set(found.get("optionalClientScopes") or [])
            for name in rep["defaultClientScopes"]:
                if name in SCOPE_NAMES and name not in have_default and name in scopes:
                    api.add_default_scope(realm, found["id"], scopes[name]["id"])
            for name in rep["optionalClientScopes"]:
                if name in SCOPE_NAMES and name not in have_optional and name in scopes:
                    api.add_default_scope(realm, found["id"], scopes[name]["id"], optional=True)
            if role in SECRET_TARGETS:
                if p["rotate_secret"]:
                    result["changes"].append("client %s: new secret" % rep["clientId"])
                    secrets[role] = api.regenerate_secret(realm, found["id"])
                else:
                    secrets[role] = api.client_secret(realm, found["id"])
        if p["secrets_namespace"] and secrets:
            k8s = k8s_utils.connect(module)
            for role, value in sorted(secrets.items()):
                if not value:
                    continue
                name, key = SECRET_TARGETS[role]
                if write_secret(module, k8s, p["secrets_namespace"], name, key, value):
                    result["secrets_written"].append("Secret/%s %s" % (name, key))
                    result["changes"].append("Secret %s/%s key %s: client secret of %s" % (
                        p["secrets_namespace"], name, key, desired[role]["clientId"]))
        result["changed"] = bool(result["changes"])
        if module._diff:
            result["diff"] = diffs
    except (kc.KeycloakError, k8s_utils.FlyteK8sError) as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


SCOPE_NAMES = set(kc.SCOPES)

if __name__ == "__main__":
    main()
