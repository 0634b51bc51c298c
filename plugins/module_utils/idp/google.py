# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Google: its OAuth clients are made by hand in the Google Cloud console (no API), so this provider only
takes the client id and secret you created and hands them on like the others do (see docs/idp-google.md).
Google cannot be Flyte's external authorization server; keep the internal one for flytectl and flytepropeller.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.flytesec.hardening.plugins.module_utils.idp.common import Registration
from ansible_collections.flytesec.hardening.plugins.module_utils.idp.http import IdpError

ISSUER = "https://accounts.google.com"


def register(params, check_mode, secret_missing=None):
    if params["external_auth_server"]:
        raise IdpError("external_auth_server: Google cannot be Flyte's external authorization server; set it to false "
                       "and use the internal one (auth_server: internal)")
    if not (params.get("google_client_id") and params.get("google_client_secret")):
        raise IdpError("google_client_id and google_client_secret are required for provider google (create the OAuth "
                       "client in the Google Cloud console first; see docs/idp-google.md)")
    if params["state"] == "absent":
        raise IdpError("state: absent is not possible for provider google; delete the OAuth client in the console")
    reg = Registration(ISSUER, {"web": params["google_client_id"]})
    reg.audience = None
    reg.scopes = ["openid", "profile", "email"]
    reg.secrets["web"] = params["google_client_secret"]
    return reg
