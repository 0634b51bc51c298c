# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bad-input table (issue 22 section 3): every module and role entry point, fed a bad value, fails with an error
that names the option, and sends no write request (FakeClient records every request).

Each row is ``(id, target, args, option)``. ``target`` is a module (run through its ``main()`` against FakeClient) or
``role:<name>`` (the role's ``meta/argument_specs.yml``, validated the way ansible-core validates a role's arguments
before its first task). ``option`` must appear in the error message. tests/integration/test_bad_inputs_live.py runs a
sample of these rows through the playbooks against the real cluster, with its audit log proving no write.
"""
from __future__ import absolute_import, division, print_function

import base64
import os
import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import auth_config as ac
from ansible_collections.flytesec.hardening.plugins.modules import flyte_auth_config
from ansible_collections.flytesec.hardening.plugins.modules import flyte_auth_secrets
from ansible_collections.flytesec.hardening.plugins.modules import flyte_cors
from ansible_collections.flytesec.hardening.plugins.modules import flyte_gitops
from ansible_collections.flytesec.hardening.plugins.modules import flyte_idp_client
from ansible_collections.flytesec.hardening.plugins.modules import flyte_info
from ansible_collections.flytesec.hardening.plugins.modules import flyte_lock
from ansible_collections.flytesec.hardening.plugins.modules import flyte_network_policies
from ansible_collections.flytesec.hardening.plugins.modules import flyte_objects
from ansible_collections.flytesec.hardening.plugins.modules import flyte_pod_security_labels
from ansible_collections.flytesec.hardening.plugins.modules import flyte_projects
from ansible_collections.flytesec.hardening.plugins.modules import flyte_rbac
from ansible_collections.flytesec.hardening.plugins.modules import flyte_restore
from ansible_collections.flytesec.hardening.plugins.modules import flyte_rollout
from ansible_collections.flytesec.hardening.plugins.modules import flyte_security_audit
from ansible_collections.flytesec.hardening.plugins.modules import flyte_securitycontext

from conftest import FIXTURES
from fake_client import FakeClient, dumps, run_module

__metaclass__ = type

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SECRET = "propeller-secret-0123456789"
OIDC = "oidc-secret-from-the-idp-0123"
MIB = "a" * (1024 * 1024)
NON_UTF8 = b"\xff\xfe\x80flyte".decode("utf-8", "surrogateescape")   # what Ansible hands a module for undecodable bytes
INJECTION = "a\nb: c"
PADDED_32 = base64.b64encode(os.urandom(32)).decode()          # "...=": flyteadmin's RawStdEncoding refuses the padding
SHORT_HASH_KEY = base64.b64encode(os.urandom(16)).decode().rstrip("=")   # cookie_hash_key needs 64 bytes


def _pkcs8():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


PKCS8 = _pkcs8()
CORS = {"namespace": "flyte", "admin_url": "https://flyte.example.test", "console_origins": ["https://flyte.example.test"]}
AUTH = {"namespace": "flyte", "public_url": "https://flyte.example.test", "bcrypt_cost": 4, "propeller_client_secret": SECRET,
        "oidc": {"base_url": "https://idp.example.test/realms/flyte", "client_id": "flyteadmin"}}
AUTH_SECRETS = {"namespace": "flyte", "propeller_client_secret": SECRET, "oidc_client_secret": OIDC}
IDP = {"provider": "keycloak", "url": "https://127.0.0.1:9", "public_url": "https://flyte.example.test",
       "admin_username": "admin", "admin_password": "pw", "secrets_namespace": "flyte"}
LABELS = {"namespaces": ["flyte"], "enforce": "restricted"}
SC = {"namespace": "flyte", "workloads": ["Deployment/flyteadmin"]}
LOCK = {"namespace": "flyte", "run_id": "r1"}
GITOPS = {"chart": "flyte-core", "chart_path": "/nonexistent-chart", "dest": "/nonexistent-dest"}
OBJ = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "flyte"}, "data": {"a": "b"}}

MODULES = {
    "flyte_cors": flyte_cors, "flyte_auth_config": flyte_auth_config, "flyte_auth_secrets": flyte_auth_secrets,
    "flyte_idp_client": flyte_idp_client, "flyte_securitycontext": flyte_securitycontext,
    "flyte_pod_security_labels": flyte_pod_security_labels, "flyte_network_policies": flyte_network_policies,
    "flyte_rbac": flyte_rbac, "flyte_rollout": flyte_rollout, "flyte_lock": flyte_lock, "flyte_restore": flyte_restore,
    "flyte_objects": flyte_objects, "flyte_projects": flyte_projects, "flyte_gitops": flyte_gitops,
    "flyte_security_audit": flyte_security_audit, "flyte_info": flyte_info,
}


def _with(base, **changes):
    out = dict(base)
    out.update(changes)
    return out


def _oidc(**changes):
    return _with(AUTH, oidc=_with(AUTH["oidc"], **changes))


# (id, module or role:<name>, args, the option the message must name)
ROWS = [
    # ---- flyte_cors: origins, URLs, headers
    ("cors-origin-wildcard", "flyte_cors", _with(CORS, console_origins=["*"]), "console_origins"),
    ("cors-origin-path", "flyte_cors", _with(CORS, console_origins=["https://flyte.example.test/console"]), "console_origins"),
    ("cors-origin-http", "flyte_cors", _with(CORS, console_origins=["http://flyte.example.test"]), "console_origins"),
    ("cors-origin-empty", "flyte_cors", _with(CORS, console_origins=[""]), "console_origins"),
    ("cors-origin-whitespace", "flyte_cors", _with(CORS, console_origins=["   "]), "console_origins"),
    ("cors-origin-injection", "flyte_cors", _with(CORS, console_origins=["https://a.test\nb: c"]), "console_origins"),
    ("cors-origin-1mib", "flyte_cors", _with(CORS, console_origins=["https://%s.test" % MIB]), "console_origins"),
    ("cors-origin-non-utf8", "flyte_cors", _with(CORS, console_origins=["https://%s.test" % NON_UTF8]), "console_origins"),
    ("cors-origin-wrong-type", "flyte_cors", _with(CORS, console_origins=[{"a": 1}]), "console_origins"),
    ("cors-admin-url-http", "flyte_cors", _with(CORS, admin_url="http://flyte.example.test"), "admin_url"),
    ("cors-admin-url-whitespace", "flyte_cors", _with(CORS, admin_url="  "), "admin_url"),
    ("cors-admin-url-injection", "flyte_cors", _with(CORS, admin_url="https://flyte.example.test\nb: c"), "admin_url"),
    ("cors-header-injection", "flyte_cors", _with(CORS, allowed_headers=[INJECTION]), "allowed_headers"),
    ("cors-header-empty", "flyte_cors", _with(CORS, allowed_headers=[""]), "allowed_headers"),
    ("cors-layout-unknown", "flyte_cors", _with(CORS, layout="flyte-sandbox"), "layout"),
    ("cors-namespace-missing", "flyte_cors", _with(CORS, namespace="nope"), "namespace"),
    ("cors-state-wrong-type", "flyte_cors", _with(CORS, allow_wildcard="sometimes"), "allow_wildcard"),
    # ---- flyte_auth_config
    ("auth-public-url-http", "flyte_auth_config", _with(AUTH, public_url="http://flyte.example.test"), "public_url"),
    ("auth-public-url-empty", "flyte_auth_config", _with(AUTH, public_url=""), "public_url"),
    ("auth-public-url-path-injection", "flyte_auth_config", _with(AUTH, public_url="https://flyte.example.test\nb: c"),
     "public_url"),
    ("auth-oidc-base-url-http", "flyte_auth_config", _oidc(base_url="http://idp.example.test/realms/flyte"), "oidc"),
    ("auth-oidc-fragment", "flyte_auth_config", _oidc(base_url="https://idp.example.test/realms/flyte#top"), "oidc"),
    ("auth-oidc-client-id-whitespace", "flyte_auth_config", _oidc(client_id="  "), "oidc"),
    ("auth-oidc-wrong-type", "flyte_auth_config", _with(AUTH, oidc="https://idp.example.test"), "oidc"),
    ("auth-bcrypt-cost-range", "flyte_auth_config", _with(AUTH, bcrypt_cost=31), "bcrypt_cost"),
    ("auth-bcrypt-cost-type", "flyte_auth_config", _with(AUTH, bcrypt_cost="cheap"), "bcrypt_cost"),
    ("auth-server-unknown", "flyte_auth_config", _with(AUTH, auth_server="keycloak"), "auth_server"),
    ("auth-propeller-secret-whitespace", "flyte_auth_config", _with(AUTH, propeller_client_secret="   "),
     "propeller_client_secret"),
    ("auth-propeller-secret-injection", "flyte_auth_config", _with(AUTH, propeller_client_secret="abc\nb: c"),
     "propeller_client_secret"),
    ("auth-authorized-uri-http", "flyte_auth_config", _with(AUTH, authorized_uris=["http://flyte.example.test"]),
     "authorized_uris"),
    ("auth-layout-unknown", "flyte_auth_config", _with(AUTH, layout="sandbox"), "layout"),
    ("auth-namespace-missing", "flyte_auth_config", _with(AUTH, namespace="nope"), "namespace"),
    # ---- flyte_auth_secrets: malformed keys
    ("secrets-padded-base64", "flyte_auth_secrets", _with(AUTH_SECRETS, keys={"cookie_block_key": PADDED_32}),
     "keys.cookie_block_key"),
    ("secrets-short-hash-key", "flyte_auth_secrets", _with(AUTH_SECRETS, keys={"cookie_hash_key": SHORT_HASH_KEY}),
     "keys.cookie_hash_key"),
    ("secrets-pkcs8", "flyte_auth_secrets", _with(AUTH_SECRETS, keys={"token_rsa_key.pem": PKCS8}), "keys.token_rsa_key.pem"),
    ("secrets-not-pem", "flyte_auth_secrets", _with(AUTH_SECRETS, keys={"token_rsa_key.pem": "not a key"}),
     "keys.token_rsa_key.pem"),
    ("secrets-key-empty", "flyte_auth_secrets", _with(AUTH_SECRETS, keys={"claim_symmetric_key": ""}),
     "keys.claim_symmetric_key"),
    ("secrets-key-non-utf8", "flyte_auth_secrets", _with(AUTH_SECRETS, keys={"claim_symmetric_key": NON_UTF8}),
     "keys.claim_symmetric_key"),
    ("secrets-key-unknown", "flyte_auth_secrets", _with(AUTH_SECRETS, keys={"cookie_hash_keys": "x"}), "keys"),
    ("secrets-oidc-whitespace", "flyte_auth_secrets", _with(AUTH_SECRETS, oidc_client_secret=" \t "), "oidc_client_secret"),
    ("secrets-propeller-injection", "flyte_auth_secrets", _with(AUTH_SECRETS, propeller_client_secret=INJECTION),
     "propeller_client_secret"),
    ("secrets-propeller-1mib", "flyte_auth_secrets", _with(AUTH_SECRETS, propeller_client_secret=MIB),
     "propeller_client_secret"),
    ("secrets-rotate-unknown", "flyte_auth_secrets", _with(AUTH_SECRETS, rotate=["everything"]), "rotate"),
    ("secrets-mode-unknown", "flyte_auth_secrets", _with(AUTH_SECRETS, mode="vault"), "mode"),
    ("secrets-namespace-missing", "flyte_auth_secrets", _with(AUTH_SECRETS, namespace="nope"), "namespace"),
    # ---- flyte_idp_client
    ("idp-public-url-http", "flyte_idp_client", _with(IDP, public_url="http://flyte.example.test"), "public_url"),
    ("idp-public-url-whitespace", "flyte_idp_client", _with(IDP, public_url="   "), "public_url"),
    ("idp-url-http", "flyte_idp_client", _with(IDP, url="http://idp.example.test"), "url"),
    ("idp-url-injection", "flyte_idp_client", _with(IDP, url="https://127.0.0.1:9\nb: c"), "url"),
    ("idp-provider-unknown", "flyte_idp_client", _with(IDP, provider="auth0"), "provider"),
    ("idp-entra-secret-days", "flyte_idp_client", _with(IDP, provider="entra", entra_secret_days=0), "entra_secret_days"),
    ("idp-realm-empty", "flyte_idp_client", _with(IDP, realm=""), "realm"),
    ("idp-client-id-injection", "flyte_idp_client", _with(IDP, web_client_id=INJECTION), "web_client_id"),
    ("idp-secrets-namespace-missing", "flyte_idp_client", _with(IDP, secrets_namespace="nope"), "secrets_namespace"),
    # ---- flyte_securitycontext
    ("sc-run-as-user-root", "flyte_securitycontext", _with(SC, run_as_user=0), "run_as_user"),
    ("sc-run-as-user-type", "flyte_securitycontext", _with(SC, run_as_user="nobody"), "run_as_user"),
    ("sc-profile-unknown", "flyte_securitycontext", _with(SC, profile="strict"), "profile"),
    ("sc-workload-unknown-kind", "flyte_securitycontext", _with(SC, workloads=["Pod/flyteadmin"]), "workloads"),
    ("sc-workload-missing", "flyte_securitycontext", _with(SC, workloads=["Deployment/nope"]), "workloads"),
    ("sc-workload-empty", "flyte_securitycontext", _with(SC, workloads=[" "]), "workloads"),
    ("sc-wait-timeout-negative", "flyte_securitycontext", _with(SC, wait_timeout=-1), "wait_timeout"),
    ("sc-namespace-missing", "flyte_securitycontext", _with(SC, namespace="nope"), "namespace"),
    ("sc-exemption-no-justification", "flyte_securitycontext",
     _with(SC, exemptions=[{"container": "flyteadmin", "checks": ["runAsNonRoot"]}]), "exemptions"),
    ("sc-template-annotation-injection", "flyte_securitycontext", _with(SC, template_annotations={"Deployment/flyteadmin": {INJECTION: "x"}}),
     "template_annotations"),
    # ---- flyte_pod_security_labels
    ("psl-level-unknown", "flyte_pod_security_labels", _with(LABELS, enforce="strict"), "enforce"),
    ("psl-version-injection", "flyte_pod_security_labels", _with(LABELS, enforce_version=INJECTION), "enforce_version"),
    ("psl-version-bad", "flyte_pod_security_labels", _with(LABELS, enforce_version="1.34"), "enforce_version"),
    ("psl-namespace-missing", "flyte_pod_security_labels", _with(LABELS, namespaces=["nope"]), "namespaces"),
    ("psl-namespaces-empty", "flyte_pod_security_labels", _with(LABELS, namespaces=[]), "namespaces"),
    ("psl-namespaces-wrong-type", "flyte_pod_security_labels", _with(LABELS, namespaces=[{"name": "flyte"}]), "namespaces"),
    # ---- flyte_network_policies
    ("np-peers-unknown", "flyte_network_policies", {"namespace": "flyte", "peers": {"ingress_namespace": "x"}}, "peers"),
    ("np-cidr-bad", "flyte_network_policies", {"namespace": "flyte", "peers": {"apiserver_cidrs": ["10.0.0.1/33"]}}, "peers"),
    ("np-peers-wrong-type", "flyte_network_policies", {"namespace": "flyte", "peers": "everything"}, "peers"),
    ("np-project-namespace-missing", "flyte_network_policies",
     {"namespace": "flyte", "peers": {"apiserver_cidrs": ["10.0.0.1/32"]}, "project_namespaces": ["nope"]}, "project_namespaces"),
    ("np-namespace-missing", "flyte_network_policies", {"namespace": "nope"}, "namespace"),
    # ---- flyte_rbac
    ("rbac-extra-rule-wildcard", "flyte_rbac",
     {"namespace": "flyte", "extra_rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}, "extra_rules"),
    ("rbac-plugin-unknown", "flyte_rbac", {"namespace": "flyte", "task_plugins": ["mpi-operator-v9"]}, "task_plugins"),
    ("rbac-namespace-missing", "flyte_rbac", {"namespace": "nope"}, "namespace"),
    ("rbac-extra-rules-wrong-type", "flyte_rbac", {"namespace": "flyte", "extra_rules": ["get pods"]}, "extra_rules"),
    # ---- flyte_rollout
    ("rollout-workloads-empty", "flyte_rollout", {"namespace": "flyte", "workloads": []}, "workloads"),
    ("rollout-workload-unknown-kind", "flyte_rollout", {"namespace": "flyte", "workloads": ["Job/flyteadmin"]}, "workloads"),
    ("rollout-workload-missing", "flyte_rollout", {"namespace": "flyte", "workloads": ["Deployment/nope"]}, "workloads"),
    ("rollout-wait-sleep-zero", "flyte_rollout", {"namespace": "flyte", "workloads": ["flyteadmin"], "wait_sleep": 0},
     "wait_sleep"),
    ("rollout-candidate-unknown-kind", "flyte_rollout", {"namespace": "flyte", "candidates": ["Job/flyteadmin"]},
     "candidates"),
    ("rollout-candidate-input-not-config", "flyte_rollout",
     {"namespace": "flyte", "candidates": ["flyteadmin"], "candidate_inputs": ["Deployment/flyteadmin"]}, "candidate_inputs"),
    ("rollout-namespace-missing", "flyte_rollout", {"namespace": "nope", "workloads": ["flyteadmin"]}, "namespace"),
    # ---- flyte_lock
    ("lock-run-id-empty", "flyte_lock", _with(LOCK, run_id=""), "run_id"),
    ("lock-run-id-injection", "flyte_lock", _with(LOCK, run_id=INJECTION), "run_id"),
    ("lock-duration-negative", "flyte_lock", _with(LOCK, lease_duration=-5), "lease_duration"),
    ("lock-duration-type", "flyte_lock", _with(LOCK, lease_duration="long"), "lease_duration"),
    ("lock-retention-negative", "flyte_lock", _with(LOCK, backup_retention=-1, backup_dir="k8s:flyte"), "backup_retention"),
    ("lock-namespace-missing", "flyte_lock", _with(LOCK, namespace="nope"), "namespace"),
    # ---- flyte_restore
    ("restore-run-id-unknown", "flyte_restore", {"backup_dir": "/nonexistent-backups", "run_id": "nope"}, "run_id"),
    ("restore-run-id-whitespace", "flyte_restore", {"backup_dir": "/nonexistent-backups", "run_id": "  "}, "run_id"),
    ("restore-backup-dir-k8s-empty", "flyte_restore", {"backup_dir": "k8s:", "run_id": "r1"}, "backup_dir"),
    # ---- flyte_objects
    ("objects-no-name", "flyte_objects", {"definitions": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}]},
     "definitions"),
    ("objects-wrong-type", "flyte_objects", {"definitions": ["kind: ConfigMap"]}, "definitions"),
    ("objects-namespace-missing", "flyte_objects",
     {"definitions": [_with(OBJ, metadata={"name": "x", "namespace": "nope"})]}, "definitions"),
    # ---- flyte_projects
    ("projects-enforce-unknown", "flyte_projects", {"namespace": "flyte", "enforce": "strict"}, "enforce"),
    ("projects-namespace-injection", "flyte_projects", {"namespace": "flyte", "project_namespaces": [INJECTION]},
     "project_namespaces"),
    ("projects-network-unknown", "flyte_projects", {"namespace": "flyte", "network": {"egress_everywhere": True}}, "network"),
    ("projects-template-configmap-missing", "flyte_projects", {"namespace": "flyte", "template_configmap": "nope"},
     "template_configmap"),
    # ---- flyte_gitops
    ("gitops-chart-unknown", "flyte_gitops", _with(GITOPS, chart="flyte-sandbox"), "chart"),
    ("gitops-chart-path-missing", "flyte_gitops", GITOPS, "chart_path"),
    ("gitops-cors-origin-wildcard", "flyte_gitops",
     _with(GITOPS, chart_path=os.path.join(str(FIXTURES), "charts", "flyte-core"), cors={"console_origins": ["*"]}), "cors"),
    # ---- flyte_security_audit
    ("audit-severity-unknown", "flyte_security_audit", {"namespace": "flyte", "fail_on_new_severity": "urgent"},
     "fail_on_new_severity"),
    ("audit-waiver-no-expiry", "flyte_security_audit",
     {"namespace": "flyte", "waivers": [{"control": "FLYTE-IMG-001", "scope": "*", "justification": "pinned"}]}, "waivers"),
    ("audit-waivers-wrong-type", "flyte_security_audit", {"namespace": "flyte", "waivers": "all"}, "waivers"),
    # ---- flyte_info
    ("info-access-rule-bad", "flyte_info", {"namespace": "flyte", "access_rules": [{"verbs": ["get"]}]}, "access_rules"),
    ("info-layout-unknown", "flyte_info", {"namespace": "flyte", "layout": "helm"}, "layout"),
    # ---- role entry points (meta/argument_specs.yml)
    ("role-cors-origins-type", "role:cors", {"cors_console_origins": {"https://a.test": 1}}, "cors_console_origins"),
    ("role-pod-security-level", "role:pod_security", {"pod_security_enforce": "strict"}, "pod_security_enforce"),
    ("role-flytesec-layout", "role:flytesec", {"flytesec_layout": "flyte-sandbox"}, "flytesec_layout"),
    ("role-auth-bcrypt-type", "role:auth", {"auth_bcrypt_cost": "cheap"}, "auth_bcrypt_cost"),
]


def _role_spec(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


def _run_row(target, args):
    """``(message, writes)`` of one row."""
    if target.startswith("role:"):
        result = ArgumentSpecValidator(_role_spec(target.split(":", 1)[1])).validate(args)
        return "; ".join(str(e) for e in result.errors), []
    client = FakeClient()
    result, failed = run_module(MODULES[target], args, client)
    assert failed, "%s accepted %s: %s" % (target, sorted(args), dumps(result)[:400])
    return result["msg"], client.writes(dry_run=False)


@pytest.mark.parametrize("target,args,option", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_is_refused_naming_the_option_with_no_write(target, args, option, tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    message, writes = _run_row(target, args)
    assert message, "%s: no error for %s" % (target, sorted(args))
    assert re.search(r"\b%s\b" % re.escape(option), message), "%s: the error does not name %s: %s" % (target, option, message[:400])
    assert writes == []
    assert SECRET not in message and OIDC not in message and MIB not in message


def test_the_table_covers_every_module_and_enough_rows():
    assert len(ROWS) >= 60 and len(set(r[0] for r in ROWS)) == len(ROWS)
    assert set(MODULES) <= set(r[1] for r in ROWS)
    assert ac.key_error("cookie_block_key", PADDED_32)   # the row's premise: padding is what is wrong
