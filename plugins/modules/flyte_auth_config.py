#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_auth_config
short_description: flyteadmin authentication with an internal or external authorization server, and OIDC login
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Turns on C(server.security.useAuth) and writes flyteadmin's C(auth) section in the place the layout keeps it.
    flyte-core keeps it in C(flyte-admin-base-config) key C(server.yaml). flyte-binary keeps it in
    C(<fullname>-config) key C(100-inline-config.yaml), with the propeller hash in C(<fullname>-config-secret) key
    C(014-auth-secrets.yaml).
  - What it writes is the OIDC user login (C(userAuth.openId)), C(authorizedUris), the authorization server type
    (C(Self) for O(auth_server=internal), C(External) with C(externalAuthServer)) and the flytectl client
    (C(thirdPartyConfig.flyteClient)). It also sets the admin client config of flytepropeller and flytescheduler
    (C(admin.yaml)), which uses C(authType) C(ClientSecret) and C(/etc/secrets/client_secret).
  - With the internal server it writes every static client with every field, because the map replaces flyteadmin's
    defaults. These are flyte-cli and flytectl (public) and flytepropeller (confidential, with C(client_secret) =
    base64 of a bcrypt hash of the propeller secret). The stored hash is kept when it matches the secret, so a rerun
    changes nothing. A new hash is made only when the secret changes. flyteadmin's public built-in hash and the
    chart default secret C(foobar) are refused.
  - The propeller secret is O(propeller_client_secret), else read from the Secret the propeller mounts
    (M(flytesec.hardening.flyte_auth_secrets) writes it).
  - Values are compared parsed; other keys keep their text. Restarts nothing; RV(restart_required) lists the workloads
    to restart (M(flytesec.hardening.flyte_rollout)).
extends_documentation_fragment:
  - flytesec.hardening.attributes
  - kubernetes.core.k8s_auth_options
  - flytesec.hardening.flyte_target
  - flytesec.hardening.backup
attributes:
  check_mode:
    support: full
    details: Writes are server-side dry runs.
  diff_mode:
    support: full
    details: A unified diff per changed key; the propeller hash and secrets are masked.
