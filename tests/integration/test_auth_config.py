# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_auth_secrets + flyte_auth_config on the real local cluster (issue 6): flyte-core, internal and external."""
from __future__ import absolute_import, division, print_function

import base64
import json
from pathlib import Path

import bcrypt
import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from conftest import install_flyte, rolled_out, wait_for
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration
PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "auth.yml"
ADMIN = "flytesec-admin"
PUBLIC = "https://flyte.example.com"
ISSUER = "https://keycloak.example.com/realms/flyte"
SECRET = "propeller-secret-0123456789"
OIDC_SECRET = "oidc-secret-abcdefghij"


def _vars(namespace, mode="internal", **extra):
    values = {"auth_namespace": namespace, "auth_public_url": PUBLIC, "auth_server": mode,
              "auth_oidc": {"base_url": ISSUER, "client_id": "flyteadmin"},
              "auth_propeller_client_secret": SECRET, "auth_oidc_client_secret": OIDC_SECRET}
    if mode == "external":
        values["auth_external_auth_server"] = {"metadata_url": ".well-known/openid-configuration"}
        values["auth_admin_client"] = {"scopes": ["all"]}
    values.update(extra)
    return values


def _secret(kube, namespace, name):
    data = client.CoreV1Api(kube).read_namespaced_secret(name, namespace).data or {}
    return dict((k, base64.b64decode(v).decode()) for k, v in data.items())


def _doc(kube, namespace, name, key):
    return yaml.safe_load(client.CoreV1Api(kube).read_namespaced_config_map(name, namespace).data[key])


def _replicasets(kube, namespace):
    counts = {}
    for rs in client.AppsV1Api(kube).list_namespaced_replica_set(namespace).items:
        for ref in rs.metadata.owner_references or []:
            counts[ref.name] = counts.get(ref.name, 0) + 1
    return counts


@pytest.mark.parametrize("mode", ["internal", "external"])
def test_auth_flyte_core(cluster, kube, audit, mode):
    namespace = "auth-%s" % mode
    install_flyte(cluster, "flyte-core", namespace)
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, _vars(namespace, mode))
    assert result.rc == 0, result.stdout[-5000:]
    wait_for(rolled_out(kube, namespace), timeout=180, message="rollouts")

    auth = _doc(kube, namespace, "flyte-admin-base-config", "server.yaml")
    assert auth["server"]["security"]["useAuth"] is True
    block = auth["auth"]
    assert block["authorizedUris"][0] == PUBLIC
    assert block["userAuth"]["openId"] == {"baseUrl": ISSUER, "clientId": "flyteadmin", "scopes": ["openid", "profile"]}
    assert block["appAuth"]["thirdPartyConfig"]["flyteClient"]["clientId"] == "flytectl"
    admin = _doc(kube, namespace, "flyte-propeller-config", "admin.yaml")["admin"]
    assert admin["authType"] == "ClientSecret" and admin["clientSecretLocation"] == "/etc/secrets/client_secret"
    assert admin["clientId"] == "flytepropeller"
    if mode == "internal":
        assert block["appAuth"]["authServerType"] == "Self"
        clients = block["appAuth"]["selfAuthServer"]["staticClients"]
        assert sorted(clients) == ["flyte-cli", "flytectl", "flytepropeller"]
        stored = clients["flytepropeller"]["client_secret"]
        assert bcrypt.checkpw(SECRET.encode(), base64.b64decode(stored))  # base64 of a bcrypt hash
        assert admin["useAudienceFromAdmin"] is True
    else:
        assert block["appAuth"]["authServerType"] == "External"
        assert block["appAuth"]["externalAuthServer"]["allowedAudience"] == [PUBLIC]
        assert admin["scopes"] == ["all"]

    # The Secrets hold valid formats.
    secrets = _secret(kube, namespace, "flyte-admin-secrets")
    assert secrets["oidc_client_secret"] == OIDC_SECRET
    assert len(base64.b64decode(secrets["cookie_hash_key"] + "==")) == 64 and not secrets["cookie_hash_key"].endswith("=")
    assert len(base64.b64decode(secrets["cookie_block_key"] + "==")) == 32
    if mode == "internal":
        assert len(base64.b64decode(secrets["claim_symmetric_key"] + "==")) == 32
        assert secrets["token_rsa_key.pem"].startswith("-----BEGIN RSA PRIVATE KEY-----")
        serialization.load_pem_private_key(secrets["token_rsa_key.pem"].encode(), password=None)
    assert _secret(kube, namespace, "flyte-secret-auth")["client_secret"] == SECRET
    # No last-applied annotation carries secret data.
    meta = client.CoreV1Api(kube).read_namespaced_secret("flyte-admin-secrets", namespace).metadata
    assert "kubectl.kubernetes.io/last-applied-configuration" not in (meta.annotations or {})

    # Rerun: nothing changes, the hash stays, no write.
    start = audit.mark()
    again = run_playbook(PLAYBOOK, cluster.kubeconfig, _vars(namespace, mode))
    assert again.rc == 0, again.stdout[-3000:]
    assert again.changed() == 0, [n for n, r in again.tasks() if r.get("changed")]
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN, namespace=namespace) == []
    if mode == "internal":
        assert _doc(kube, namespace, "flyte-admin-base-config", "server.yaml")["auth"]["appAuth"]["selfAuthServer"][
            "staticClients"]["flytepropeller"]["client_secret"] == stored

        # Rotation: a new propeller secret changes the hash and the Secret, and restarts admin and propeller once.
        before = _replicasets(kube, namespace)
        rotated = run_playbook(PLAYBOOK, cluster.kubeconfig, _vars(namespace, mode, auth_propeller_client_secret="rotated-secret-987654"))
        assert rotated.rc == 0, rotated.stdout[-3000:]
        wait_for(rolled_out(kube, namespace), timeout=180, message="rollouts")
        new = _doc(kube, namespace, "flyte-admin-base-config", "server.yaml")["auth"]["appAuth"]["selfAuthServer"][
            "staticClients"]["flytepropeller"]["client_secret"]
        assert new != stored and bcrypt.checkpw(b"rotated-secret-987654", base64.b64decode(new))
        assert _secret(kube, namespace, "flyte-secret-auth")["client_secret"] == "rotated-secret-987654"
        after = _replicasets(kube, namespace)
        restarted = sorted(name for name in after if after[name] != before.get(name))
        assert restarted == ["flyteadmin", "flytepropeller", "flytescheduler"]
        assert all(after[n] == before[n] + 1 for n in restarted)


