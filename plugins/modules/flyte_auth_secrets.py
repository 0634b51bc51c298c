#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: flyte_auth_secrets
short_description: The Kubernetes Secrets Flyte authentication needs, generated, validated and rotated
version_added: 0.1.0
author:
  - flytesec maintainers (@flytesec)
description:
  - Ensures the keys flyteadmin and flytepropeller read when authentication is on, in the Secrets the installation
    mounts. flyte-core uses C(flyte-admin-secrets) (C(oidc_client_secret), C(claim_symmetric_key),
    C(cookie_hash_key), C(cookie_block_key), C(token_rsa_key.pem)) and C(flyte-secret-auth)
    (C(client_secret), the propeller's plaintext secret). flyte-binary uses C(<fullname>-client-secrets) and
    C(<fullname>-admin-auth).
  - Keys that are missing are generated in the format flyteadmin reads. C(claim_symmetric_key) and
    C(cookie_block_key) are 32 random bytes and C(cookie_hash_key) 64, all as base64 without padding.
    C(token_rsa_key.pem) is a 2048-bit PKCS#1 RSA key. The propeller secret is 32 random bytes unless given.
    A present, valid key is never overwritten, unless it is listed in O(rotate).
    User-given values are validated, and a bad one fails before any write.
  - The chart default propeller secret C(foobar) counts as invalid and is replaced.
  - Values never appear in the result, the diff or the logs. Secrets are written as C(data) with a merge patch,
    never with a last-applied annotation. Values are compared by content, so check mode reports exactly what a
    run would change.
  - O(scope=propeller) manages only the propeller's C(client_secret), which is what a data plane (a cluster that
    runs flytepropeller but not flyteadmin) needs. With O(propeller_secret_source) the value is read, inside the module,
    from the Secret of the control plane's install on another cluster, and verified against flyteadmin's
    staticClients hash there before anything is written, so the data plane's propeller is known to authenticate.
  - O(mode=reference) only checks that an existing Secret holds valid keys. O(mode=external_secret) writes
    nothing to the Secrets; instead it returns ExternalSecret objects (external-secrets operator) for them.
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
    details: Names the keys that change; values are masked.
options:
  propeller_client_secret:
    description: The flytepropeller client secret (plaintext). Generated when absent and not given.
    type: str
  oidc_client_secret:
    description:
      - The client secret of flyteadmin's OIDC client in the IdP. flyteadmin reads it at startup whenever
        authentication is on, so the run fails, before any write, when it is neither given nor already in
        the Secret (the idp_client module writes it when it registers the clients).
    type: str
  oidc_client_secret_from_idp:
    description:
      - The IdP registration of this run (M(flytesec.hardening.flyte_idp_client)) writes C(oidc_client_secret). In
        check mode that registration writes nothing, so a missing secret is then the planned state (C(from-idp)),
        not an error.
    type: bool
    default: false
  keys:
    description:
      - User-given values for C(claim_symmetric_key), C(cookie_hash_key), C(cookie_block_key) or
        C(token_rsa_key.pem); validated. Others are generated when missing.
    type: dict
  rotate:
    description: Keys to generate again even if present and valid (for example C(client_secret), C(cookie_hash_key)).
    type: list
    elements: str
    default: []
  internal_auth_server:
    description: Whether flyteadmin's internal authorization server is used (it needs C(claim_symmetric_key) and C(token_rsa_key.pem)).
    type: bool
    default: true
  mode:
    description: C(manage) writes the Secrets; C(reference) only validates existing ones; C(external_secret) returns ExternalSecret objects.
    type: str
    choices: [manage, reference, external_secret]
    default: manage
  external_secret_store:
    description: SecretStore (or ClusterSecretStore) for O(mode=external_secret), as C({name, kind}).
    type: dict
  external_secret_prefix:
    description: Key prefix in the external store for O(mode=external_secret).
    type: str
    default: flyte/
  scope:
    description: C(all) manages every key authentication needs; C(propeller) only the propeller's C(client_secret) (a data plane).
    type: str
    choices: [all, propeller]
    default: all
  propeller_secret_source:
    description:
      - The control plane whose propeller secret a data plane takes, and whose flyteadmin hash it is verified against.
        The value is read inside the module and never returned.
    type: dict
    suboptions:
      kubeconfig:
        description: Kubeconfig file of the control plane's cluster (default, the same cluster).
        type: raw
      context:
        description: Context in that kubeconfig.
        type: str
      namespace:
        description: Namespace of the control plane's Flyte install.
        type: str
        required: true
      layout:
        description: Layout of the control plane's install.
        type: str
        choices: [auto, flyte-core, flyte-binary]
        default: auto
      release_name:
        description: Helm release of a flyte-binary control plane.
        type: str
