# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The auth Secret keys of flyte_auth_secrets: which to keep, generate, replace or reject, per mode, from what exists.

Where each key lives comes from flyte_layout (``auth_secret_keys`` and the model's Locations, which follow what the
workloads mount at /etc/secrets); the formats and the one-key decision table (``plan_key``) from auth_config. The
module reads the Secrets, calls ``plan_keys``, writes ``secret_writes`` through apply.Writer and reports.

Pure functions, except ``generate_value`` (random bytes). Plans carry secret values: they never go into a result.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
from collections import namedtuple

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config as ac
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as fl
from ansible_collections.flytesec.hardening.plugins.module_utils import masking

MODES = ("manage", "reference", "external_secret")
MANAGED_LABELS = {"app.kubernetes.io/managed-by": "flytesec.hardening"}

KeyPlan = namedtuple("KeyPlan", "secret key state value write")
KeyPlan.__doc__ = """What happens to one key of one Secret.

``secret``/``key``: the Secret and its data key. ``state``: kept, generated, set, rotated, replaced-invalid or
from-idp (mode manage); valid, missing or invalid (mode reference). ``value``: the text to write, None when one is
to be generated (or nothing is written). ``write``: the key changes."""

SecretWrite = namedtuple("SecretWrite", "name current body diff")
SecretWrite.__doc__ = """One write: ``current`` is the Secret as read (None: ``body`` is a whole Secret to create, else a
merge patch of its ``data``); ``diff`` names the changed keys, values masked."""


def key_names():
    """The data keys the module manages, as flyte_layout names them (client_secret, ..., token_rsa_key.pem)."""
    return [key for key, _setting in fl.auth_secret_keys()]


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


def check_params(params):
    """Validate the module's options; return the secret values given (to mask). Raises AuthConfigError."""
    unknown = sorted(set(params["keys"] or {}) - set(ac.GENERATED_KEYS))
    if unknown:
        raise ac.AuthConfigError("keys", "unknown key(s) %s; valid: %s" % (", ".join(unknown), ", ".join(sorted(ac.GENERATED_KEYS))))
    bad_rotate = sorted(set(params["rotate"]) - set(key_names()))
    if bad_rotate:
        raise ac.AuthConfigError("rotate", "unknown key(s) %s" % ", ".join(bad_rotate))
    ac.check_client_secret(params["propeller_client_secret"])
    if params["oidc_client_secret"] is not None and not params["oidc_client_secret"].strip():
        raise ac.AuthConfigError("oidc_client_secret", "is empty")
    for name, value in (params["keys"] or {}).items():
        error = ac.key_error(name, value)
        if error:
            raise ac.AuthConfigError("keys.%s" % name, error)
    if params.get("mode") == "external_secret":
        given = [name for name in ("propeller_client_secret", "oidc_client_secret", "keys", "rotate",
                                   "propeller_secret_source") if params.get(name)]
        if given:
            raise ac.AuthConfigError(given[0], "with mode=external_secret the values come from the external store; "
                                               "do not give %s (rotate a value in the store)" % ", ".join(given))
        store = params.get("external_secret_store") or params.get("secret_store") or {}
        if not store.get("name"):
            raise ac.AuthConfigError("external_secret_store", "name is required with mode=external_secret "
                                                              "(or give secret_store)")
        if (params.get("external_secret_timeout") or 0) < 1:
            raise ac.AuthConfigError("external_secret_timeout", "must be at least 1 second")
    values = [params["propeller_client_secret"], params["oidc_client_secret"]] + list((params["keys"] or {}).values())
    return [v for v in values if v]


def placement(model):
    """``{key: flyte_layout.Location}`` of every auth Secret key that has a home in the layout of ``model``."""
    found = {}
    for key, setting in fl.auth_secret_keys():
        location = model.locate(setting)
        if location is not None:
            found[key] = location
    return found


def secret_names(placement_, wanted):
    """Names of the Secrets that hold the ``wanted`` keys, sorted."""
    return sorted(set(placement_[key].object_name for key, _given, _generated in wanted))


