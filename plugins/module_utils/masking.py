# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mask secret values in module results and diffs.

What is masked:

* known values: every secret the module handles is registered as it runs (``Masker.add``), together with its
  base64 forms (padded, unpadded, URL-safe) and its whitespace-trimmed form. Any whole string equal to one is
  masked; any occurrence inside a longer string is masked too when the value has at least
  ``MIN_SUBSTRING_LENGTH`` characters (shorter ones would mangle ordinary text);
* known places, registered or not: values under secret-looking keys (``SECRET_KEYS``, compared ignoring case,
  ``_`` and ``-``) in nested results and in YAML/JSON text (block scalars included), the ``data`` and
  ``stringData`` values and the last-applied annotation of Secret objects, and PEM private key blocks.

How it is masked (the choice documented for the collection):

* results (``mask``) get the fixed ``MASK`` (``********``): nothing about the value is revealed;
* diffs (``mask_diff``, ``mask_text(tagged=True)``) get a tag ``<masked:1a2b3c4d>``: the first 8 hex digits of
  HMAC-SHA256 of the value, keyed with 16 random bytes that live only in the ``Masker`` (one per module run).
  Equal values get equal tags within a run, so a diff shows *that* a secret changed; unlike a plain sha256
  prefix the tag cannot be checked against guessed passwords, and it differs from run to run.

Masking text before diffing it is safer than masking a finished diff (a diff's context lines can hold part of a
PEM block without its BEGIN line): ``embedded_yaml.text_diff`` does that.

Nothing here mutates its input: every function returns new objects.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping

MASK = "********"
TAG_PREFIX = "<masked:"
MIN_SUBSTRING_LENGTH = 4
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"

# Keys whose values are secret wherever they appear (normalised: lower case, without "_" and "-").
SECRET_KEYS = frozenset([
    "clientsecret", "oidcclientsecret", "password", "claimsymmetrickey", "cookiehashkey", "cookieblockkey",
    "tokenrsakey.pem", "tokenrsakeyold.pem", "secretkey", "apikey", "privatekey", "accesskeysecret",
])

_PEM_RE = re.compile(r"(-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----)(.*?)(-----END \2-----)", re.DOTALL)
_KEY_LINE_RE = re.compile(
    r"^(?P<lead>[ \t]*(?:-[ \t]+)?)(?P<q>[\"']?)(?P<key>[A-Za-z0-9_.\-]+)(?P=q)[ \t]*:(?:[ \t]+(?P<value>.*?))?[ \t]*$")
_JSON_PAIR_RE = re.compile(r'"(?P<key>[A-Za-z0-9_.\-]+)"(?P<sep>[ \t]*:[ \t]*)"(?P<value>(?:[^"\\]|\\.)*)"')
_QUOTED_RE = re.compile(r"^(?P<q>[\"'])(?P<inner>.*)(?P=q)(?P<tail>,?)$")
_BLOCK_INDICATOR_RE = re.compile(r"^[|>][-+0-9]*$")
_NOT_A_VALUE = frozenset(["", "~", "null", "{}", "[]", "''", '""', MASK])
_DIFF_META = ("---", "+++", "@@", "\\ ")


def is_secret_key(name):
    """True when ``name`` is a key whose value is a secret (``client_secret``, ``clientSecret``, ``password``, ...)."""
    if not isinstance(name, str):
        return False
    return name.lower().replace("_", "").replace("-", "") in SECRET_KEYS


def _b64_forms(raw):
    """The base64 spellings of ``raw`` bytes that may appear in Kubernetes objects and config files."""
    std = base64.b64encode(raw).decode("ascii")
    url = base64.urlsafe_b64encode(raw).decode("ascii")
    return set([std, std.rstrip("="), url, url.rstrip("=")])