"""

EXAMPLES = r"""
- name: Secrets for the internal authorization server
  flytesec.hardening.flyte_auth_secrets:
    namespace: flyte
    propeller_client_secret: "{{ vault_propeller_secret }}"
    oidc_client_secret: "{{ vault_oidc_secret }}"

- name: Rotate the propeller secret
  flytesec.hardening.flyte_auth_secrets:
    namespace: flyte
    propeller_client_secret: "{{ new_secret }}"
"""

RETURN = r"""
propeller_secret_verified:
  description:
    - With O(propeller_secret_source), whether the propeller secret verifies against the control plane's flyteadmin
      hash (C(pending) in check mode when the control plane's run has not written its secret yet); else C(null).
  returned: always
  type: str
  sample: "true"
keys:
  description: Per key where it lives and what happened (C(kept), C(generated), C(set), C(rotated), C(replaced-invalid), C(missing)).
  returned: always
  type: list
  elements: dict
  sample: [{secret: flyte-secret-auth, key: client_secret, state: kept}]
restart_required:
  description: Workloads that read a changed Secret, as C(Kind/name).
  returned: always
  type: list
  elements: str
external_secrets:
  description: ExternalSecret objects, with O(mode=external_secret).
  returned: always
  type: list
  elements: dict
backups:
  description: Backup files written.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.flytesec.hardening.plugins.module_utils import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils import auth_config as ac
from ansible_collections.flytesec.hardening.plugins.module_utils import auth_secrets
from ansible_collections.flytesec.hardening.plugins.module_utils import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils import flyte_config
from ansible_collections.flytesec.hardening.plugins.module_utils import k8s as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils import masking


def argument_spec():
    return args_common.spec(
        args_common.TARGET, args_common.BACKUP,
        propeller_client_secret=dict(type="str", no_log=True),
        oidc_client_secret=dict(type="str", no_log=True),
        oidc_client_secret_from_idp=dict(type="bool", default=False),
        keys=dict(type="dict", no_log=True),
        rotate=dict(type="list", elements="str", default=[], no_log=False),
        internal_auth_server=dict(type="bool", default=True),
        mode=dict(type="str", choices=list(auth_secrets.MODES), default="manage"),
        external_secret_store=dict(type="dict", no_log=False),
        external_secret_prefix=dict(type="str", default="flyte/", no_log=False),
        scope=dict(type="str", choices=["all", "propeller"], default="all"),
        propeller_secret_source=dict(type="dict", no_log=False, options=dict(
            # as kubernetes.core's kubeconfig: an in-memory kubeconfig dict holds credentials
            kubeconfig=dict(type="raw", no_log=True), context=dict(type="str"), namespace=dict(type="str", required=True),
            layout=dict(type="str", choices=["auto", "flyte-core", "flyte-binary"], default="auto"),
            release_name=dict(type="str"))),
    )


def main():
    module = k8s_utils.new_module(argument_spec=argument_spec(), supports_check_mode=True)
    if ac.CRYPTOGRAPHY_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=ac.CRYPTOGRAPHY_IMPORT_ERROR)
    p = module.params
    masker = masking.Masker()
    try:
        for value in auth_secrets.check_params(p):
            masker.add(value)
    except ac.AuthConfigError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    client = k8s_utils.connect(module)
    result = dict(changed=False, keys=[], restart_required=[], external_secrets=[], backups=[],
                  propeller_secret_verified=None)
    try:
        # read
        if p["propeller_secret_source"]:
            source_secret, verified = from_control_plane(module, p["propeller_secret_source"], p["propeller_client_secret"])
            result["propeller_secret_verified"] = verified
            if source_secret:
                masker.add(source_secret)
                k8s_utils.add_no_log(module, source_secret)
                # a copy: module.params are echoed back as invocation.module_args, and this value is not the user's
                p = dict(p, propeller_client_secret=source_secret)
        target = flyte_config.discover(client, p["namespace"], p["layout"], p["release_name"])
        placement = auth_secrets.placement(target.model)
        wanted = auth_secrets.desired_keys(p)
        unread = auth_secrets.unread(placement, wanted, target.workloads) if target.model.live else []
        if unread:
            raise flyte_config.FlyteConfigError(
                "no workload in namespace %s mounts %s, so Flyte would not read what is written there (a renamed "
                "Secret, or a volume whose items leave the key out); nothing was written. Mount the Secret at "
                "flyteadmin's secrets path (/etc/secrets) with every key, or give release_name/layout for this "
                "install" % (p["namespace"], ", ".join(unread)))
        if p["mode"] == "external_secret":
            result["external_secrets"] = auth_secrets.external_secrets(
                p["namespace"], p["external_secret_store"], p["external_secret_prefix"], placement, wanted)
            module.exit_json(**result)
        secrets = dict((name, client.get("v1", "Secret", name, p["namespace"]))
                       for name in auth_secrets.secret_names(placement, wanted))
        current = auth_secrets.current_values(wanted, placement, secrets)
        for value in current.values():
            if value:
                masker.add(value)

        # plan
        plans = auth_secrets.plan_keys(wanted, placement, current, p["mode"], p["rotate"],
                                       preview_from_idp=module.check_mode and p["oidc_client_secret_from_idp"])
        result["keys"] = auth_secrets.entries(plans)
        if p["mode"] == "reference":
            failure = auth_secrets.reference_failure(plans)
            if failure:
                module.fail_json(msg=failure, **result)
            module.exit_json(**result)
        values = auth_secrets.values_to_write(plans)
        for keys in values.values():
            for value in keys.values():
                masker.add(value)

        # apply
        writer = apply.Writer(client, module.check_mode, p["backup_dir"], p["run_id"])
        result["backups"] = writer.backups
        changed_refs, diffs = [], []
        for write in auth_secrets.secret_writes(p["namespace"], values, secrets):
            if write.current is None:
                writer.create(write.body)   # recorded as absent first: restore deletes the Secret this run created
            else:
                writer.patch(write.current, write.body, api_version="v1", kind="Secret")
            changed_refs.append(("Secret", write.name))
            diffs.append(write.diff)

        # report
        result["changed"] = bool(changed_refs)
        result["restart_required"] = target.model.restart_for(changed_refs)
        if module._diff:
            result["diff"] = diffs
    except ac.AuthConfigError as exc:
        module.fail_json(msg=masker.mask_text(str(exc)), option=exc.option, **result)
    except (flyte_config.FlyteConfigError, k8s_utils.FlyteK8sError, bk.BackupError) as exc:
        module.fail_json(msg=masker.mask_text(str(exc)), **result)
    module.exit_json(**result)


