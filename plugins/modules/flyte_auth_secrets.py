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
  backup_dir:
    description: Directory for a backup record of every Secret before it changes (mode 0600; not in check mode).
    type: path
  run_id:
    description: Identifier of the hardening run; groups its backups.
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

import base64

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.flytesec.hardening.plugins.module_utils import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import auth_config as ac
from ansible_collections.flytesec.hardening.plugins.module_utils import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils import flyte_config
from ansible_collections.flytesec.hardening.plugins.module_utils import flyte_layout as fl
from ansible_collections.flytesec.hardening.plugins.module_utils import k8s as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils import masking

KEY_SETTINGS = (("client_secret", "propeller_client_secret"), ("oidc_client_secret", "oidc_client_secret"),
                ("claim_symmetric_key", "claim_symmetric_key"), ("cookie_hash_key", "cookie_hash_key"),
                ("cookie_block_key", "cookie_block_key"), ("token_rsa_key.pem", "token_rsa_key"))


def _decode(secret, key):
    raw = ((secret or {}).get("data") or {}).get(key)
    return None if raw is None else base64.b64decode(raw).decode("utf-8")


def desired_keys(params):
    """``[(key, given value or None, generated?)]`` of the keys to manage."""
    # flyteadmin reads oidc_client_secret at startup whenever authentication is on (auth_context.go), so it is
    # always wanted; it comes from the IdP and is never generated.
    wanted = [("client_secret", params["propeller_client_secret"], True)]
    if params.get("scope") == "propeller":
        return wanted
    wanted.append(("oidc_client_secret", params["oidc_client_secret"], False))
    names = ["cookie_hash_key", "cookie_block_key"]
    if params["internal_auth_server"]:
        names += ["claim_symmetric_key", "token_rsa_key.pem"]
    given = params["keys"] or {}
    for name in names:
        wanted.append((name, given.get(name), True))
    return wanted


def validate(params, masker):
    unknown = sorted(set(params["keys"] or {}) - set(ac.GENERATED_KEYS))
    if unknown:
        raise ac.AuthConfigError("keys", "unknown key(s) %s; valid: %s" % (", ".join(unknown), ", ".join(sorted(ac.GENERATED_KEYS))))
    bad_rotate = sorted(set(params["rotate"]) - set(k for k, _s in KEY_SETTINGS))
    if bad_rotate:
        raise ac.AuthConfigError("rotate", "unknown key(s) %s" % ", ".join(bad_rotate))
    ac.check_client_secret(params["propeller_client_secret"])
    if params["oidc_client_secret"] is not None and not params["oidc_client_secret"].strip():
        raise ac.AuthConfigError("oidc_client_secret", "is empty")
    for name, value in (params["keys"] or {}).items():
        error = ac.key_error(name, value)
        if error:
            raise ac.AuthConfigError("keys.%s" % name, error)
    for value in [params["propeller_client_secret"], params["oidc_client_secret"]] + list((params["keys"] or {}).values()):
        if value:
            masker.add(value)


