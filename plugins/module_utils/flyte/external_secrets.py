# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_auth_secrets with mode=external_secret: the auth Secrets filled by the External Secrets Operator (ESO).

One ExternalSecret per Secret Flyte reads (flyte_layout's placement of the auth keys), pointing at the user's
SecretStore or ClusterSecretStore. In the store, a Secret's keys live under ``<prefix><Secret name>``, one property
per data key (Vault KV: a path with fields; AWS Secrets Manager: a JSON secret; kubernetes provider: a Secret).

A run asks ESO for a fresh sync (an annotation that changes the object's metadata, which ESO's
``syncedResourceVersion`` follows), waits for ``Ready=True`` reason ``SecretSynced`` at that version, then the module
validates what landed in the Secrets with the checks of mode manage (``value_error``). A stopped operator never
answers the request, so a run cannot pass on a stale status.

The SecretStore renderers (``secret_store``) cover Vault with Kubernetes auth, AWS Secrets Manager with IRSA (a
ServiceAccount carrying the role annotation) and the kubernetes provider (Secrets of another namespace or cluster).

Pure functions on plain dicts; the module does the API calls.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config as ac

API_VERSION = "external-secrets.io/v1"
KIND = "ExternalSecret"
STORE_KINDS = ("SecretStore", "ClusterSecretStore")
SYNC_ANNOTATION = "hardening.flytesec.io/sync-requested"
MANAGED_LABELS = {"app.kubernetes.io/managed-by": "flytesec.hardening"}
PROVIDERS = ("vault", "aws", "kubernetes")
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
DEFAULT_REFRESH = "1h"


class ExternalSecretError(Exception):
    """A bad store option, a sync that did not happen or a value that would break Flyte; ``option`` names the input."""

    def __init__(self, option, message):
        super(ExternalSecretError, self).__init__("%s: %s" % (option, message))
        self.option = option


# ---------------------------------------------------------------------------------------------- ExternalSecrets

def remote_key(prefix, secret_name):
    """The key of one Secret's values in the external store."""
    return "%s%s" % (prefix or "", secret_name)


def store_ref(store):
    kind = store.get("kind") or "SecretStore"
    if kind not in STORE_KINDS:
        raise ExternalSecretError("external_secret_store", "kind must be SecretStore or ClusterSecretStore, got %r" % kind)
    if not store.get("name"):
        raise ExternalSecretError("external_secret_store", "name is required with mode=external_secret")
    return {"name": store["name"], "kind": kind}


def desired(namespace, store, prefix, placement, wanted, refresh_interval=DEFAULT_REFRESH, existing=None):
    """``{Secret name: ExternalSecret}`` that fill the Secrets holding the ``wanted`` keys.

    ``existing``: ``{Secret name: Secret or None}`` as read. A Secret that exists is filled with creationPolicy
    Merge (its owner, labels and other keys stay); a missing one is created and owned by its ExternalSecret."""
    ref = store_ref(store)
    objects = {}
    for key, _given, _generated in wanted:
        name = placement[key].object_name
        obj = objects.get(name)
        if obj is None:
            policy = "Merge" if (existing or {}).get(name) is not None else "Owner"
            obj = objects[name] = {
                "apiVersion": API_VERSION, "kind": KIND,
                "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_LABELS)},
                "spec": {"refreshInterval": refresh_interval, "secretStoreRef": dict(ref),
                         "target": {"name": name, "creationPolicy": policy}, "data": []}}
        obj["spec"]["data"].append({"secretKey": key, "remoteRef": {"key": remote_key(prefix, name), "property": key}})
    return objects


def _remote_ref(entry):
    ref = dict(entry.get("remoteRef") or {})
    # the API server fills these defaults in
    for field, default in (("conversionStrategy", "Default"), ("decodingStrategy", "None"), ("metadataPolicy", "None")):
        if ref.get(field) == default:
            ref.pop(field)
    return {"secretKey": entry.get("secretKey"), "remoteRef": ref}


def spec_patch(current, want):
    """The merge patch that makes ``current`` (an ExternalSecret as read) fetch what ``want`` does, or None.

    The target's creationPolicy is kept as the object has it (set once, when it was created)."""
    spec = (current or {}).get("spec") or {}
    patch = {}
    if spec.get("refreshInterval") != want["spec"]["refreshInterval"]:
        patch["refreshInterval"] = want["spec"]["refreshInterval"]
    ref = spec.get("secretStoreRef") or {}
    wanted_ref = want["spec"]["secretStoreRef"]
    if (ref.get("name"), ref.get("kind") or "SecretStore") != (wanted_ref["name"], wanted_ref["kind"]):
        patch["secretStoreRef"] = dict(want["spec"]["secretStoreRef"])
    have = sorted((_remote_ref(e) for e in spec.get("data") or []), key=lambda e: e["secretKey"])
    if have != sorted(want["spec"]["data"], key=lambda e: e["secretKey"]):
        patch["data"] = copy.deepcopy(want["spec"]["data"])
    if ((spec.get("target") or {}).get("name")) != want["spec"]["target"]["name"]:
        patch["target"] = {"name": want["spec"]["target"]["name"]}
    return {"spec": patch} if patch else None


def sync_request(token):
    """The merge patch that asks ESO to sync again now (its ``syncedResourceVersion`` covers the annotations)."""
    return {"metadata": {"annotations": {SYNC_ANNOTATION: token}}}


def _ready(obj):
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond
    return None


def sync_state(obj, before=None):
    """``(state, message)`` of one ExternalSecret as read: ``synced``, ``pending`` or ``error``.

    ``before``: the ``status.syncedResourceVersion`` read before this run asked for a sync (``sync_request``); a
    status still at that version is stale. Else the status must be at the object's current generation."""
    status = (obj or {}).get("status") or {}
    version = status.get("syncedResourceVersion") or ""
    ready = _ready(obj)
    generation = ((obj or {}).get("metadata") or {}).get("generation")
    last = "; last Ready condition: %s %s: %s" % (ready.get("status"), ready.get("reason"), ready.get("message")) \
        if ready else ""
    if before is not None and version == before:
        return "pending", "no sync since this run asked for one (status still at %s)%s" % (version or "nothing", last)
    if generation is not None and version and not version.startswith("%s-" % generation):
        return "pending", "status is of an older generation (%s, object at %s)%s" % (version, generation, last)
    if ready is None:
        return "pending", "no Ready condition yet (the operator has not reconciled it)"
    if ready.get("status") == "True" and ready.get("reason") == "SecretSynced":
        return "synced", ready.get("message") or "SecretSynced"
    state = "error" if ready.get("reason") == "SecretSyncedError" else "pending"
    return state, "%s: %s" % (ready.get("reason"), ready.get("message"))


def describe(obj, prefix=""):
    """``Secret/key <- store key:property`` of each entry of an ExternalSecret (for messages; no value)."""
    spec = obj.get("spec") or {}
    target = (spec.get("target") or {}).get("name") or obj["metadata"]["name"]
    return ", ".join("%s/%s <- %s:%s" % (target, e.get("secretKey"), (e.get("remoteRef") or {}).get("key"),
                                         (e.get("remoteRef") or {}).get("property"))
                     for e in spec.get("data") or [])


def timeout_message(obj, store, message, timeout):
    return ("ExternalSecret %s (%s) did not sync from %s %s within %ss: %s. Is the external-secrets operator running, "
            "and does the store hold these keys? Nothing of Flyte's configuration was written"
            % (obj["metadata"]["name"], describe(obj), store["kind"], store["name"], timeout, message))


def value_error(key, value):
    """Why a synced ``value`` for data key ``key`` would break or weaken Flyte, or None: the checks of mode manage
    (user-given values), so a value from the store passes exactly when the same value given as an option would."""
    if value is None:
        return "is missing from the synced Secret"
    if key == "client_secret":
        try:
            ac.check_client_secret(value, "client_secret")
        except ac.AuthConfigError as exc:
            return str(exc).split(": ", 1)[-1]
        return None
    if key == "oidc_client_secret":
        return None if value.strip() else "is empty"
    return ac.key_error(key, value)


def synced_failures(objects, values):
    """Messages, one per bad key, for the synced ``values`` (``{key: text or None}``) of ``objects``
    (``{Secret name: ExternalSecret}``), naming the Secret, the key and where it comes from in the store."""
    failures = []
    for name in sorted(objects):
        for entry in objects[name]["spec"]["data"]:
            key = entry["secretKey"]
            error = value_error(key, values.get(key))
            if error:
                remote = entry["remoteRef"]
                failures.append("%s/%s (store key %s, property %s) %s" % (name, key, remote["key"], remote["property"], error))
    return failures


# ------------------------------------------------------------------------------------------------- SecretStores

def _need(spec, option, *fields):
    missing = [f for f in fields if not spec.get(f)]
    if missing:
        raise ExternalSecretError(option, "%s required" % " and ".join(missing) + (" is" if len(missing) == 1 else " are"))


def secret_store(spec, namespace):
    """The objects of ``spec`` (option secret_store): ``[SecretStore or ClusterSecretStore, ServiceAccount...]``.

    ``spec``: ``name``, ``kind``, ``provider`` (vault, aws or kubernetes) and that provider's options:
    vault ``{server, path, version, auth_mount_path, role, service_account, ca_provider}`` (Kubernetes auth),
    aws ``{region, role_arn, service_account, service}`` (IRSA: the ServiceAccount gets the role annotation and the
    store authenticates with its token), kubernetes ``{remote_namespace, server_url, ca_configmap, service_account}``.
    Raises ExternalSecretError naming the missing option."""
    name = spec.get("name")
    kind = spec.get("kind") or "SecretStore"
    if not name:
        raise ExternalSecretError("secret_store.name", "is required")
    if kind not in STORE_KINDS:
        raise ExternalSecretError("secret_store.kind", "must be SecretStore or ClusterSecretStore, got %r" % kind)
    provider = spec.get("provider")
    if provider not in PROVIDERS:
        raise ExternalSecretError("secret_store.provider", "must be one of %s, got %r" % (", ".join(PROVIDERS), provider))
    options = dict(spec.get(provider) or {})
    option = "secret_store.%s" % provider
    cluster = kind == "ClusterSecretStore"
    meta = {"name": name, "labels": dict(MANAGED_LABELS)}
    if not cluster:
        meta["namespace"] = namespace

    def sa_ref(sa_name):
        ref = {"name": sa_name}
        if cluster:
            ref["namespace"] = namespace
        return ref

    extra = []
    if provider == "vault":
        _need(options, option, "server", "role")
        auth = {"mountPath": options.get("auth_mount_path") or "kubernetes", "role": options["role"]}
        if options.get("service_account"):
            auth["serviceAccountRef"] = sa_ref(options["service_account"])
        body = {"server": options["server"], "path": options.get("path") or "secret",
                "version": options.get("version") or "v2", "auth": {"kubernetes": auth}}
        if options.get("namespace"):
            body["namespace"] = options["namespace"]
        if options.get("ca_provider"):
            body["caProvider"] = dict(options["ca_provider"])
    elif provider == "aws":
        _need(options, option, "region", "role_arn")
        sa_name = options.get("service_account") or "flyte-external-secrets"
        body = {"service": options.get("service") or "SecretsManager", "region": options["region"],
                "auth": {"jwt": {"serviceAccountRef": sa_ref(sa_name)}}}
        extra.append({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": sa_name, "namespace": namespace, "labels": dict(MANAGED_LABELS),
                                   "annotations": {IRSA_ANNOTATION: options["role_arn"]}}})
    else:
        _need(options, option, "remote_namespace", "service_account")
        server = {}
        if options.get("server_url"):
            server["url"] = options["server_url"]
        ca = options.get("ca_configmap") or {"name": "kube-root-ca.crt", "key": "ca.crt"}
        server["caProvider"] = {"type": "ConfigMap", "name": ca["name"], "key": ca.get("key") or "ca.crt"}
        if cluster:
            server["caProvider"]["namespace"] = namespace
        body = {"remoteNamespace": options["remote_namespace"], "server": server,
                "auth": {"serviceAccount": sa_ref(options["service_account"])}}
    store = {"apiVersion": API_VERSION, "kind": kind, "metadata": meta, "spec": {"provider": {provider: body}}}
    return [store] + extra


def _subset(want, have):
    """True when every field of ``want`` is in ``have`` with the same value (the API server adds defaults)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_subset(v, have.get(k)) for k, v in want.items())
    return want == have


def object_patch(current, want):
    """Merge patch making ``current`` carry ``want``'s spec (and, for a ServiceAccount, its annotations), or None."""
    patch = {}
    if want.get("spec") is not None and not _subset(want["spec"], current.get("spec") or {}):
        # a merge patch leaves fields of another provider in place: null what ``want`` does not have
        spec = copy.deepcopy(want["spec"])
        for provider in (current.get("spec") or {}).get("provider") or {}:
            spec["provider"].setdefault(provider, None)
        patch["spec"] = spec
    annotations = (want.get("metadata") or {}).get("annotations") or {}
    have = (current.get("metadata") or {}).get("annotations") or {}
    changed = dict((k, v) for k, v in annotations.items() if have.get(k) != v)
    if changed:
        patch["metadata"] = {"annotations": changed}
    return patch or None


def unknown_field_warnings(warnings):
    """API warnings that name a field the CRD does not know (the API server's default field validation warns)."""
    return [w for w in warnings if "unknown field" in (w.get("warning") or "")]
