# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON over HTTPS for the identity-provider admin APIs, through Ansible's own URL helpers (no SDK).

One job: send a request with the provider's authorization header, decode the JSON answer, and turn an
HTTP error into ``IdpError`` naming the call and the provider's answer (never the request body, which
may hold a secret).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

try:
    from ansible.module_utils.six.moves.urllib.error import HTTPError
except ImportError:  # pragma: no cover
    from urllib.error import HTTPError  # type: ignore


class IdpError(Exception):
    """An IdP API call failed; the message names the call and the IdP's answer."""


def _detail(exc):
    try:
        return exc.read().decode("utf-8", "replace")[:300]
    except Exception:  # pylint: disable=broad-except
        return ""


def token(url, form, validate_certs=True, timeout=30, what="the IdP admin"):
    """POST an OAuth2 token request (form-encoded) and return the access token."""
    try:
        answer = open_url(url, method="POST", data=urlencode(form), validate_certs=validate_certs, timeout=timeout,
                          headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        return json.loads(answer.read())["access_token"]
    except HTTPError as exc:
        detail = _detail(exc)[:120]
        raise IdpError("cannot log in to %s as %s (%s): HTTP %s %s" % (url, what, form.get("grant_type"), exc.code, detail))
    except Exception as exc:  # pylint: disable=broad-except
        raise IdpError("cannot reach %s: %s" % (url, exc))


class JsonAPI(object):
    """A REST API below ``base`` that takes and returns JSON, authorized by ``authorization``."""

    def __init__(self, base, authorization, validate_certs=True, timeout=30):
        self.base = base.rstrip("/")
        self.authorization = authorization
        self.validate_certs = validate_certs
        self.timeout = timeout

    def call(self, method, path, body=None, missing=None):
        """``method path``; a 404 returns ``missing`` when given, any other error raises IdpError."""
        url = path if path.startswith(("https://", "http://")) else self.base + path
        headers = {"Authorization": self.authorization, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            answer = open_url(url, method=method, data=json.dumps(body) if body is not None else None,
                              headers=headers, validate_certs=self.validate_certs, timeout=self.timeout)
            text = answer.read()
            return json.loads(text) if text else None
        except HTTPError as exc:
            if exc.code == 404 and missing is not None:
                return missing
            raise IdpError("%s %s failed: HTTP %s %s" % (method, path.split("?")[0], exc.code, _detail(exc)))
        except IdpError:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            raise IdpError("%s %s failed: %s" % (method, url.split("?")[0], exc))