def main():
    module = k8s_utils.new_module(
        argument_spec=dict(
            flyte_config.FLYTE_TARGET_ARG_SPEC,
            propeller_client_secret=dict(type="str", no_log=True),
            oidc_client_secret=dict(type="str", no_log=True),
            oidc_client_secret_from_idp=dict(type="bool", default=False),
            keys=dict(type="dict", no_log=True),
            rotate=dict(type="list", elements="str", default=[], no_log=False),
            internal_auth_server=dict(type="bool", default=True),
            mode=dict(type="str", choices=["manage", "reference", "external_secret"], default="manage"),
            external_secret_store=dict(type="dict", no_log=False),
            external_secret_prefix=dict(type="str", default="flyte/", no_log=False),
            scope=dict(type="str", choices=["all", "propeller"], default="all"),
            propeller_secret_source=dict(type="dict", no_log=False, options=dict(
                # as kubernetes.core's kubeconfig: an in-memory kubeconfig dict holds credentials
                kubeconfig=dict(type="raw", no_log=True), context=dict(type="str"), namespace=dict(type="str", required=True),
                layout=dict(type="str", choices=["auto", "flyte-core", "flyte-binary"], default="auto"),
                release_name=dict(type="str"))),
            backup_dir=dict(type="path"),
            run_id=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    if ac.CRYPTOGRAPHY_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=ac.CRYPTOGRAPHY_IMPORT_ERROR)
    p = module.params
    masker = masking.Masker()
    try:
        validate(p, masker)
    except ac.AuthConfigError as exc:
        module.fail_json(msg=str(exc), option=exc.option)
    if p["mode"] == "external_secret" and not (p["external_secret_store"] or {}).get("name"):
        module.fail_json(msg="external_secret_store: name is required with mode=external_secret", option="external_secret_store")
    client = k8s_utils.connect(module)
    result = dict(changed=False, keys=[], restart_required=[], external_secrets=[], backups=[],
                  propeller_secret_verified=None)
    try:
        if p["propeller_secret_source"]:
            source_secret, verified = from_control_plane(module, p["propeller_secret_source"], p["propeller_client_secret"])
            result["propeller_secret_verified"] = verified
            if source_secret:
                masker.add(source_secret)
                k8s_utils.add_no_log(module, source_secret)
                # a copy: module.params are echoed back as invocation.module_args, and this value is not the user's
                p = dict(p, propeller_client_secret=source_secret)
        target = flyte_config.discover(client, p["namespace"], p["layout"], p["release_name"])
        placement = {}
        for key, setting in KEY_SETTINGS:
            location = target.setting(setting)
            if location is not None:
                placement[key] = location.object_name
        if target.model.live:
            # What is written must land in a file a Flyte container reads: a Secret no pod mounts (a renamed or
            # kustomize-hashed install) or a key its volume's items leave out would leave flyteadmin crashing.
            unread = ["%s/%s" % (placement[key], key) for key, _g, _gen in desired_keys(p)
                      if not any(fl.secret_key_visible(w, placement[key], key) for w in target.workloads)]
            if unread:
                raise flyte_config.FlyteConfigError(
                    "no workload in namespace %s mounts %s, so Flyte would not read what is written there (a renamed "
                    "Secret, or a volume whose items leave the key out); nothing was written. Mount the Secret at "
                    "flyteadmin's secrets path (/etc/secrets) with every key, or give release_name/layout for this "
                    "install" % (p["namespace"], ", ".join(unread)))
        secrets = {}
        for name in sorted(set(placement.values())):
            secrets[name] = client.get("v1", "Secret", name, p["namespace"])
        if p["mode"] == "external_secret":
            result["external_secrets"] = external_secrets(p, placement, desired_keys(p))
            module.exit_json(**result)

        per_secret = {}
        for key, given, generated in desired_keys(p):
            name = placement[key]
            current = _decode(secrets[name], key)
            if current:
                masker.add(current)
            entry = {"secret": name, "key": key}
            if p["mode"] == "reference":
                entry["state"] = ac.current_key_error(key, current) or "valid"
                result["keys"].append(entry)
                continue
            if key == "oidc_client_secret" and given is None and module.check_mode and p["oidc_client_secret_from_idp"] \
                    and ac.current_key_error(key, current):
                # The IdP registration of this run writes it in a real run; check mode previews that.
                entry["state"] = "from-idp"
                result["keys"].append(entry)
                continue
            value, state = ac.plan_key(key, given, current, key in p["rotate"], generated, name)
            if value is None:
                value = ac.generate_secret() if key == "client_secret" else ac.generate_key(key)
                masker.add(value)
            entry["state"] = state
            result["keys"].append(entry)
            if value != current:
                per_secret.setdefault(name, {})[key] = value
        if p["mode"] == "reference":
            bad = [e for e in result["keys"] if e["state"] != "valid"]
            if bad:
                module.fail_json(msg="mode=reference: %s" % "; ".join("%s/%s is %s" % (e["secret"], e["key"], e["state"]) for e in bad), **result)
            module.exit_json(**result)

        diffs, changed_refs = [], []
        writer = apply.Writer(client, module.check_mode, p["backup_dir"], p["run_id"])
        result["backups"] = writer.backups
        for name, values in sorted(per_secret.items()):
            data = dict((k, base64.b64encode(v.encode("utf-8")).decode("ascii")) for k, v in values.items())
            if secrets[name] is None:
                body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": {"name": name, "namespace": p["namespace"],
                                     "labels": {"app.kubernetes.io/managed-by": "flytesec.hardening"}},
                        "data": data}
                writer.create(body)   # recorded as absent first: restore deletes the Secret this run created
            else:
                writer.patch(secrets[name], {"data": data}, api_version="v1", kind="Secret")
            changed_refs.append(("Secret", name))
            diffs.append({"before_header": "Secret/%s" % name, "after_header": "Secret/%s" % name, "before": "",
                          "after": "".join("%s: %s (changed)\n" % (k, masking.MASK) for k in sorted(values))})
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
    secret = given or _decode(other.get("v1", location.object_kind, location.object_name, source["namespace"]),
                              location.data_key)
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


def external_secrets(params, placement, wanted):
    """ExternalSecret objects (external-secrets.io/v1beta1) that fill the Secrets from an external store."""
    store = params["external_secret_store"]
    objects = {}
    for key, _given, _generated in wanted:
        name = placement[key]
        obj = objects.setdefault(name, {
            "apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret",
            "metadata": {"name": name, "namespace": params["namespace"]},
            "spec": {"secretStoreRef": {"name": store["name"], "kind": store.get("kind") or "SecretStore"},
                     "target": {"name": name, "creationPolicy": "Merge"}, "data": []}})
        obj["spec"]["data"].append({"secretKey": key,
                                    "remoteRef": {"key": "%s%s" % (params["external_secret_prefix"], name), "property": key}})
    return [objects[n] for n in sorted(objects)]


if __name__ == "__main__":
    main()