def unread(placement_, wanted, workloads):
    """``Secret/key`` of the wanted keys that no workload's pod template shows to its containers.

    What is written must land in a file a Flyte container reads: a Secret no pod mounts (a renamed or kustomize-hashed
    install) or a key its volume's items leave out would leave flyteadmin crashing."""
    missing = []
    for key, _given, _generated in wanted:
        name = placement_[key].object_name
        if not any(fl.secret_key_visible(w, name, key) for w in workloads):
            missing.append("%s/%s" % (name, key))
    return missing


def decoded(secret, key):
    """The text a Secret (as read, or None) holds under ``key``, or None."""
    raw = ((secret or {}).get("data") or {}).get(key)
    return None if raw is None else base64.b64decode(raw).decode("utf-8")


def current_values(wanted, placement_, secrets):
    """``{key: text or None}`` of the wanted keys in ``secrets`` (``{name: Secret or None}``)."""
    return dict((key, decoded(secrets.get(placement_[key].object_name), key)) for key, _given, _generated in wanted)


def plan_keys(wanted, placement_, current, mode="manage", rotate=(), preview_from_idp=False):
    """The decision table: a ``KeyPlan`` per wanted key, from the options and what the Secrets hold.

    ``current``: ``{key: text or None}`` (``current_values``). ``mode`` manage plans writes; reference only judges
    the current values. ``preview_from_idp``: check mode while this run's IdP registration will write
    ``oidc_client_secret``, so a missing one is the planned state (``from-idp``), not an error.
    Raises AuthConfigError, naming the key, when flyteadmin would be left without a usable value.
    """
    if mode not in MODES:
        raise ac.AuthConfigError("mode", "must be one of %s, got %r" % (", ".join(MODES), mode))
    plans = []
    for key, given, generated in wanted:
        name = placement_[key].object_name
        value = current.get(key)
        if mode == "reference":
            plans.append(KeyPlan(name, key, ac.current_key_error(key, value) or "valid", None, False))
            continue
        if key == "oidc_client_secret" and given is None and preview_from_idp and ac.current_key_error(key, value):
            # The IdP registration of this run writes it in a real run; check mode previews that.
            plans.append(KeyPlan(name, key, "from-idp", None, False))
            continue
        new, state = ac.plan_key(key, given, value, key in (rotate or ()), generated, name)
        plans.append(KeyPlan(name, key, state, new, new is None or new != value))
    return plans


def entries(plans):
    """The module's ``keys`` result: where each key lives and what happened, no value."""
    return [{"secret": plan.secret, "key": plan.key, "state": plan.state} for plan in plans]


def reference_failure(plans):
    """With mode reference: the failure message when a key is not valid, else None."""
    bad = [plan for plan in plans if plan.state != "valid"]
    if not bad:
        return None
    return "mode=reference: %s" % "; ".join("%s/%s is %s" % (p.secret, p.key, p.state) for p in bad)


def generate_value(key):
    """A new value for ``key`` in the format flyteadmin (or flytepropeller) reads."""
    return ac.generate_secret() if key == "client_secret" else ac.generate_key(key)


def values_to_write(plans, generate=generate_value):
    """``{secret name: {key: text}}`` of the keys that change; a planned generation is done with ``generate(key)``."""
    values = {}
    for plan in plans:
        if plan.write:
            values.setdefault(plan.secret, {})[plan.key] = generate(plan.key) if plan.value is None else plan.value
    return values


def secret_writes(namespace, values, secrets):
    """``[SecretWrite]`` for ``values`` (``values_to_write``), by Secret name: a merge patch of ``data`` for a Secret
    that exists (``secrets``: ``{name: Secret or None}`` as read), a new Opaque Secret otherwise."""
    writes = []
    for name, keys in sorted(values.items()):
        data = dict((k, base64.b64encode(v.encode("utf-8")).decode("ascii")) for k, v in keys.items())
        current = secrets.get(name)
        if current is None:
            body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED_LABELS)},
                    "data": data}
        else:
            body = {"data": data}
        diff = {"before_header": "Secret/%s" % name, "after_header": "Secret/%s" % name, "before": "",
                "after": "".join("%s: %s (changed)\n" % (k, masking.MASK) for k in sorted(keys))}
        writes.append(SecretWrite(name, current, body, diff))
    return writes
