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
  - O(mode=reference) only checks that an existing Secret holds valid keys.
  - O(mode=external_secret) has the External Secrets Operator (ESO, C(external-secrets.io/v1)) fill every Secret
    Flyte reads from the user's SecretStore or ClusterSecretStore (O(external_secret_store)). It creates or updates
    one ExternalSecret per Secret; in the store, a Secret's keys live under C(<external_secret_prefix><Secret name>),
    one property per data key (for example C(flyte/flyte-admin-secrets) with properties C(cookie_hash_key), ...).
    It then asks the operator for a fresh sync (an annotation, so a stopped operator cannot pass on an old status),
    waits up to O(external_secret_timeout) seconds for C(Ready=True) reason C(SecretSynced), and validates the
    synced values with the checks of O(mode=manage) (unpadded base64 of the right length, a PKCS#1 RSA key, a
    propeller secret that is not the chart default). A bad value, a sync that does not happen or a missing operator
    fails the run naming the Secret, the key and the store key; nothing of flyteadmin's configuration is written
    (the role runs M(flytesec.hardening.flyte_auth_config) after this module). The values stay in memory.
  - With O(mode=external_secret), RV(restart_required) lists the consumers of the synced Secrets whose pods run
    other content than the Secrets hold now (the config hash annotation of M(flytesec.hardening.flyte_rollout));
    a value the store rotated restarts exactly its consumers once. In check mode it reports that pending restart.
  - O(secret_store) renders and applies the SecretStore itself (Vault with Kubernetes auth, AWS Secrets Manager
    with IRSA, or the kubernetes provider); the API server validates it against the operator's CRDs (a server-side
    dry run in check mode), and a field the CRD does not know fails the run.
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
    description:
      - C(manage) writes the Secrets; C(reference) only validates existing ones; C(external_secret) has the External
        Secrets Operator fill them from a store, then validates what it synced.
      - With C(external_secret), O(propeller_client_secret), O(oidc_client_secret), O(keys), O(rotate) and
        O(propeller_secret_source) are refused (the values come from the store; rotate them there).
    type: str
    choices: [manage, reference, external_secret]
    default: manage
  external_secret_store:
    description:
      - SecretStore (or ClusterSecretStore) for O(mode=external_secret), as C({name, kind}); C(kind) defaults to
        C(SecretStore). Defaults to O(secret_store)'s name and kind.
    type: dict
  external_secret_prefix:
    description:
      - Key prefix in the external store for O(mode=external_secret); a Secret's keys are read from
        C(<prefix><Secret name>). With the kubernetes provider the key is a Secret name, so use a prefix without C(/).
    type: str
    default: flyte/
  external_secret_refresh_interval:
    description: How often the operator reads the store again (the ExternalSecret's C(refreshInterval)).
    type: str
    default: 1h
  external_secret_timeout:
    description: Seconds to wait for each ExternalSecret to report C(SecretSynced) after this run asked for a sync.
    type: int
    default: 60
  secret_store:
    description:
      - With O(mode=external_secret), a SecretStore (or ClusterSecretStore) to create or update first.
      - C(vault) uses Vault's Kubernetes auth, C(aws) AWS Secrets Manager with IRSA (the ServiceAccount
        C(service_account) of O(secret_store.aws) gets the C(eks.amazonaws.com/role-arn) annotation and the store uses its
        token), C(kubernetes) the Secrets of another namespace or cluster.
    type: dict
    suboptions:
      name:
        description: Name of the store.
        type: str
        required: true
      kind:
        description: C(SecretStore) (in O(namespace)) or C(ClusterSecretStore).
        type: str
        choices: [SecretStore, ClusterSecretStore]
        default: SecretStore
      provider:
        description: Which provider the store uses.
        type: str
        choices: [vault, aws, kubernetes]
        required: true
      vault:
        description:
          - C(server) (URL, required), C(path) (KV mount, default C(secret)), C(version) (C(v2)), C(role)
            (required, the Vault role bound to the ServiceAccount), C(auth_mount_path) (default C(kubernetes)),
            C(service_account) (whose token logs in; default the operator's own), C(namespace) (Vault Enterprise),
            C(ca_provider) (as the CRD's C(caProvider)).
        type: dict
      aws:
        description:
          - C(region) and C(role_arn) (required), C(service_account) (default C(flyte-external-secrets), created or
            annotated in O(namespace)), C(service) (C(SecretsManager) or C(ParameterStore)).
        type: dict
      kubernetes:
        description:
          - C(remote_namespace) and C(service_account) (required; it needs get, list and watch on Secrets there),
            C(server_url) (default in-cluster), C(ca_configmap) (C({name, key}), default C(kube-root-ca.crt)).
        type: dict
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

- name: Every auth Secret from Vault (KV v2 at secret/flyte/<Secret name>), through the External Secrets Operator
  flytesec.hardening.flyte_auth_secrets:
    namespace: flyte
    mode: external_secret
    external_secret_prefix: flyte/
    secret_store:
      name: vault
      provider: vault
      vault:
        server: https://vault.example.com:8200
        path: secret
        role: flyte
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
  contains:
    store_key:
      description: With O(mode=external_secret), the key and property in the store (C(key:property)).
      type: str
      returned: with O(mode=external_secret)
restart_required:
  description: Workloads that read a changed Secret, as C(Kind/name).
  returned: always
  type: list
  elements: str
external_secrets:
  description:
    - With O(mode=external_secret), each ExternalSecret, as C({name, action, state, message}); C(action) is
      C(created), C(updated) or C(unchanged), C(state) C(synced) or, in check mode, C(pending) (not synced yet).
  returned: always
  type: list
  elements: dict
  sample: [{name: flyte-admin-secrets, action: unchanged, state: synced, message: secret synced}]
secret_store:
  description: With O(secret_store), the objects written as C(Kind/name) and what happened to each.
  returned: always
  type: list
  elements: dict
backups:
  description: Backup files written.
  returned: always
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import apply
from ansible_collections.flytesec.hardening.plugins.module_utils import args_common
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config as ac
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_secrets
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import backup as bk
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import external_secrets as es
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import config as flyte_config
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
from ansible_collections.flytesec.hardening.plugins.module_utils import masking
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout as ro
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import workloads as wl


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
        external_secret_refresh_interval=dict(type="str", default=es.DEFAULT_REFRESH, no_log=False),
        external_secret_timeout=dict(type="int", default=60, no_log=False),
        secret_store=dict(type="dict", no_log=False, options=dict(
            name=dict(type="str", required=True),
            kind=dict(type="str", choices=list(es.STORE_KINDS), default="SecretStore"),
            provider=dict(type="str", choices=list(es.PROVIDERS), required=True),
            vault=dict(type="dict"), aws=dict(type="dict"), kubernetes=dict(type="dict"))),
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
    result = dict(changed=False, keys=[], restart_required=[], external_secrets=[], secret_store=[], backups=[],
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
            external_mode(module, client, target, placement, wanted, masker, result)
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
    except es.ExternalSecretError as exc:
        module.fail_json(msg=masker.mask_text(str(exc)), option=exc.option, **result)
    except (flyte_config.FlyteConfigError, k8s_utils.FlyteK8sError, bk.BackupError) as exc:
        module.fail_json(msg=masker.mask_text(str(exc)), **result)
    module.exit_json(**result)


def _served(client, api_version, kind):
    try:
        client.resource(api_version, kind)
    except Exception:  # pylint: disable=broad-except  # kubernetes.core raises several kinds for an unknown resource
        raise es.ExternalSecretError(
            "mode", "the API server does not serve %s %s: install the External Secrets Operator (its CRDs and "
            "controller) first; nothing was written" % (api_version, kind))


def ensure_store(client, writer, namespace, spec, result):
    """Create or update the SecretStore of option secret_store (and the IRSA ServiceAccount); the API server checks
    it against the operator's CRD (a dry run in check mode). A field the CRD does not know fails."""
    objects = es.secret_store(spec, namespace)
    _served(client, es.API_VERSION, objects[0]["kind"])
    for want in objects:
        meta = want["metadata"]
        current = client.get(want["apiVersion"], want["kind"], meta["name"], meta.get("namespace"))
        before = len(client.warnings)
        if current is None:
            writer.create(want)
            action = "created"
        else:
            patch = es.object_patch(current, want)
            if patch:
                writer.patch(current, patch, api_version=want["apiVersion"], kind=want["kind"])
            action = "updated" if patch else "unchanged"
        unknown = es.unknown_field_warnings(client.warnings[before:])
        if unknown:
            raise es.ExternalSecretError("secret_store", "%s %s has fields the operator's CRD does not know: %s" % (
                want["kind"], meta["name"], "; ".join(w["warning"] for w in unknown)))
        result["secret_store"].append({"object": "%s/%s" % (want["kind"], meta["name"]), "action": action})
        if action != "unchanged":
            result["changed"] = True


def _wait_synced(client, objects, before, store, timeout, sleep=None):
    """Poll every ExternalSecret until each reports SecretSynced past ``before``; raises ExternalSecretError naming
    the first one that did not within ``timeout`` seconds."""
    sleep = sleep or time.sleep
    deadline = time.monotonic() + timeout
    states = {}
    while True:
        pending = []
        for name, want in sorted(objects.items()):
            obj = client.get(es.API_VERSION, es.KIND, name, want["metadata"]["namespace"])
            states[name] = es.sync_state(obj, before.get(name)) if obj else ("pending", "the ExternalSecret is gone")
            if states[name][0] != "synced":
                pending.append(name)
        if not pending:
            return states
        if time.monotonic() >= deadline:
            name = pending[0]
            raise es.ExternalSecretError("external_secret_timeout", es.timeout_message(
                objects[name], store, states[name][1], timeout))
        sleep(1)


def external_mode(module, client, target, placement, wanted, masker, result):
    """mode=external_secret: the store (optional), the ExternalSecrets, a fresh sync, then the synced values checked
    as mode manage checks given ones, and the consumers whose pods run other content than the Secrets now hold."""
    p = module.params
    namespace = p["namespace"]
    writer = apply.Writer(client, module.check_mode, p["backup_dir"], p["run_id"])
    result["backups"] = writer.backups
    store = p["external_secret_store"] or {}
    if p["secret_store"]:
        store = dict({"name": p["secret_store"]["name"], "kind": p["secret_store"]["kind"]}, **store)
    ref = es.store_ref(store)
    _served(client, es.API_VERSION, es.KIND)
    if p["secret_store"]:
        ensure_store(client, writer, namespace, p["secret_store"], result)

    names = auth_secrets.secret_names(placement, wanted)
    secrets = dict((name, client.get("v1", "Secret", name, namespace)) for name in names)
    objects = es.desired(namespace, ref, p["external_secret_prefix"], placement, wanted,
                         p["external_secret_refresh_interval"], secrets)
    token = "%s/%d" % (writer.run_id, int(time.time() * 1000))
    before, entries, fresh = {}, {}, []
    for name in names:
        want = objects[name]
        current = client.get(es.API_VERSION, es.KIND, name, namespace)
        entry = entries[name] = {"name": name, "action": "unchanged", "state": "pending", "message": None}
        if current is None:
            body = dict(want, metadata=dict(want["metadata"], annotations={es.SYNC_ANNOTATION: token}))
            writer.create(body)
            entry["action"] = "created"
            fresh.append(name)
            before[name] = None
            continue
        patch = es.spec_patch(current, want)
        if patch:
            entry["action"] = "updated"
            fresh.append(name)
        if module.check_mode:
            if patch:
                writer.patch(current, patch, api_version=es.API_VERSION, kind=es.KIND)
            continue
        # a fresh sync, also when nothing changed: an old Ready status proves nothing about a running operator
        body = dict(patch or {}, **es.sync_request(token))
        writer.patch(current, body, api_version=es.API_VERSION, kind=es.KIND)
        before[name] = ((current.get("status") or {}).get("syncedResourceVersion"))
    result["changed"] = result["changed"] or bool(fresh)

    if module.check_mode:
        # nothing was asked of the operator: judge what it synced last, for the objects this run leaves as they are
        for name in names:
            if name in fresh:
                continue
            state, message = es.sync_state(client.get(es.API_VERSION, es.KIND, name, namespace))
            entries[name].update(state=state, message=message)
            if state == "error":
                raise es.ExternalSecretError("external_secret_store", "ExternalSecret %s (%s) does not sync: %s" % (
                    name, es.describe(objects[name]), message))
    else:
        synced = _wait_synced(client, objects, before, ref, p["external_secret_timeout"])
        for name, (state, message) in synced.items():
            entries[name].update(state=state, message=message)
    result["external_secrets"] = [entries[n] for n in names]

    synced = [n for n in names if entries[n]["state"] == "synced"]
    if synced:
        secrets.update((name, client.get("v1", "Secret", name, namespace)) for name in synced)
    values = {}
    for key, _given, _generated in wanted:
        name = placement[key].object_name
        if name in synced:
            values[key] = auth_secrets.decoded(secrets.get(name), key)
            if values[key]:
                masker.add(values[key])
                k8s_utils.add_no_log(module, values[key])
    result["keys"] = [{"secret": placement[key].object_name, "key": key,
                       "state": "synced" if placement[key].object_name in synced else "pending-sync",
                       "store_key": "%s:%s" % (es.remote_key(p["external_secret_prefix"], placement[key].object_name), key)}
                      for key, _given, _generated in wanted]
    failures = es.synced_failures(dict((n, objects[n]) for n in synced), values)
    if failures:
        raise es.ExternalSecretError(
            "external_secret_store", "the store holds values flyteadmin or flytepropeller cannot use: %s. The operator "
            "has synced them into the Secret, but nothing of flyteadmin's configuration was written and nothing was "
            "restarted; fix the value in the store and run again" % "; ".join(failures))

    # restart on change: the consumers whose config hash differs from what the Secrets (and ConfigMaps) hold now
    restart = set(target.model.restart_for([("Secret", n) for n in fresh]))
    for label in target.model.restart_for([("Secret", n) for n in synced]):
        kind, wname = wl.parse_workload(label, ro.ROLLABLE_KINDS)
        workload = client.get(wl.API_VERSIONS[kind], kind, wname, namespace)
        if workload is None:
            continue
        workload.setdefault("kind", kind)
        refs = ro.referenced_objects(ro.pod_template(workload).get("spec") or {})
        inputs = [client.get("v1", rk, rn, namespace) for rk, rn, _o in refs]
        if ro.plan_restart(workload, refs, inputs)["action"] == "restart":
            restart.add(label)
    result["restart_required"] = sorted(restart)


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