options:
  public_url:
    description: flyteadmin's public URL (https), for example C(https://flyte.example.com).
    type: str
    required: true
  authorized_uris:
    description:
      - URLs clients reach flyteadmin on; must contain O(public_url). Default O(public_url) and the in-cluster
        service URLs of the layout.
    type: list
    elements: str
  auth_server:
    description: C(internal) runs flyteadmin's own authorization server (C(Self)); C(external) trusts the IdP's (C(External)).
    type: str
    choices: [internal, external]
    default: internal
  oidc:
    description: OIDC user login. Keys C(base_url) (the issuer, exactly as discovery reports it), C(client_id), C(scopes) (default C([openid, profile])).
    type: dict
    required: true
  external_auth_server:
    description: With O(auth_server=external). Keys C(base_url) (default the OIDC issuer), C(metadata_url), C(allowed_audience) (default O(public_url)).
    type: dict
  flyte_client:
    description: The client flytectl and pyflyte use. Keys C(client_id) (default flytectl), C(redirect_uri), C(scopes), C(audience).
    type: dict
  propeller_client_id:
    description: Client id of flytepropeller (lower-case; flyteadmin lower-cases static client keys).
    type: str
    default: flytepropeller
  propeller_client_secret:
    description: The propeller's plaintext client secret. Default is the value in the Secret the propeller mounts.
    type: str
  admin_client:
    description: >-
      Admin client config of propeller and scheduler. Keys are C(endpoint), C(insecure), C(scopes) and C(audience).
      Without C(scopes), C(useAudienceFromAdmin) is set.
    type: dict
  bcrypt_cost:
    description: bcrypt cost of a new propeller hash.
    type: int
    default: 10
  verify_discovery:
    description: Fetch the OIDC discovery document and fail unless its C(issuer) equals O(oidc) C(base_url) exactly (go-oidc's rule).
    type: bool
    default: false
  validate_only:
    description:
      - Only validate the options, without reading or writing the cluster. The auth role runs this before it
        writes any Secret, so bad input leaves the cluster untouched.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Internal authorization server, Keycloak for user login
  flytesec.hardening.flyte_auth_config:
    namespace: flyte
    public_url: https://flyte.example.com
    oidc:
      base_url: https://keycloak.example.com/realms/flyte
      client_id: flyteadmin
  register: auth

- name: External authorization server (Okta)
  flytesec.hardening.flyte_auth_config:
    namespace: flyte
    public_url: https://flyte.example.com
    auth_server: external
    oidc:
      base_url: https://example.okta.com/oauth2/default
      client_id: 0oa1flyteadmin
    external_auth_server:
      metadata_url: .well-known/oauth-authorization-server
    admin_client:
      scopes: [all]
"""

RETURN = r"""
changed_objects:
  description: Objects changed, with the keys.
  returned: always
  type: list
  elements: dict
restart_required:
  description: Workloads that read a changed object, as C(Kind/name).
  returned: always
  type: list
  elements: str
propeller_hash:
  description: C(kept) when the stored hash matches the secret, C(new) when it was made again, C(none) with an external server.
  returned: always
  type: str
backups:
  description: Backup files written.
  returned: always
  type: list
  elements: str
"""

import json

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.urls import open_url

from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config as ac
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import config as flyte_config
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils import masking


def argument_spec():
    return args_common.spec(
        args_common.TARGET, args_common.BACKUP,
        public_url=dict(type="str", required=True),
        authorized_uris=dict(type="list", elements="str"),
        auth_server=dict(type="str", choices=["internal", "external"], default="internal"),
        oidc=dict(type="dict", required=True),
        external_auth_server=dict(type="dict"),
        flyte_client=dict(type="dict"),
        propeller_client_id=dict(type="str", default="flytepropeller"),
        propeller_client_secret=dict(type="str", no_log=True),
        admin_client=dict(type="dict"),
        bcrypt_cost=dict(type="int", default=ac.DEFAULT_BCRYPT_COST),
        verify_discovery=dict(type="bool", default=False),
        validate_only=dict(type="bool", default=False),
    )


def default_uris(target, public_url):
    ns = target.namespace
    host = "flyteadmin" if target.layout == "flyte-core" else target.model.fullname
    port = 80 if target.layout == "flyte-core" else 8088
    return [public_url, "http://%s:%d" % (host, port), "http://%s.%s.svc.cluster.local:%d" % (host, ns, port)]


def check_discovery(module, base_url):
    url = base_url.rstrip("/") + "/.well-known/openid-configuration"
    try:
        document = json.loads(open_url(url, timeout=10).read())
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="oidc.base_url: cannot read %s: %s" % (url, exc), option="oidc")
    if document.get("issuer") != base_url:
        module.fail_json(msg="oidc.base_url: %r differs from the issuer %r the discovery document reports; flyteadmin "
                             "(go-oidc) needs them equal" % (base_url, document.get("issuer")), option="oidc")


def main():
    module = k8s_utils.new_module(argument_spec=argument_spec(), supports_check_mode=True)
    if ac.BCRYPT_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("bcrypt"), exception=ac.BCRYPT_IMPORT_ERROR)
    p = module.params
    if not 4 <= p["bcrypt_cost"] <= 16:
        module.fail_json(msg="bcrypt_cost: must be between 4 and 16, got %s" % p["bcrypt_cost"], option="bcrypt_cost")
    masker = masking.Masker()
    try:
        ac.check_client_secret(p["propeller_client_secret"])
        ac.normalize(dict(p, authorized_uris=p["authorized_uris"] or None))
    except ac.AuthConfigError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    if p["propeller_client_secret"]:
        masker.add(p["propeller_client_secret"])
    if p["verify_discovery"]:
        check_discovery(module, p["oidc"]["base_url"])
    if p["validate_only"]:
        module.exit_json(changed=False, changed_objects=[], restart_required=[], backups=[], propeller_hash="none")

    client = k8s_utils.connect(module)
    result = dict(changed=False, changed_objects=[], restart_required=[], backups=[], propeller_hash="none")
    try:
        # read
        target = flyte_config.discover(client, p["namespace"], p["layout"], p["release_name"])
        uris = p["authorized_uris"] or default_uris(target, p["public_url"].rstrip("/"))
        settings = ac.normalize(dict(p, authorized_uris=uris))
        secret_location = target.setting("propeller_client_secret")
        if target.layout == "flyte-binary" and not target.model.consumers(secret_location.object_kind, secret_location.object_name):
            module.fail_json(msg="layout: flyte-binary %s was installed without configuration.auth.enabled, so no auth Secret "
                                 "is mounted and flyteadmin would fail at start. Enable auth in the chart values first "
                                 "(GitOps mode), then run this again." % target.model.fullname, **result)
        auth = target.setting("auth")

        # plan
        edits = ac.config_edits(settings, target.setting("use_auth"), auth, target.settings("admin_client"))
        if settings["server_type"] == "Self":
            stored_secret = None
            if not p["propeller_client_secret"]:
                stored_secret = flyte_config.stored_value(client, target.namespace, secret_location)
            secret = ac.propeller_secret(p["propeller_client_secret"], stored_secret, secret_location, module.check_mode)
            masker.add(secret)
            hash_location = target.setting("static_client_secret")
            stored = flyte_config.stored_value(client, target.namespace, hash_location)
            if stored:
                masker.add(stored)
            client_edits, value, rehashed = ac.static_client_edits(settings, secret, stored, auth, hash_location,
                                                                   p["bcrypt_cost"])
            masker.add(value)
            result["propeller_hash"] = "new" if rehashed else "kept"
            edits.extend(client_edits)

        # apply
        outcome = flyte_config.apply_edits(client, module, target, edits, masker=masker,
                                           backup_dir=p["backup_dir"], run_id=p["run_id"])
    except ac.AuthConfigError as exc:
        module.fail_json(msg=masker.mask_text(str(exc)), **result)
    except (flyte_config.FlyteConfigError, k8s_utils.FlyteK8sError, ey.EmbeddedYamlError) as exc:
        module.fail_json(msg=masker.mask_text(str(exc)), **result)

    # report
    result.update(changed=outcome.changed, changed_objects=outcome.changed_objects,
                  restart_required=outcome.restart_required, backups=outcome.backups)
    if module._diff:
        result["diff"] = outcome.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
