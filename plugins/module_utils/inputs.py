# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain-text checks every module applies to values it writes into YAML, URLs, labels or Secrets.

A value that reaches a ConfigMap's embedded YAML, an HTTP request or a Lease must be one line of valid UTF-8 of a
sane length: a newline (``"a\\nb: c"``) would be read back as another key by a hand-rolled reader, a lone surrogate
(what Ansible hands a module for bytes that are not UTF-8) fails the API server's JSON decoding half way through a
run, and a 1 MiB string outgrows a ConfigMap. ``problem`` says what is wrong, ``show`` quotes a value in a message
without echoing a huge one. Pure functions.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

_CONTROL = re.compile(u"[\u0000-\u001f\u007f-\u009f\u2028\u2029]")
_SURROGATE = re.compile(u"[\ud800-\udfff]")
# A label value (and so a run id: backups in the cluster are labelled with it), as the API server validates it.
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def show(value, limit=80):
    """``repr`` of ``value``, cut to ``limit`` characters (a 1 MiB value is not echoed back)."""
    text = repr(value)
    return text if len(text) <= limit else "%s...(%d characters)" % (text[:limit], len(value) if hasattr(value, "__len__") else len(text))


def problem(value, max_length=2048, blank_ok=False, spaces_ok=True):
    """Why ``value`` is not one line of UTF-8 text of at most ``max_length`` characters, or None."""
    if not isinstance(value, str):
        return "must be a string, got %s" % type(value).__name__
    if _SURROGATE.search(value):
        return "is not valid UTF-8"
    if _CONTROL.search(value):
        return "contains a control character (a newline, tab, ...): %s" % show(value)
    if len(value) > max_length:
        return "is %d characters long; at most %d are accepted" % (len(value), max_length)
    if not blank_ok and not value.strip():
        return "is empty"
    if not spaces_ok and value.strip() != value:
        return "has leading or trailing whitespace: %s" % show(value)
    return None
