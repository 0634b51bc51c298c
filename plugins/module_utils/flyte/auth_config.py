# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyteadmin authentication settings: validation, the config blocks, the propeller client secret hash, auth keys.

Facts this follows (flyteadmin v1 ``auth/config/config.go``, flytestdlib's viper decoder, fosite):

* ``appAuth.authServerType`` is exactly ``Self`` or ``External`` (a case-sensitive enum).
* ``selfAuthServer.staticClients`` REPLACES flyteadmin's default map (the decoder zeroes fields), and each entry is
  replaced whole: every client is written with every field (flyte-cli and flytectl public, flytepropeller
  confidential).
* The propeller ``client_secret`` there is a ``[]byte``, which the decoder base64-decodes: the YAML value is
  base64 of a bcrypt hash. A raw ``$2a$...`` hash makes flyteadmin fail at start. fosite reads the cost from the
  hash, so any cost works.
* flyteadmin's built-in flytepropeller hash is public (``// Change this.``), and the flyte-core chart's default
  plaintext is ``foobar``: both are refused.
* ``cookie_hash_key`` (64 bytes), ``cookie_block_key`` (32) and ``claim_symmetric_key`` (32) are base64 *without*
  padding (RawStdEncoding); ``token_rsa_key.pem`` is a PKCS#1 ``RSA PRIVATE KEY`` PEM.
* go-oidc needs the discovery document's ``issuer`` to equal ``userAuth.openId.baseUrl`` exactly.

Pure functions; the flyte_auth_config and flyte_auth_secrets modules do the API calls. ``config_edits`` and
``static_client_edits`` plan what flyte_auth_config writes, as flyte_config Edits at the layout's Locations.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import binascii
import os
import re
import traceback

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

from ansible_collections.flytesec.hardening.plugins.module_utils import inputs
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte.config import Edit

BCRYPT_IMPORT_ERROR = None
try:
    # passlib's bcrypt handler (libpass provides the passlib import; Ansible's password_hash filter uses it too),
    # on the bcrypt backend
    import bcrypt  # noqa: F401  pylint: disable=unused-import
    from passlib.hash import bcrypt as bcrypt_handler
except ImportError:  # pragma: no cover - reported by the modules with missing_required_lib
    bcrypt_handler = None
    BCRYPT_IMPORT_ERROR = traceback.format_exc()

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError:  # pragma: no cover
    serialization = rsa = None
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

UPSTREAM_DEFAULT_HASH = "$2a$06$d6PQn2QAFU3cL5V8MDkeuuk63xubqUxNxjtfPw.Fc9MgV6vpmyOIy"
CHART_DEFAULT_SECRET = "foobar"
SERVER_TYPES = {"internal": "Self", "external": "External"}
AUTH_TYPES = ("ClientSecret", "Pkce", "ExternalCommand", "DeviceFlow")
SECRET_LOCATION = "/etc/secrets/client_secret"
DEFAULT_BCRYPT_COST = 10
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")

# Generated keys: name -> (raw bytes, format)
GENERATED_KEYS = {
    "claim_symmetric_key": 32,
    "cookie_hash_key": 64,
    "cookie_block_key": 32,
    "token_rsa_key.pem": None,
}
_RAW_B64 = re.compile(r"^[A-Za-z0-9+/]+$")


class AuthConfigError(ValueError):
    """Bad input; ``option`` names the module option, the message says what is wrong."""

    def __init__(self, option, message):
        ValueError.__init__(self, "%s: %s" % (option, message) if option else message)
        self.option = option


# ------------------------------------------------------------------------------------------------ validation

def _is_local(host):
    return (host or "").lower() in LOCAL_HOSTS or (host or "").lower().endswith(".localhost")


def check_url(value, option, https=True, allow_path=True):
    """Validate an absolute URL (https unless the host is local); return it unchanged."""
    bad = inputs.problem(value, blank_ok=True) if value is not None else None
    if bad:
        raise AuthConfigError(option, bad)
    text = (value or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AuthConfigError(option, "%r is not an absolute http(s) URL" % (value,))
    if https and parts.scheme != "https" and not _is_local(parts.hostname):
        raise AuthConfigError(option, "%r must use https (http is accepted only for localhost)" % (value,))
    if parts.fragment or (not allow_path and parts.path not in ("", "/")):
        raise AuthConfigError(option, "%r must not have a %s" % (value, "fragment" if parts.fragment else "path"))
    return text


def check_scopes(value, option):
    scopes = [s.strip() for s in (value or []) if s and s.strip()]
    if not scopes:
        raise AuthConfigError(option, "must list at least one scope")
    if any(" " in s for s in scopes):
        raise AuthConfigError(option, "scopes are single words, got %r" % (value,))
    return scopes


def normalize(params):
    """Validate the flyte_auth_config options; return the settings the blocks are built from."""
    public_url = check_url(params.get("public_url"), "public_url").rstrip("/")
    uris = [check_url(u, "authorized_uris", https=False).rstrip("/") for u in params.get("authorized_uris") or []]
    if not uris:
        uris = [public_url]
    if public_url not in uris:
        raise AuthConfigError("authorized_uris", "must contain public_url %s (flyteadmin checks token audiences "
                                                 "against it)" % public_url)
    server = params.get("auth_server") or "internal"
    if server not in SERVER_TYPES:
        raise AuthConfigError("auth_server", "must be internal or external, got %r" % (server,))
    settings = {"public_url": public_url, "authorized_uris": uris, "server_type": SERVER_TYPES[server],
                "use_auth": True if params.get("use_auth") is None else bool(params.get("use_auth"))}

    oidc = params.get("oidc") or {}
    if not oidc.get("base_url") or not oidc.get("client_id"):
        raise AuthConfigError("oidc", "base_url and client_id are required (flyteadmin runs OIDC discovery at start, "
                                      "even with the internal server)")
    base_url = check_url(oidc["base_url"], "oidc.base_url")
    bad = inputs.problem(oidc["client_id"], max_length=255, spaces_ok=False)
    if bad:
        raise AuthConfigError("oidc.client_id", bad)
    oidc_scopes = oidc["scopes"] if oidc.get("scopes") is not None else ["openid", "profile"]
    settings["oidc"] = {"baseUrl": base_url, "clientId": oidc["client_id"], "scopes": check_scopes(oidc_scopes, "oidc.scopes")}

    external = params.get("external_auth_server") or {}
    if server == "external":
        ext_base = check_url(external.get("base_url") or base_url, "external_auth_server.base_url")
        audience = list(external.get("allowed_audience") or [public_url])
        for aud in audience:
            if aud.rstrip("/") not in uris and not aud.startswith("api://"):  # api://<appId>: an Entra ID app's exposed API
                raise AuthConfigError("external_auth_server.allowed_audience", "%r is not among authorized_uris; flyteadmin "
                                      "would accept tokens for an audience it does not serve" % aud)
        block = {"baseUrl": ext_base, "allowedAudience": audience}
        if external.get("metadata_url"):
            block["metadataUrl"] = external["metadata_url"]
        settings["external"] = block
    elif external:
        raise AuthConfigError("external_auth_server", "is set but auth_server is internal; set auth_server: external")

    client = params.get("flyte_client") or {}
    redirect = client.get("redirect_uri") or "http://localhost:53593/callback"
    check_url(redirect, "flyte_client.redirect_uri", https=False)
    client_scopes = client["scopes"] if client.get("scopes") is not None else ["offline", "all"]
    settings["flyte_client"] = {"clientId": client.get("client_id") or "flytectl", "redirectUri": redirect,
                                "scopes": check_scopes(client_scopes, "flyte_client.scopes"),
                                "audience": client.get("audience") or ""}
    # flyteadmin's static clients are a map whose keys viper lowercases; an external IdP's ids keep their case.
    pid = params.get("propeller_client_id") or "flytepropeller"
    settings["propeller_client_id"] = pid.lower() if server == "internal" else pid
    admin = params.get("admin_client") or {}
    block = {"authType": "ClientSecret", "clientId": settings["propeller_client_id"],
             "clientSecretLocation": SECRET_LOCATION}
    if admin.get("endpoint"):
        block["endpoint"] = admin["endpoint"]
    if admin.get("insecure") is not None:
        block["insecure"] = bool(admin["insecure"])
    if admin.get("scopes"):
        block["scopes"] = check_scopes(admin["scopes"], "admin_client.scopes")
    else:
        block["useAudienceFromAdmin"] = True
    if admin.get("audience"):
        block["audience"] = admin["audience"]
    settings["admin_client"] = block
    return settings


# --------------------------------------------------------------------------------------- propeller secret hash

def decode_hash(stored):
    """The bcrypt hash inside a stored ``client_secret`` value (base64 of the hash); None when it is not one."""
    if not stored:
        return None
    text = stored.strip()
    if text.startswith("$2"):
        return None  # a raw hash: flyteadmin would fail to base64-decode it
    try:
        raw = base64.b64decode(text, validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return raw if raw.startswith("$2") else None


def stored_hash_error(stored):
    """Why a stored ``client_secret`` value would break or weaken flyteadmin, or None."""
    if stored is None:
        return None
    if stored.strip().startswith("$2"):
        return "is a raw bcrypt hash; flyteadmin base64-decodes client_secret and would fail at start"
    raw = decode_hash(stored)
    if raw is None:
        return "is not base64 of a bcrypt hash"
    if raw == UPSTREAM_DEFAULT_HASH:
        return "is flyteadmin's built-in default hash, which is public"
    return None


def check_client_secret(secret, option="propeller_client_secret"):
    if secret is None:
        return None
    if secret.strip() != secret or not secret:
        raise AuthConfigError(option, "must be non-empty without leading or trailing whitespace (propeller trims the file)")
    bad = inputs.problem(secret, max_length=72)
    if bad and "characters long" not in bad:
        raise AuthConfigError(option, bad.split(":")[0])   # never the secret itself
    if secret == CHART_DEFAULT_SECRET:
        raise AuthConfigError(option, "is the flyte-core chart's default secret, which is public; choose one of your own")
    if len(secret.encode("utf-8")) > 72:
        raise AuthConfigError(option, "is longer than 72 bytes, which bcrypt cannot hash")
    return secret


def verify(secret, stored):
    """True when ``stored`` (base64 of a bcrypt hash) is a hash of ``secret``."""
    raw = decode_hash(stored)
    if raw is None or bcrypt_handler is None:
        return False
    try:
        return bcrypt_handler.verify(secret, raw)
    except (ValueError, TypeError):
        return False


def hash_secret(secret, cost=DEFAULT_BCRYPT_COST):
    """base64 of a new bcrypt hash of ``secret`` (the value flyteadmin's static client wants)."""
    hashed = bcrypt_handler.using(rounds=cost, ident="2b").hash(secret)
    return base64.b64encode(hashed.encode("ascii")).decode("ascii")


def choose_hash(secret, stored, cost=DEFAULT_BCRYPT_COST):
    """``(value, rehashed)``: keep ``stored`` when it is a valid hash of ``secret``, else hash ``secret`` again."""
    if stored and stored_hash_error(stored) is None and verify(secret, stored):
        return stored.strip(), False
    return hash_secret(secret, cost), True


# --------------------------------------------------------------------------------------------- config blocks

def static_clients(settings, propeller_hash):
    """Every static client with every field (the map replaces flyteadmin's defaults)."""
    public = {"redirect_uris": ["http://localhost:53593/callback", "http://localhost:12345/callback"],
              "grant_types": ["refresh_token", "authorization_code"], "response_types": ["code", "token"],
              "scopes": ["all", "offline", "access_token"], "audience": None, "public": True}
    clients = {}
    for cid in ("flyte-cli", settings["flyte_client"]["clientId"]):
        entry = dict(public, id=cid)
        if cid == settings["flyte_client"]["clientId"] and settings["flyte_client"]["redirectUri"] not in entry["redirect_uris"]:
            entry["redirect_uris"] = [settings["flyte_client"]["redirectUri"]] + entry["redirect_uris"]
        entry.pop("audience")
        clients[cid.lower()] = entry
    pid = settings["propeller_client_id"]
    clients[pid] = {"id": pid, "client_secret": propeller_hash, "redirect_uris": ["http://localhost:3846/callback"],
                    "grant_types": ["refresh_token", "client_credentials"], "response_types": ["token"],
                    "scopes": ["all", "offline", "access_token"], "public": False}
    return clients


def auth_values(settings):
    """``{path under auth: value}`` of the keys flyte_auth_config manages (besides the static clients)."""
    values = {
        ("authorizedUris",): list(settings["authorized_uris"]),
        ("userAuth", "openId", "baseUrl"): settings["oidc"]["baseUrl"],
        ("userAuth", "openId", "clientId"): settings["oidc"]["clientId"],
        ("userAuth", "openId", "scopes"): list(settings["oidc"]["scopes"]),
        ("appAuth", "authServerType"): settings["server_type"],
        ("appAuth", "thirdPartyConfig", "flyteClient"): dict(settings["flyte_client"]),
    }
    if settings["server_type"] == "External":
        values[("appAuth", "externalAuthServer")] = dict(settings["external"])
    return values


# ------------------------------------------------------------------------------------------------- the edits

STATIC_CLIENTS_PATH = ("appAuth", "selfAuthServer", "staticClients")


def _edit(location, path, value):
    return Edit(location.object_kind, location.object_name, location.data_key, path, value)


def config_edits(settings, use_auth, auth, admin_clients):
    """The Edits of flyte_auth_config but the static clients: ``server.security.useAuth``, the auth block
    (``auth_values``) and the admin client config of every ``admin_clients`` location (propeller, scheduler).

    ``settings``: from ``normalize``; ``use_auth``, ``auth``, ``admin_clients``: flyte_layout Locations of the
    settings of those names."""
    edits = [_edit(use_auth, use_auth.path, settings["use_auth"])]
    for path, value in sorted(auth_values(settings).items()):
        edits.append(_edit(auth, auth.path + path, value))
    for location in admin_clients:
        for key, value in sorted(settings["admin_client"].items()):
            edits.append(_edit(location, location.path + (key,), value))
    return edits


def propeller_secret(given, stored, location, check_mode=False, stand_in=None):
    """The propeller plaintext the static client's hash is made of: ``given``, else ``stored`` (what the Secret at
    flyte_layout ``location`` holds). In check mode a secret that cannot stay is previewed with ``stand_in()``
    (default a generated one): the real run's flyte_auth_secrets, which runs first, replaces it.
    Raises AuthConfigError when there is none, or it is one flyteadmin must not accept."""
    secret = given or stored
    if not given and check_mode and current_key_error("client_secret", secret):
        secret = (stand_in or generate_secret)()
    if not secret:
        raise AuthConfigError("propeller_client_secret", "not given, and %s %s has no %s; run flyte_auth_secrets first "
                                                         "or give it" % (location.object_kind, location.object_name,
                                                                         location.data_key))
    check_client_secret(secret, "propeller_client_secret (from %s)" % location.object_name)
    return secret


def static_client_edits(settings, secret, stored, auth, hash_location, cost=DEFAULT_BCRYPT_COST):
    """The staticClients edit of flyteadmin's internal authorization server: ``(edits, hash value, rehashed)``.

    ``secret``: the propeller plaintext; ``stored``: the value at ``hash_location`` now (None when absent), kept when
    it is a valid hash of ``secret``, else a new bcrypt hash is made. ``auth``/``hash_location``: Locations of the
    settings ``auth`` and ``static_client_secret``. When both are one document (flyte-core) the whole map is one edit;
    otherwise (flyte-binary) the map goes without ``client_secret`` into the auth document, and the hash into the
    Secret file flyteadmin merges with it.
    """
    value, rehashed = choose_hash(secret, stored, cost)
    clients = static_clients(settings, value)
    path = auth.path + STATIC_CLIENTS_PATH
    if (hash_location.object_kind, hash_location.object_name) == (auth.object_kind, auth.object_name):
        return [_edit(auth, path, clients)], value, rehashed
    without = dict((k, dict((f, v) for f, v in c.items() if f != "client_secret")) for k, c in clients.items())
    return [_edit(auth, path, without), _edit(hash_location, hash_location.path, value)], value, rehashed


# ------------------------------------------------------------------------------------------------------ keys

def _raw_b64(nbytes):
    return base64.b64encode(os.urandom(nbytes)).decode("ascii").rstrip("=")


def generate_key(name):
    """A new value for one of GENERATED_KEYS, in the format flyteadmin reads."""
    if name == "token_rsa_key.pem":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption()).decode("ascii")
    return _raw_b64(GENERATED_KEYS[name])


def generate_secret(nbytes=32):
    """A random client secret (URL-safe text)."""
    return base64.urlsafe_b64encode(os.urandom(nbytes)).decode("ascii").rstrip("=")


def key_error(name, value):
    """Why ``value`` is not a valid ``name`` key for flyteadmin, or None."""
    if value is None or value == "":
        return "is empty"
    if name == "token_rsa_key.pem":
        text = value.strip()
        if "-----BEGIN RSA PRIVATE KEY-----" not in text:
            if "-----BEGIN PRIVATE KEY-----" in text:
                return "is a PKCS#8 key; flyteadmin needs PKCS#1 ('RSA PRIVATE KEY', e.g. openssl genrsa -traditional)"
            return "is not a PEM 'RSA PRIVATE KEY'"
        if serialization is not None:
            try:
                serialization.load_pem_private_key(text.encode("ascii"), password=None)
            except (ValueError, TypeError) as exc:
                return "cannot be parsed: %s" % exc
        return None
    size = GENERATED_KEYS.get(name)
    text = value.strip()
    if text.endswith("="):
        return "is padded base64; flyteadmin decodes it without padding (RawStdEncoding): strip the '='"
    if not _RAW_B64.match(text):
        return "is not base64 (standard alphabet, no padding)"
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return "is not base64"
    if size and len(raw) != size:
        return "decodes to %d bytes; flyteadmin wants %d" % (len(raw), size)
    return None


# ------------------------------------------------------------------------------------------------ Secret keys
def current_key_error(key, value):
    """Why the value a Secret holds for ``key`` cannot stay: ``missing``, ``invalid``, or None when it is fine."""
    if value is None:
        return "missing"
    if key == "client_secret":
        return "invalid" if value in ("", CHART_DEFAULT_SECRET) else None
    if key == "oidc_client_secret":
        return None if value.strip() else "invalid"
    return "invalid" if key_error(key, value) else None


def plan_key(key, given, current, rotate, generated, secret_name):
    """The decision table of one auth Secret key: ``(value, state)``, value None meaning "generate one".

    given: the user's value or None; current: what the Secret holds (None: absent); rotate: the key is to be
    generated again; generated: the collection may generate it (all but oidc_client_secret, which only the IdP
    issues). Raises AuthConfigError, naming the option, when flyteadmin would be left without a usable value.
    """
    problem = current_key_error(key, current)
    if given is not None:
        return given, ("kept" if given == current else ("rotated" if current else "set"))
    if rotate and generated:
        return None, "rotated"
    if problem is None:
        return current, "kept"
    if generated:
        return None, "generated" if problem == "missing" else "replaced-invalid"
    raise AuthConfigError(
        key, "Secret %s key %s is %s, and flyteadmin reads it at startup whenever authentication is on "
        "(without it: AUTH_CONTEXT_SETUP_FAILED, a CrashLoopBackOff). Give the OIDC client's secret from your IdP "
        "(role variable auth_oidc_client_secret), or register the clients with the idp_registration role, "
        "which writes it" % (secret_name, key, problem))