class Masker(object):
    """Known secret values of one module run, and the masking of results, texts and diffs with them."""

    def __init__(self, values=(), key=None):
        self._key = key or os.urandom(16)
        self._values = set()
        self._pattern = None
        self.add(*values)

    @property
    def values(self):
        """The registered values and their encoded forms (a copy)."""
        return frozenset(self._values)

    def add(self, *values):
        """Register secret values (str or bytes); ``None`` and blank values are ignored. Returns the first value."""
        for value in values:
            if value is None:
                continue
            raw = value if isinstance(value, bytes) else str(value).encode("utf-8")
            text = raw.decode("utf-8", "replace")
            if not text.strip():
                continue
            forms = set([text, text.strip()]) | _b64_forms(raw) | _b64_forms(text.strip().encode("utf-8"))
            self._values.update(form for form in forms if form)
            self._pattern = None
        return values[0] if values else None

    def tag(self, value):
        """``<masked:xxxxxxxx>``: a keyed digest of ``value``, equal for equal values within this Masker only."""
        if isinstance(value, str):
            value = value.encode("utf-8")
        return "%s%s>" % (TAG_PREFIX, hmac.new(self._key, value, hashlib.sha256).hexdigest()[:8])

    def replacement(self, value, tagged=False):
        """What ``value`` is replaced with: ``MASK``, or its tag when ``tagged``."""
        return self.tag(value) if tagged else MASK

    def _substring_pattern(self):
        if self._pattern is None:
            long_values = sorted((v for v in self._values if len(v) >= MIN_SUBSTRING_LENGTH), key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in long_values)) if long_values else False
        return self._pattern

    def mask_values(self, text, tagged=False):
        """Replace registered values in ``text`` (whole string, or substrings of sufficient length)."""
        if text in self._values:
            return self.replacement(text, tagged)
        pattern = self._substring_pattern()
        if not pattern:
            return text
        return pattern.sub(lambda match: self.replacement(match.group(0), tagged), text)

    def mask_text(self, text, tagged=False, diff=False):
        """Mask registered values, PEM private keys and values under secret-looking keys in ``text``.

        ``diff=True`` treats ``text`` as a unified diff: the first character of each line is its +/-/space marker.
        """
        if not isinstance(text, str) or not text:
            return text
        text = self.mask_values(text, tagged)
        text = _PEM_RE.sub(lambda m: "%s %s %s" % (m.group(1), self.replacement(m.group(3), tagged), m.group(4)), text)
        text = _JSON_PAIR_RE.sub(lambda m: self._mask_json_pair(m, tagged), text)
        return self._mask_key_lines(text, tagged, diff)

    def _mask_json_pair(self, match, tagged):
        """Mask the string value of a ``"key": "value"`` pair (JSON on one line) whose key is secret-looking."""
        value = match.group("value")
        if not is_secret_key(match.group("key")) or value in _NOT_A_VALUE or value.startswith(TAG_PREFIX):
            return match.group(0)
        return '"%s"%s"%s"' % (match.group("key"), match.group("sep"), self.replacement(value, tagged))

    def _mask_key_lines(self, text, tagged, diff):
        """Mask ``key: value`` lines (YAML or JSON) whose key is secret-looking, and the lines of their block scalars."""
        out = []
        block_indent = None
        for line in text.split("\n"):
            marker, body = _split_marker(line, diff)
            if block_indent is not None:
                if body.strip() and _indent(body) > block_indent:
                    out.append(marker + body[:_indent(body)] + self.replacement(body.strip(), tagged))
                    continue
                if body.strip():
                    block_indent = None
            match = _KEY_LINE_RE.match(body)
            if match and is_secret_key(match.group("key")):
                value = match.group("value") or ""
                if _BLOCK_INDICATOR_RE.match(value):
                    block_indent = match.end("lead")
                elif value not in _NOT_A_VALUE and not value.startswith(TAG_PREFIX):
                    body = body[:match.start("value")] + self._mask_scalar_text(value, tagged) + body[match.end("value"):]
            out.append(marker + body)
        return "\n".join(out)

    def _mask_scalar_text(self, value, tagged):
        """Mask one scalar as written in YAML/JSON, keeping its quotes and a trailing comma."""
        quoted = _QUOTED_RE.match(value)
        if quoted:
            if quoted.group("inner").startswith(TAG_PREFIX) or quoted.group("inner") == MASK:
                return value
            return "%s%s%s%s" % (quoted.group("q"), self.replacement(quoted.group("inner"), tagged), quoted.group("q"), quoted.group("tail"))
        return self.replacement(value, tagged)

    def mask(self, obj, tagged=False):
        """Return a masked copy of a nested result (dicts, lists, tuples, strings); the input is not changed."""
        return self._walk(obj, tagged, False)

    def _walk(self, obj, tagged, secret):
        if isinstance(obj, Mapping):
            if obj.get("kind") == "Secret":
                return self.mask_secret(obj, tagged)
            return dict((key, self._walk(value, tagged, secret or is_secret_key(key))) for key, value in obj.items())
        if isinstance(obj, (list, tuple)):
            return type(obj)(self._walk(value, tagged, secret) for value in obj)
        if isinstance(obj, bytes):
            return self.replacement(obj, tagged) if secret and obj else obj
        if isinstance(obj, str):
            if secret and obj:
                return self.replacement(obj, tagged)
            return self.mask_text(obj, tagged)
        return obj

    def mask_secret(self, obj, tagged=False):
        """Masked copy of a Secret object: every ``data``/``stringData`` value and the last-applied annotation."""
        result = {}
        for field, value in obj.items():
            if field in ("data", "stringData") and isinstance(value, Mapping):
                result[field] = dict((k, self.replacement(v or "", tagged)) for k, v in value.items())
            elif field == "metadata" and isinstance(value, Mapping):
                result[field] = self._mask_metadata(value, tagged)
            else:
                result[field] = self._walk(value, tagged, False)
        return result

    def _mask_metadata(self, metadata, tagged):
        masked = self._walk(metadata, tagged, False)
        annotations = masked.get("annotations")
        if isinstance(annotations, dict) and annotations.get(LAST_APPLIED_ANNOTATION):
            annotations[LAST_APPLIED_ANNOTATION] = self.replacement(annotations[LAST_APPLIED_ANNOTATION], tagged)
        return masked

    def mask_diff(self, diff):
        """Mask a diff: a unified diff string, an Ansible diff dict (before/after/prepared) or a list of them. Tagged."""
        if isinstance(diff, str):
            return self.mask_text(diff, tagged=True, diff=True)
        if isinstance(diff, (list, tuple)):
            return type(diff)(self.mask_diff(item) for item in diff)
        if isinstance(diff, Mapping):
            result = {}
            for key, value in diff.items():
                if key == "prepared":
                    result[key] = self.mask_diff(value)
                else:
                    result[key] = self._walk(value, True, False)
            return result
        return diff


