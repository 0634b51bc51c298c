# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every IdP provider of flyte_idp_client returns, and the facts they share.

A provider's ``register(params, check_mode, secret_missing)`` returns a ``Registration``: the issuer,
the client ids by role (``web``, ``cli``, ``propeller``), the changes and diffs (never with a secret),
and the client secrets by role, which the module writes to the Kubernetes Secrets and drops.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

FLYTECTL_REDIRECT = "http://localhost:53593/callback"
FLYTECTL_REDIRECTS = [FLYTECTL_REDIRECT, "http://localhost:12345/callback"]
# role -> (Secret name, key) the auth role mounts: flyteadmin's OIDC client secret, flytepropeller's.
SECRET_TARGETS = {"web": ("flyte-admin-secrets", "oidc_client_secret"), "propeller": ("flyte-secret-auth", "client_secret")}
SECRET_MARKERS = ("secret", "client_secret", "secretText", "password", "registrationAccessToken")


class Registration(object):
    """The outcome of one provider run."""

    def __init__(self, issuer, client_ids, discovery=None):
        self.issuer = issuer
        self.discovery = discovery or issuer.rstrip("/") + "/.well-known/openid-configuration"
        self.client_ids = client_ids
        self.changes = []
        self.diffs = []
        self.secrets = {}
        self.audience = None
        self.scopes = []
        self.propeller_scopes = []

    def change(self, text, header=None, before=None, after=None):
        """Record a change; with ``header`` also a diff entry (secret-looking keys removed)."""
        self.changes.append(text)
        if header is not None:
            self.diffs.append(dict(before_header=header, after_header=header, before=scrub(before or {}),
                                   after=scrub(after or {})))


def scrub(value):
    """``value`` without any key that names a secret, at any depth."""
    if isinstance(value, dict):
        return dict((k, scrub(v)) for k, v in value.items() if k not in SECRET_MARKERS)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def field_diff(current, desired, fields, path=""):
    """``{dotted field: (current, desired)}`` for the managed ``fields`` (lists compare as sets)."""
    changes = {}
    for field in fields:
        have, want = (current or {}).get(field), desired.get(field)
        if isinstance(want, dict):
            changes.update(field_diff(have or {}, want, sorted(want), path + field + "."))
            continue
        if isinstance(want, list) and not (want and isinstance(want[0], dict)):
            if sorted(have or []) != sorted(want):
                changes[path + field] = (have, want)
        elif have != want:
            changes[path + field] = (have, want)
    return changes