def test_no_secret_in_verbose_output(cluster, kube):
    namespace = "auth-vvv"
    install_flyte(cluster, "flyte-core", namespace)
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, _vars(namespace), verbosity=3, diff=True)
    assert result.rc == 0, result.stdout[-3000:]
    output = result.stdout + result.stderr
    secrets = _secret(kube, namespace, "flyte-admin-secrets")
    stored = _doc(kube, namespace, "flyte-admin-base-config", "server.yaml")["auth"]["appAuth"]["selfAuthServer"][
        "staticClients"]["flytepropeller"]["client_secret"]
    for value in [SECRET, OIDC_SECRET, stored, base64.b64encode(SECRET.encode()).decode()] + list(secrets.values()):
        for line in value.strip().splitlines()[1:2] or [value]:
            assert line not in output, "a secret value appears in the -vvv output"


BAD = [
    ({"auth_oidc": {"base_url": "http://idp.example.com/realms/x", "client_id": "a"}}, "must use https"),
    ({"auth_server": "External"}, "auth_server"),
    ({"auth_flyte_client": {"redirect_uri": "localhost:53593/callback"}}, "flyte_client.redirect_uri"),
    ({"auth_oidc": {"base_url": ISSUER, "client_id": "a", "scopes": []}}, "oidc.scopes"),
    ({"auth_propeller_client_secret": "foobar"}, "chart's default secret"),
    ({"auth_authorized_uris": ["https://other.example.com"]}, "must contain public_url"),
    ({"auth_external_auth_server": {"base_url": ISSUER}}, "auth_server is internal"),
]


@pytest.mark.parametrize("extra,message", BAD, ids=[m for _e, m in BAD])
def test_bad_input(cluster, audit, extra, message):
    namespace = "auth-internal"
    install_flyte(cluster, "flyte-core", namespace, fresh=False)
    start = audit.mark()
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, _vars(namespace, **extra))
    assert result.rc != 0
    failed = [r for _n, r in result.tasks() if r.get("failed")]
    assert failed and message in json.dumps(failed[-1].get("msg")), failed[-1].get("msg")
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []
