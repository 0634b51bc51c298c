# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""awx/credential_type_idp_admin.yml and flyte_idp_client agree: every variable the AWX credential type injects is
one the module reads, a secret field feeds a no_log option, and every secret the module takes from the environment
can be given through the credential. (tests/integration/test_awx_runner.py injects it as AWX does, against Keycloak.)"""
import os
import re

import pytest
import yaml

from ansible_collections.flytesec.hardening.plugins.modules import flyte_idp_client

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")


class _Spec(Exception):
    pass


def _argument_spec(monkeypatch):
    """flyte_idp_client's argument spec, as main() hands it to AnsibleModule."""
    def new_module(argument_spec, **kwargs):
        raise _Spec(argument_spec)
    monkeypatch.setattr(flyte_idp_client.k8s_utils, "new_module", new_module)
    with pytest.raises(_Spec) as caught:
        flyte_idp_client.main()
    return caught.value.args[0]


def test_credential_type_injects_what_flyte_idp_client_reads(monkeypatch):
    with open(os.path.join(ROOT, "awx", "credential_type_idp_admin.yml")) as handle:
        ctype = yaml.safe_load(handle)
    fields = dict((f["id"], f) for f in ctype["inputs"]["fields"])
    spec = _argument_spec(monkeypatch)
    read = dict((env, option) for option, arg in spec.items() if arg.get("fallback") for env in arg["fallback"][1])
    read.update((env, "url") for env in flyte_idp_client.URL_ENV.values())
    assert set(ctype["injectors"]) == set(["env"])   # secrets as env vars only, never as extra vars
    injected = {}
    for env, template in ctype["injectors"]["env"].items():
        field = re.match(r"^\{\{ (\w+) \}\}$", template).group(1)
        assert env in read, "%s: flyte_idp_client reads no such variable" % env
        assert bool(fields[field].get("secret")) == bool(spec[read[env]].get("no_log")), (env, field)
        injected[read[env]] = env
    wanted = sorted(o for o, arg in spec.items() if arg.get("no_log") and arg.get("fallback"))
    assert wanted and [o for o in wanted if o not in injected] == []
    assert set(["url", "admin_username", "admin_client_id", "entra_tenant_id", "entra_client_id"]) <= set(injected)