def from_control_plane(module, source, given):
    """``(secret, verified)``: the control plane's propeller secret (``given`` wins) and whether it verifies against
    flyteadmin's staticClients hash there. Fails the module, before any write, when it does not."""
    try:
        other = k8s_utils.connect_other(module, source.get("kubeconfig"), source.get("context"))
    except k8s_utils.FlyteK8sError as exc:
        raise flyte_config.FlyteConfigError("propeller_secret_source: %s" % exc)
    target = flyte_config.discover(other, source["namespace"], source["layout"], source.get("release_name"))
    location = target.setting("propeller_client_secret")
    secret = given or auth_secrets.decoded(
        other.get("v1", location.object_kind, location.object_name, source["namespace"]), location.data_key)
    hash_location = target.setting("static_client_secret")
    stored = flyte_config.stored_value(other, source["namespace"], hash_location)
    if not secret or ac.current_key_error("client_secret", secret) or not stored:
        if module.check_mode:
            return None, "pending"   # the control plane's own run writes both first
        raise flyte_config.FlyteConfigError(
            "propeller_secret_source: the control plane in namespace %s has no usable propeller secret and hash yet; "
            "harden it first (same run: list it in the inventory)" % source["namespace"])
    if not ac.verify(secret, stored):
        raise flyte_config.FlyteConfigError(
            "propeller_client_secret: does not verify against flyteadmin's staticClients hash in %s %s on the control "
            "plane; flytepropeller would be refused (401). Nothing was written"
            % (hash_location.object_kind, hash_location.object_name))
    return secret, "true"


if __name__ == "__main__":
    main()
