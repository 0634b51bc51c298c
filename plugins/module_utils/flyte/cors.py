# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CORS settings for flyteadmin (``server.security.*``) and flyteconsole (``ADMIN_API_URL``).

flyteadmin wraps its whole HTTP mux in gorilla/handlers v1.5.1 ``CORS`` with ``AllowCredentials()``:

* ``"*"`` anywhere collapses the list to ``*`` and the answer carries ``Access-Control-Allow-Origin: *``
  together with ``Access-Control-Allow-Credentials: true``, which browsers reject for logged-in requests;
* an EMPTY ``allowedOrigins`` list allows every origin (it does not deny all);
* explicit origins are matched exactly, so ``https://a.example.com/`` never matches the browser's
  ``Origin: https://a.example.com``.

Hence the validation below. Pure functions; the flyte_cors module does the API calls. ``validate`` is the one
translation of the CORS options: flyte_cors (live mode) and flyte_gitops (GitOps mode, its ``cors`` dict) both call it,
and both write ``security_block``.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.flytesec.hardening.plugins.module_utils import inputs

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, keeps pylint quiet
    from urlparse import urlsplit  # type: ignore

REQUIRED_HEADERS = ("Content-Type", "flyte-authorization")
# The CORS options, as flyte_cors takes them and as the keys of flyte_gitops' ``cors`` dict.
OPTIONS = ("admin_url", "console_origins", "allowed_headers", "allow_insecure_origins", "allow_wildcard")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
MAX_URL = 2048   # an origin's host is at most 253 characters; a URL this long is a mistake


class CorsError(ValueError):
    """Invalid CORS input; the message names the option and the value."""


def _is_local(host):
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def normalize_origin(value, allow_insecure=False, allow_wildcard=False):
    """Return ``scheme://host[:port]`` in canonical form, or raise CorsError naming the value.

    A trailing slash is dropped; default ports are removed; scheme and host are lower-cased.
    """
    bad = inputs.problem(value, max_length=MAX_URL)
    if bad:
        raise CorsError("console_origins: an origin %s" % bad)
    text = value.strip()
    if text == "*":
        if not allow_wildcard:
            raise CorsError(
                "console_origins: '*' is refused: flyteadmin would answer Access-Control-Allow-Origin: * together with "
                "Access-Control-Allow-Credentials: true, which browsers reject for logged-in requests. "
                "List the console origins, or set allow_wildcard=true to accept it anyway.")
        return "*"
    parts = urlsplit(text.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CorsError("console_origins: %s is not an origin of the form scheme://host[:port]" % inputs.show(value))
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise CorsError("console_origins: %r must be scheme://host[:port] with no path, query, fragment or user" % value)
    try:
        port = parts.port
    except ValueError:
        raise CorsError("console_origins: %r has an invalid port" % value)
    host = parts.hostname.lower()
    if ":" in host:
        host = "[%s]" % host
    if parts.scheme == "http" and not allow_insecure and not _is_local(host):
        raise CorsError("console_origins: %r uses http; only https origins are allowed (http://localhost is accepted for "
                        "development), or set allow_insecure_origins=true" % value)
    default_port = {"http": 80, "https": 443}[parts.scheme]
    if port is None or port == default_port:
        return "%s://%s" % (parts.scheme, host)
    return "%s://%s:%d" % (parts.scheme, host, port)


def normalize_origins(values, allow_insecure=False, allow_wildcard=False):
    """Normalise a list of origins, dropping duplicates (first occurrence wins); refuse an empty list."""
    if not values:
        raise CorsError("console_origins: an empty list is refused: flyteadmin then allows EVERY origin. "
                        "Give the console origin(s), or use state=absent to turn CORS off.")
    result = []
    for value in values:
        origin = normalize_origin(value, allow_insecure, allow_wildcard)
        if origin not in result:
            result.append(origin)
    if "*" in result and len(result) > 1:
        raise CorsError("console_origins: '*' cannot be combined with other origins (flyteadmin then ignores them)")
    return result


def normalize_admin_url(value, allow_insecure=False):
    """Validate flyteadmin's public URL (scheme://host[:port][/path]) and return it without a trailing slash."""
    bad = inputs.problem(value, max_length=MAX_URL)
    if bad:
        raise CorsError("admin_url: %s" % bad)
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CorsError("admin_url: %r is not an absolute http(s) URL" % value)
    if parts.query or parts.fragment:
        raise CorsError("admin_url: %r must not have a query or fragment" % value)
    if parts.scheme == "http" and not allow_insecure and not _is_local(parts.hostname.lower()):
        raise CorsError("admin_url: %r uses http; use https (http://localhost is accepted for development), "
                        "or set allow_insecure_origins=true" % value)
    return text.rstrip("/")


def normalize_headers(values):
    """Return the allowed headers: the required ones first, then the user's, without case-insensitive duplicates."""
    result = []
    seen = set()
    for header in list(REQUIRED_HEADERS) + list(values or []):
        bad = inputs.problem(header, max_length=256, blank_ok=True) if header is not None else None
        if bad:
            raise CorsError("allowed_headers: a header name %s" % bad)
        name = (header or "").strip()
        if not name:
            raise CorsError("allowed_headers: empty header name")
        if any(c in name for c in " ,:;\t"):
            raise CorsError("allowed_headers: %r is not a valid header name" % header)
        if name.lower() not in seen:
            seen.add(name.lower())
            result.append(name)
    return result


def security_block(origins, headers):
    """The ``server.security`` values flyte_cors manages when CORS is on."""
    return {"allowCors": True, "allowedOrigins": list(origins), "allowedHeaders": list(headers)}


def validate(options, name=None):
    """Validate and normalise the CORS options; return ``(admin_url or None, origins, headers)``.

    ``options`` maps the names of OPTIONS to their values (a missing one takes the default: no admin URL, no extra
    header, https only, no wildcard). ``name`` is the option that holds them when they come as one dict (flyte_gitops'
    ``cors``): every message then starts with it (``cors.console_origins: ...``). A key not in OPTIONS is refused.
    Raise CorsError naming the option.
    """
    unknown = sorted(set(options or {}) - set(OPTIONS))
    if unknown:
        raise CorsError("%s: unknown key(s) %s; valid: %s" % (name or "cors", ", ".join(unknown), ", ".join(OPTIONS)))
    options = options or {}
    insecure = bool(options.get("allow_insecure_origins"))
    try:
        origins = normalize_origins(options.get("console_origins"), insecure, bool(options.get("allow_wildcard")))
        headers = normalize_headers(options.get("allowed_headers"))
        admin_url = normalize_admin_url(options["admin_url"], insecure) if options.get("admin_url") else None
    except CorsError as exc:
        if name:
            raise CorsError("%s.%s" % (name, exc))
        raise
    return admin_url, origins, headers


def require_admin_url(admin_url, layout, name=None):
    """Raise CorsError when a layout whose flyteconsole reads ``ADMIN_API_URL`` (flyte-core) gets no admin URL."""
    if not admin_url:
        raise CorsError("%sadmin_url: required on %s (flyteconsole's ADMIN_API_URL)" % ("%s." % name if name else "", layout))
