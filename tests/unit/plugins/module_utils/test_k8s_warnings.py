# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Warning headers from the API server become the warning text, quoted-string escapes removed."""
from __future__ import absolute_import, division, print_function

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s

__metaclass__ = type


class _Headers(object):
    def __init__(self, values):
        self.values = values

    def getlist(self, name):
        return self.values if name == "Warning" else []


def test_podsecurity_warning_is_unescaped():
    header = r'299 - "would violate PodSecurity \"restricted:v1.34\": runAsUser=0 (container \"a\" must not set runAsUser=0)"'
    assert k8s._warnings_from_headers(_Headers([header])) == [
        'would violate PodSecurity "restricted:v1.34": runAsUser=0 (container "a" must not set runAsUser=0)']


def test_several_warnings_in_one_header_and_plain_text():
    header = '299 - "first", 299 - "second \\\\ backslash"'
    assert k8s._warnings_from_headers(_Headers([header, "299 - unquoted"])) == ["first", "second \\ backslash", "unquoted"]
    assert k8s._warnings_from_headers(None) == []
