#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_idp_client
short_description: Register the Flyte clients in the identity provider (Keycloak, Okta, Microsoft Entra ID)
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Ensures the registrations Flyte needs in the IdP. These are a confidential web client for the console and
    flyteadmin OIDC login (redirect C(<public_url>/callback)), and a public native client for flytectl (PKCE with
    S256, device flow, redirect C(http://localhost:53593/callback)). There is also a confidential client for
    flytepropeller (client credentials) and the client scopes C(all) and C(offline).
  - When Keycloak is Flyte's external authorization server (O(external_auth_server=true)), the C(all) scope gets an
    audience mapper, so access tokens carry C(aud) = O(public_url) and a C(scope) claim containing C(all), and a
    hard-coded C(scp) claim C(all) (flyteadmin reads granted scopes only from C(scp)).
  - The flytectl client accepts PKCE (S256) and the device authorization grant; see O(cli_require_pkce).
  - Existing clients are found by client id and updated in place when a managed field differs; none is ever
    created twice. Other fields are left as they are.
  - Client secrets go straight into the Kubernetes Secrets the auth work reads, and never into the result.
    They go where the Flyte install in O(secrets_namespace) reads them. For flyte-core that is C(flyte-admin-secrets) key
    C(oidc_client_secret) and C(flyte-secret-auth) key C(client_secret), for flyte-binary its release's
    C(<fullname>-client-secrets) (the same keys); flyte-core's names when no Flyte runs there yet.
    O(rotate_secret) has Keycloak generate new ones.
  - O(provider=keycloak) manages a realm's clients, the client scopes C(all) and C(offline) and the audience mapper.
  - O(provider=okta) manages, through the management API, a custom authorization server whose audience is
    O(public_url). It also manages its scopes C(all) and C(offline), an access policy for all clients with one
    rule, and three OIDC app integrations (web, native with PKCE and device flow, service with client
    credentials), found by label.
  - O(provider=entra) manages one app registration, as in Flyte's Entra ID guide, through Microsoft Graph. It
    has Web and Mobile and desktop redirect URIs, public client flows, an exposed API C(api://<appId>) with the
    scope O(entra_scope_name), the Microsoft Graph delegated permissions (openid, email, profile,
    offline_access, User.Read) and a service principal. It is found by display name. An administrator still
    grants admin consent.
  - Okta and Entra ID never show a client secret again. A secret is written to the cluster when the app is
    created, on O(rotate_secret), or when the Kubernetes Secret lacks it. In that last case a new one is made
    and the older ones this collection made are removed.
  - O(provider=google) cannot be automated (Google OAuth clients are created in the Google Cloud console, see
    the collection's docs/idp-google.md). It takes O(google_client_id) and O(google_client_secret) and writes
    the secret like the others.
  - Two objects with the name this module looks for are an error naming both ids, never a reason to create a third.
  - Uses Ansible's own URL helpers, no SDK.
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
  - flytesec.hardening.backup
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
    choices: [keycloak, okta, entra, google]
    default: keycloak
  state:
    description: C(absent) deletes the clients or apps (Keycloak scopes and realm, the Okta authorization server stay).
    type: str
    choices: [present, absent]
    default: present
  url:
    description:
      - Keycloak, the base URL (without C(/realms)). Okta, the org URL (C(https://<org>.okta.com)). Entra ID, the
        Microsoft Graph base URL (default C(https://graph.microsoft.com)).
      - When unset, env C(FLYTESEC_IDP_URL), else C(KEYCLOAK_URL) (Keycloak) or C(OKTA_ORG_URL) (Okta).
    type: str
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
  okta_api_token:
    description: Okta API token (C(SSWS)); env C(OKTA_API_TOKEN) or C(OKTA_CLIENT_TOKEN).
    type: str
  okta_authorization_server:
    description: Name of the Okta custom authorization server (O(external_auth_server=true)).
    type: str
    default: flyte
  okta_group_ids:
    description: Okta group ids to assign the web and flytectl apps to.
    type: list
    elements: str
    default: []
  entra_tenant_id:
    description: Directory (tenant) id; env C(AZURE_TENANT_ID).
    type: str
  entra_client_id:
    description: Application id of the admin application (Application.ReadWrite.All); env C(AZURE_CLIENT_ID).
    type: str
  entra_client_secret:
    description: Secret of O(entra_client_id); env C(AZURE_CLIENT_SECRET).
    type: str
  entra_login_url:
    description: Microsoft identity platform base URL.
    type: str
    default: https://login.microsoftonline.com
  entra_display_name:
    description: Display name of the Flyte app registration (how it is found).
    type: str
    default: Flyte
  entra_sign_in_audience:
    description: Who may sign in.
    type: str
    choices: [AzureADMyOrg, AzureADMultipleOrgs]
    default: AzureADMyOrg
  entra_scope_name:
    description: Name of the scope the app exposes (C(api://<appId>/<name>)).
    type: str
    default: access_flyte
  entra_secret_days:
    description: Lifetime in days of a new client secret.
    type: int
    default: 180
  google_client_id:
    description: Client id of the OAuth client created in the Google Cloud console.
    type: str
  google_client_secret:
    description: Its secret; env C(GOOGLE_OAUTH_CLIENT_SECRET).
    type: str
  idp_validate_certs:
    description: Verify Keycloak's TLS certificate (O(validate_certs) is the Kubernetes API's).
    type: bool
    default: true
  realm:
    description: Realm of the Flyte clients (Keycloak).
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
    description:
      - The IdP issues the tokens flyteadmin checks. Keycloak, an audience mapper on the C(all) scope. Okta, a custom
        authorization server. Entra ID always exposes an API.
    type: bool
    default: true
  web_client_id:
    description: Client id of the console / flyteadmin login client (Okta, the app label).
    type: str
    default: flyteadmin
  cli_client_id:
    description: Client id of the flytectl / pyflyte public client (Okta, the app label).
    type: str
    default: flytectl
  propeller_client_id:
    description: Client id of flytepropeller (Okta, the app label).
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
    description: Have the IdP generate new secrets for the confidential clients (and write them to the Secrets).
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

- name: Register Flyte in Okta (custom authorization server, three app integrations)
  flytesec.hardening.flyte_idp_client:
    provider: okta
    url: https://dev-123456.okta.com
    public_url: https://flyte.example.com
    secrets_namespace: flyte
  environment:
    OKTA_API_TOKEN: "{{ vault_okta_api_token }}"

- name: Register Flyte in Microsoft Entra ID (one app registration)
  flytesec.hardening.flyte_idp_client:
    provider: entra
    entra_tenant_id: 00000000-0000-0000-0000-000000000000
    public_url: https://flyte.example.com
    secrets_namespace: flyte
  environment:
    AZURE_CLIENT_ID: "{{ vault_entra_admin_app_id }}"
    AZURE_CLIENT_SECRET: "{{ vault_entra_admin_secret }}"
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
  description: Client ids, by role (C(web), C(cli), C(propeller)); Entra ID uses one app id for all three.
  returned: always
  type: dict
audience:
  description: The audience of Flyte's access tokens (C(AllowedAudience) for an external authorization server).
  returned: always
  type: str
scopes:
  description: The scopes flytectl asks for.
  returned: always
  type: list
  elements: str
propeller_scopes:
  description: The scopes flytepropeller asks for with its client credentials.
  returned: always
  type: list
  elements: str
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
import os

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, keeps pylint quiet
    from urlparse import urlsplit  # type: ignore

from ansible.module_utils.basic import env_fallback

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import config as flyte_config
from ansible_collections.flytesec.hardening.plugins.module_utils.idp import entra as idp_entra
from ansible_collections.flytesec.hardening.plugins.module_utils.idp import google as idp_google
from ansible_collections.flytesec.hardening.plugins.module_utils.idp import keycloak as idp_keycloak
from ansible_collections.flytesec.hardening.plugins.module_utils.idp import okta as idp_okta
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils import inputs
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils.idp.common import SECRET_TARGETS
from ansible_collections.flytesec.hardening.plugins.module_utils.idp.http import IdpError

URL_ENV = {"keycloak": "KEYCLOAK_URL", "okta": "OKTA_ORG_URL"}
PROVIDERS = {"keycloak": idp_keycloak, "okta": idp_okta, "entra": idp_entra, "google": idp_google}


def write_secret(writer, namespace, name, key, value):
    """Put ``value`` into Secret ``name`` key ``key`` (created if missing) through ``writer``; True when it changed."""
    encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
    current = writer.client.get("v1", "Secret", name, namespace)
    if current is not None and (current.get("data") or {}).get(key) == encoded:
        return False
    if current is None:
        writer.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                       "metadata": {"name": name, "namespace": namespace}, "data": {key: encoded}})
    else:
        writer.patch(current, {"data": {key: encoded}}, api_version="v1", kind="Secret")
    return True


# Options sent to the IdP or written into Flyte's configuration: one line of UTF-8 text each, no surrounding spaces.
TEXT_OPTIONS = ("admin_realm", "realm", "web_client_id", "cli_client_id", "propeller_client_id", "okta_authorization_server",
                "entra_display_name", "entra_scope_name", "google_client_id", "secrets_namespace")
URL_OPTIONS = ("url", "public_url", "logout_redirect_uri", "entra_login_url")


def check_text_options(p):
    """The message for the first option that is not one clean line of text or, for a URL, not https (http only for
    localhost), or None. Checked before the IdP or the cluster is asked anything."""
    for name in TEXT_OPTIONS + URL_OPTIONS:
        value = p.get(name)
        if value is None:
            continue
        bad = inputs.problem(value, max_length=2048 if name in URL_OPTIONS else 255, spaces_ok=False)
        if bad:
            return "%s: %s" % (name, bad)
        if name in URL_OPTIONS:
            parts = urlsplit(value)
            local = (parts.hostname or "") in ("localhost", "127.0.0.1", "::1")
            if parts.scheme not in ("https", "http") or not parts.hostname or (parts.scheme == "http" and not local):
                return "%s: %s must be an https URL (http only for localhost)" % (name, inputs.show(value))
    return None


def secret_targets(client, namespace):
    """``{role: (Secret name, key)}`` where the Flyte install in ``namespace`` reads the client secrets (flyte_layout:
    flyte-binary keeps them in its release's client-secrets Secret); flyte-core's names when no Flyte is there yet."""
    targets = dict(SECRET_TARGETS)
    try:
        target = flyte_config.discover(client, namespace)
    except flyte_config.FlyteConfigError:
        return targets
    for role, setting in (("web", "oidc_client_secret"), ("propeller", "propeller_client_secret")):
        location = target.setting(setting)
        if location is not None:
            targets[role] = (location.object_name, location.data_key)
    return targets


def main():
    module = k8s_utils.new_module(
        argument_spec=args_common.spec(
            args_common.BACKUP,
            provider=dict(type="str", choices=sorted(PROVIDERS), default="keycloak"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            url=dict(type="str"),
            admin_realm=dict(type="str", default="master"),
            admin_username=dict(type="str", fallback=(env_fallback, ["KEYCLOAK_ADMIN_USERNAME"])),
            admin_password=dict(type="str", no_log=True, fallback=(env_fallback, ["KEYCLOAK_ADMIN_PASSWORD"])),
            admin_client_id=dict(type="str", fallback=(env_fallback, ["KEYCLOAK_ADMIN_CLIENT_ID"])),
            admin_client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["KEYCLOAK_ADMIN_SECRET"])),
            okta_api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["OKTA_API_TOKEN", "OKTA_CLIENT_TOKEN"])),
            okta_authorization_server=dict(type="str", default="flyte"),
            okta_group_ids=dict(type="list", elements="str", default=[]),
            entra_tenant_id=dict(type="str", fallback=(env_fallback, ["AZURE_TENANT_ID"])),
            entra_client_id=dict(type="str", fallback=(env_fallback, ["AZURE_CLIENT_ID"])),
            entra_client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["AZURE_CLIENT_SECRET"])),
            entra_login_url=dict(type="str", default="https://login.microsoftonline.com"),
            entra_display_name=dict(type="str", default="Flyte"),
            entra_sign_in_audience=dict(type="str", choices=["AzureADMyOrg", "AzureADMultipleOrgs"], default="AzureADMyOrg"),
            entra_scope_name=dict(type="str", default="access_flyte"),
            entra_secret_days=dict(type="int", default=180, no_log=False),
            google_client_id=dict(type="str"),
            google_client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["GOOGLE_OAUTH_CLIENT_SECRET"])),
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
    result = dict(changed=False, issuer_url="", discovery_url="", client_ids={}, audience=None, scopes=[], propeller_scopes=[], changes=[],
                  secrets_written=[])
    if p["entra_secret_days"] < 1 or p["entra_secret_days"] > 730:
        module.fail_json(msg="entra_secret_days: %s must be between 1 and 730 (Entra ID's limit is two years)"
                         % p["entra_secret_days"], **result)
    if not p["url"]:  # per provider: an AWX credential may inject several providers' variables, some empty
        p["url"] = os.environ.get("FLYTESEC_IDP_URL") or os.environ.get(URL_ENV.get(p["provider"], ""), "") or None
    bad = check_text_options(p)
    if bad:
        module.fail_json(msg=bad, **result)
    if not p["public_url"].startswith(("https://", "http://localhost", "http://127.0.0.1")):
        module.fail_json(msg="public_url: %r must be an https URL (http only for localhost)" % p["public_url"], **result)
    k8s = None
    try:
        if p["secrets_namespace"]:
            k8s = k8s_utils.connect(module)
            # before the IdP is asked anything: a registration whose secrets cannot be stored is not made
            if k8s.get("v1", "Namespace", p["secrets_namespace"]) is None:
                module.fail_json(msg="secrets_namespace: namespace %s does not exist" % p["secrets_namespace"], **result)

        targets = secret_targets(k8s, p["secrets_namespace"]) if k8s is not None else dict(SECRET_TARGETS)

        def secret_missing(role):
            if k8s is None:
                return False
            name, key = targets[role]
            current = k8s.get("v1", "Secret", name, p["secrets_namespace"])
            return not (current and (current.get("data") or {}).get(key))

        reg = PROVIDERS[p["provider"]].register(p, module.check_mode, secret_missing)
        result.update(issuer_url=reg.issuer, discovery_url=reg.discovery, client_ids=reg.client_ids,
                      audience=reg.audience, scopes=reg.scopes,
                      propeller_scopes=reg.propeller_scopes, changes=reg.changes)
        if k8s is not None:
            for role, value in sorted(reg.secrets.items()):
                if not value:
                    continue
                name, key = targets[role]
                if module.check_mode:
                    current = k8s.get("v1", "Secret", name, p["secrets_namespace"])
                    encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
                    changed = not (current and (current.get("data") or {}).get(key) == encoded)
                else:
                    changed = write_secret(apply.Writer(k8s, False, p["backup_dir"], p["run_id"]),
                                           p["secrets_namespace"], name, key, value)
                if changed:
                    result["secrets_written"].append("Secret/%s %s" % (name, key))
                    result["changes"].append("Secret %s/%s key %s: client secret of %s" % (
                        p["secrets_namespace"], name, key, reg.client_ids.get(role, role)))
        elif [v for v in reg.secrets.values() if v] and p["provider"] in ("okta", "entra"):
            module.warn("secrets_namespace is not set, so the new client secret was not stored anywhere; "
                        "%s will not show it again (rotate_secret with secrets_namespace makes a new one)" % p["provider"])
        result["changed"] = bool(result["changes"])
        if module._diff:
            result["diff"] = reg.diffs
    except (IdpError, k8s_utils.FlyteK8sError, bk.BackupError) as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