def _split_marker(line, diff):
    """Split a diff line into its +/-/space marker and its body (no marker outside diffs or on header lines)."""
    if diff and line and not line.startswith(_DIFF_META) and line[0] in "+- ":
        return line[0], line[1:]
    return "", line


def _indent(text):
    return len(text) - len(text.lstrip(" \t"))


_DEFAULT = Masker()


def default_masker():
    """The process-wide Masker (one Ansible module run is one process)."""
    return _DEFAULT


def reset(values=()):
    """Start a new default Masker (tests, or a new run in a long-lived process); returns it."""
    global _DEFAULT  # pylint: disable=global-statement
    _DEFAULT = Masker(values)
    return _DEFAULT


def register(*values):
    """Register secret values with the default Masker; returns the first value."""
    return _DEFAULT.add(*values)


def mask(obj, masker=None):
    """Masked copy of a nested result (``********``)."""
    return (masker or _DEFAULT).mask(obj)


def mask_text(text, masker=None, tagged=False):
    """Masked copy of a text."""
    return (masker or _DEFAULT).mask_text(text, tagged=tagged)


def mask_diff(diff, masker=None):
    """Masked copy of a diff (string, Ansible diff dict or list), secrets shown as ``<masked:xxxxxxxx>`` tags."""
    return (masker or _DEFAULT).mask_diff(diff)


def mask_secret(obj, masker=None):
    """Masked copy of a Secret object."""
    return (masker or _DEFAULT).mask_secret(obj)
