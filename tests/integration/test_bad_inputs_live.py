# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sample of the bad-input table (tests/unit/plugins/modules/test_bad_inputs.py) run the way users run the
collection: harden-flyte.yml and the role playbooks, against upstream flyte-core on the real cluster. Each run fails
naming the option, and the API server's audit log shows no write (dry runs of the plan pass aside)."""
from __future__ import absolute_import, division, print_function

import base64
import os
from pathlib import Path

import pytest

from conftest import install_flyte
from k8s_audit import is_dry_run, is_write, username
from playbook import run_playbook

__metaclass__ = type

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
NS = "badinput-core"
ADMIN = "flytesec-admin"
INJECTION = "a\nb: c"
HARDEN_VALUES = {"flytesec_namespace": NS,
                 "cors_admin_url": "https://flyte-api.example.test",
                 "cors_console_origins": ["https://flyte.example.test"],
                 "auth_public_url": "https://flyte-api.example.test",
                 "auth_oidc": {"base_url": "https://idp.example.test/realms/flyte", "client_id": "flyteadmin"},
                 "auth_oidc_client_secret": "badinput-oidc-client-secret"}

# (id, playbook, extra vars, the option the output must name); the ids are those of the unit table's rows
ROWS = [
    ("cors-origin-wildcard", HARDEN, dict(HARDEN_VALUES, cors_console_origins=["*"]), "console_origins"),
    ("auth-public-url-http", HARDEN, dict(HARDEN_VALUES, auth_public_url="http://flyte-api.example.test"), "public_url"),
    ("cors-origin-1mib", HARDEN, dict(HARDEN_VALUES, cors_console_origins=["https://%s.test" % ("a" * 1024 * 1024)]),
     "console_origins"),
    ("role-flytesec-layout", HARDEN, dict(HARDEN_VALUES, flytesec_layout="flyte-sandbox"), "flytesec_layout"),
    ("cors-admin-url-injection", PLAYBOOKS / "cors.yml",
     {"cors_namespace": NS, "cors_admin_url": "https://flyte.example.test\nb: c",
      "cors_console_origins": ["https://flyte.example.test"]}, "admin_url"),
    ("secrets-padded-base64", PLAYBOOKS / "auth_secrets.yml",
     {"auth_secrets_namespace": NS, "auth_secrets_oidc_client_secret": "badinput-oidc",
      "auth_secrets_keys": {"cookie_block_key": base64.b64encode(os.urandom(32)).decode()}}, "keys.cookie_block_key"),
    ("np-cidr-bad", PLAYBOOKS / "network_policies.yml",
     {"network_policies_namespace": NS, "network_policies_peers": {"apiserver_cidrs": ["10.0.0.1/33"]}}, "peers"),
    ("rbac-extra-rule-wildcard", PLAYBOOKS / "rbac.yml",
     {"rbac_namespace": NS, "rbac_extra_rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}, "extra_rules"),
    ("psl-level-unknown", PLAYBOOKS / "pod_security_role.yml", {"pod_security_namespace": NS, "pod_security_level": "strict"},
     "pod_security_level"),
]


@pytest.fixture(scope="module")
def core(cluster):
    install_flyte(cluster, "flyte-core", NS)
    return NS


@pytest.mark.parametrize("playbook,values,option", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_is_refused_live_with_no_write(cluster, core, audit, tmp_path, playbook, values, option):
    values = dict(values)
    if playbook == HARDEN:
        values["flytesec_state_root"] = str(tmp_path / "state")
    start = audit.mark()
    result = run_playbook(playbook, cluster.kubeconfig, values)
    assert result.rc != 0, result.stdout[-3000:]
    failed = " | ".join(str(r.get("msg", "")) for _name, r in result.tasks() if r.get("failed")) or result.stdout[-3000:]
    assert option in failed, failed[-3000:]
    assert "a" * 4096 not in failed   # a 1 MiB value is not echoed back
    writes = [e for e in audit.events(since=start) if is_write(e) and not is_dry_run(e) and username(e) == ADMIN]
    assert writes == [], ["%s %s" % (e["verb"], e["requestURI"]) for e in writes]
