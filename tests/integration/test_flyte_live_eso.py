# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets from an external store, for real (issue 21): the real External Secrets Operator v0.16.2 (built from its Go
module by hack/external-secrets.sh, its CRDs applied, the controller run as a local process against this cluster)
fills every auth Secret of a fresh flyte-core install from a store, and the real flyteadmin and flytepropeller
v1.16.8 (the live harness, hack/flyte/livepod.py) run on what it synced.

The store is ESO's kubernetes provider: Secrets in another namespace (``STORE_NS``), read by a ServiceAccount that
may only get/list/watch them there, as ESO reads Vault or AWS Secrets Manager. Vault and AWS SecretStores cannot be
run here (no Vault server, no AWS); they are rendered by the role and validated by the operator's real CRDs through
a server-side dry run.

flyteadmin runs OIDC discovery at start even with its internal authorization server (the login IdP is not under test
here): ``Discovery`` serves a discovery document on 127.0.0.1, nothing more. Keys the harness adds to the servers'
configuration are listed with their reason (flyte_live.ADMIN_OVERRIDES, PROPELLER_OVERRIDES below).
"""
from __future__ import absolute_import, division, print_function

import base64
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from flyte_live import (ADMIN_GRPC, Ingress, Live, assert_propeller_authenticates, build_flyte, free_port, livepod, secret_value, token,
                        wait_http)
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
AUTH_SECRETS = Path(__file__).resolve().parent / "playbooks" / "auth_secrets.yml"
ESO = ROOT / "hack" / "external-secrets.sh"
NS = "live-eso"
STORE_NS = "live-eso-store"
PREFIX = "flyte-"
PUBLIC = "https://flyte-api.example.test"
ADMIN_USER = "flytesec-admin"
CONFIG_RESOURCES = ("configmaps", "secrets", "deployments")
# what reads the propeller secret (flyte-secret-auth: flytepropeller, flytescheduler) or its hash (flyteadmin)
CONSUMERS = ("flyteadmin", "flytepropeller", "flytescheduler")


def _script(*args, env=None, timeout=3600):
    proc = subprocess.run(["bash", str(ESO)] + list(args), capture_output=True, text=True, timeout=timeout, check=False,
                          env=env)
    if proc.returncode != 0:
        pytest.fail("hack/external-secrets.sh %s failed (rc=%d):\n%s" % (" ".join(args), proc.returncode,
                                                                         proc.stderr[-6000:]), pytrace=False)
    return proc.stdout.strip()


class Operator:
    """The External Secrets Operator as a local process (hack/external-secrets.sh start/stop)."""

    def __init__(self, cluster, workdir, kubeconfig):
        self.cluster, self.workdir, self.kubeconfig = cluster, workdir, kubeconfig

    def env(self):
        return dict(self.cluster.env(), KUBECONFIG=str(self.kubeconfig))

    def start(self):
        _script("start", str(self.workdir), env=self.env())

    def stop(self):
        _script("stop", str(self.workdir), env=self.env())

    def log(self):
        path = self.workdir / "eso.log"
        return path.read_text() if path.exists() else ""


OPERATOR_NS = "external-secrets"
OPERATOR_USER = "system:serviceaccount:%s:external-secrets" % OPERATOR_NS


def _operator_kubeconfig(cluster, path):
    """A kubeconfig for the operator's own ServiceAccount (as in a cluster), so that the audit log tells its writes
    (the Secrets it fills, its status updates) from the collection's. It may do what the Helm chart's ClusterRole
    allows; cluster-admin here, for brevity."""
    import yaml
    _apply(cluster, [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OPERATOR_NS}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "external-secrets", "namespace": OPERATOR_NS}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "external-secrets-test"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "external-secrets", "namespace": OPERATOR_NS}]},
    ])
    token = cluster.kubectl("-n", OPERATOR_NS, "create", "token", "external-secrets", "--duration=6h").stdout.strip()
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    context = admin["contexts"][0]["context"]
    entry = [c for c in admin["clusters"] if c["name"] == context["cluster"]][0]
    ca = dict(entry["cluster"])
    if ca.get("certificate-authority") and not os.path.isabs(ca["certificate-authority"]):
        ca["certificate-authority"] = str(cluster.kubeconfig.parent / ca["certificate-authority"])
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "eso",
        "clusters": [{"name": "c", "cluster": ca}], "users": [{"name": "eso", "user": {"token": token}}],
        "contexts": [{"name": "eso", "context": {"cluster": "c", "user": "eso"}}]}))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def operator(cluster, tmp_path_factory):
    started = time.monotonic()
    _script("build")   # cached under ~/.cache/flytesec/external-secrets; `make flyte-build-bg` prebuilds it
    print("external-secrets build (cached or cold): %.0f s" % (time.monotonic() - started))
    _script("apply-crds", env=cluster.env())
    workdir = tmp_path_factory.mktemp("eso")
    op = Operator(cluster, workdir, _operator_kubeconfig(cluster, workdir / "operator.kubeconfig"))
    op.start()
    yield op
    op.stop()


class Discovery:
    """An OIDC discovery document on 127.0.0.1 (flyteadmin reads it at start; login itself is not tested here)."""

    def __init__(self):
        import http.server
        import threading
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        doc = json.dumps({"issuer": self.url, "authorization_endpoint": self.url + "/auth",
                          "token_endpoint": self.url + "/token", "jwks_uri": self.url + "/jwks",
                          "response_types_supported": ["code"], "subject_types_supported": ["public"],
                          "id_token_signing_alg_values_supported": ["RS256"]}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_GET(self):  # noqa: N802
                body = doc if self.path == "/.well-known/openid-configuration" else b'{"keys": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _raw(nbytes):
    return base64.b64encode(os.urandom(nbytes)).decode().rstrip("=")


def _urlsafe(nbytes):
    return base64.urlsafe_b64encode(os.urandom(nbytes)).decode().rstrip("=")


def _rsa():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def _store_values():
    return {
        # URL-safe: an OAuth2 client sends the secret form-encoded in HTTP basic auth, flyteadmin decodes it ("+" -> " ")
        "flyte-secret-auth": {"client_secret": "first-" + _urlsafe(24)},
        "flyte-admin-secrets": {"oidc_client_secret": "oidc-" + _raw(16), "cookie_hash_key": _raw(64),
                                "cookie_block_key": _raw(32), "claim_symmetric_key": _raw(32),
                                "token_rsa_key.pem": _rsa()},
    }


def _put_store(kube, name, values):
    """Write the store's entry for Flyte's Secret ``name`` (a Secret in STORE_NS named PREFIX + name)."""
    core = client.CoreV1Api(kube)
    body = client.V1Secret(metadata=client.V1ObjectMeta(name=PREFIX + name, namespace=STORE_NS),
                           string_data=values)
    try:
        core.replace_namespaced_secret(PREFIX + name, STORE_NS, body)
    except client.exceptions.ApiException as exc:
        if exc.status != 404:
            raise
        core.create_namespaced_secret(STORE_NS, body)


def _apply(cluster, docs):
    cluster.kubectl("apply", "--server-side", "-f", "-", input="\n---\n".join(json.dumps(d) for d in docs))


def _store_reader(cluster):
    """STORE_NS and a ServiceAccount in NS that may read its Secrets (and nothing else)."""
    _apply(cluster, [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": STORE_NS}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "store-reader", "namespace": NS}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "read-secrets", "namespace": STORE_NS},
         "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "store-reader", "namespace": STORE_NS},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-secrets"},
         "subjects": [{"kind": "ServiceAccount", "name": "store-reader", "namespace": NS}]},
    ])


def _deployment(kube, name):
    return client.AppsV1Api(kube).read_namespaced_deployment(name, NS)


def _rollout_marks(kube):
    """``{name: (generation, config hash)}`` of the consumers of the propeller secret and its hash."""
    marks = {}
    for name in CONSUMERS:
        dep = _deployment(kube, name)
        marks[name] = (dep.metadata.generation,
                       (dep.spec.template.metadata.annotations or {}).get("hardening.flytesec.io/config-hash"))
    return marks


def _config_state(kube):
    """flyteadmin's configuration and the pod templates: what a refused run must leave as it is."""
    core = client.CoreV1Api(kube)
    state = dict(("ConfigMap/%s" % cm.metadata.name, cm.data) for cm in core.list_namespaced_config_map(NS).items)
    for dep in client.AppsV1Api(kube).list_namespaced_deployment(NS).items:
        state["Deployment/%s" % dep.metadata.name] = client.ApiClient().sanitize_for_serialization(dep.spec.template)
    return state


class EsoLive(Live):
    def __init__(self, cluster, kube, bin_dir, workdir, pg, discovery, operator):
        super(EsoLive, self).__init__(cluster, kube, bin_dir, workdir, NS, pg, None, discovery.url)
        self.discovery, self.operator = discovery, operator
        self.values = {}
        self.first = None

    def harden(self, check=False, **extra):
        values = dict(self.extra)
        values.update(extra)
        return run_playbook(HARDEN, self.cluster.kubeconfig, values, check=check, diff=check, tags="auth")

    def close(self):
        super(EsoLive, self).close()
        self.discovery.close()


@pytest.fixture(scope="module")
def live(cluster, kube, operator, tmp_path_factory):
    from conftest import install_flyte
    import yaml
    workdir = tmp_path_factory.mktemp("live-eso")
    bin_dir = build_flyte()
    install_flyte(cluster, "flyte-core", NS)
    _store_reader(cluster)
    values = _store_values()
    for name, data in values.items():
        _put_store(kube, name, data)
    discovery = Discovery()
    pg = livepod.Postgres().start()
    state = EsoLive(cluster, kube, bin_dir, workdir, pg, discovery, operator)
    state.values = values
    state.extra = {
        "flytesec_namespace": NS, "flytesec_state_root": str(workdir / "state"),
        "auth_public_url": PUBLIC, "auth_oidc": {"base_url": discovery.url, "client_id": "flyteadmin"},
        "auth_secret_source": "external_secret", "auth_external_secret_prefix": PREFIX,
        "auth_external_secret_refresh_interval": "5s", "auth_external_secret_timeout": 60,
        "auth_secret_store": {"name": "flyte-store", "provider": "kubernetes",
                              "kubernetes": {"remote_namespace": STORE_NS, "server_url": cluster.server,
                                             "service_account": "store-reader"}},
    }
    started = time.monotonic()
    state.first = state.harden()
    print("first harden run (external_secret): %.0f s" % (time.monotonic() - started))
    if state.first.rc != 0:
        state.close()
        pytest.fail("harden run failed:\n%s\n%s" % (state.first.stdout[-6000:], operator.log()[-3000:]), pytrace=False)
    db = yaml.safe_load(client.CoreV1Api(kube).read_namespaced_config_map("flyte-admin-base-config", NS)
                        .data["db.yaml"])["database"]
    pg.user(db["username"], secret_value(kube, NS, "db-pass", "pass.txt").strip(), db["dbname"])
    state.admin, state.serve = state.start_admin()
    if not wait_http("/healthcheck", state.serve):
        log = state.admin.log(state.serve)
        state.close()
        pytest.fail("flyteadmin did not start:\n%s" % log[-6000:], pytrace=False)
    state.ingress = Ingress(workdir / "ingress", "flyte-api.example.test", "console.invalid")
    yield state
    state.close()


def _restart_admin(live, name):
    live.stop_admin()
    live.admin, live.serve = live.start_admin(name)
    assert wait_http("/healthcheck", live.serve), live.admin.log(live.serve)[-4000:]


# ------------------------------------------------------------------------------------------------------- tests

def test_run_leaves_synced_secrets_and_flyteadmin_accepts_the_stores_propeller_secret(live):
    secrets = live.first.result("Ensure the Secrets Flyte authentication reads")
    assert sorted((e["name"], e["state"]) for e in secrets["external_secrets"]) == [
        ("flyte-admin-secrets", "synced"), ("flyte-secret-auth", "synced")], secrets
    assert set(e["state"] for e in secrets["keys"]) == {"synced"}
    for name, data in live.values.items():
        for key, value in data.items():
            assert secret_value(live.kube, NS, name, key) == value, "%s/%s" % (name, key)
            assert value not in live.first.stdout, "a synced value reached the output"
    # the ExternalSecrets are real: the operator reports them synced
    es = client.CustomObjectsApi(live.kube).get_namespaced_custom_object("external-secrets.io", "v1", NS,
                                                                         "externalsecrets", "flyte-secret-auth")
    ready = [c for c in es["status"]["conditions"] if c["type"] == "Ready"][0]
    assert (ready["status"], ready["reason"]) == ("True", "SecretSynced")
    assert live.first.result("Configure flyteadmin")["propeller_hash"] == "new"
    secret = live.values["flyte-secret-auth"]["client_secret"]
    status, answer = token("flytepropeller", secret)
    assert status == 200, answer
    assert token("flytepropeller", "foobar")[0] == 401


def _propeller_overrides(live):
    """Every key the harness adds to flytepropeller's configuration, and why (as test_flyte_live.PROPELLER_OVERRIDES)."""
    return {
        # admin.yaml names the Service flyteadmin:81 (-> container port 8089); there is no cluster DNS here.
        "admin.endpoint": "dns:///127.0.0.1:%d" % ADMIN_GRPC,
        # flyteadmin's profiler already holds 10254 on this one host (in the cluster each pod has its own).
        "propeller.prof-port": str(free_port()),
        # the chart renders the leader-election ConfigMap's namespace as "flyte"; this install lives in NS.
        "propeller.leader-election.lock-config-map.namespace": NS,
        # storage.yaml names S3 with IAM: the same local folder flyteadmin uses stands in for the bucket.
        "storage.type": "stow", "storage.container": "flyte-live",
        "storage.stow": {"kind": "local", "config": {"path": str(live.store)}},
    }


def test_flytepropeller_authenticates_with_the_synced_secret(live):
    """flytepropeller, run from its Deployment on the Secret the operator synced, gets a token from the public token
    endpoint (through the ingress stand-in) and its calls to flyteadmin pass authentication."""
    assert_propeller_authenticates(live, NS, _propeller_overrides(live), prefix="eso")


def _wait_ready(live, name, reason, timeout=60):
    """Wait until ExternalSecret ``name`` reports Ready with ``reason`` (SecretSynced or SecretSyncedError)."""
    custom = client.CustomObjectsApi(live.kube)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj = custom.get_namespaced_custom_object("external-secrets.io", "v1", NS, "externalsecrets", name)
        if [c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == "Ready" and c["reason"] == reason]:
            return
        time.sleep(1)
    raise AssertionError("ExternalSecret %s did not report %s within %ss" % (name, reason, timeout))


def _wait_secret(live, name, key, value, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if secret_value(live.kube, NS, name, key) == value:
            return
        time.sleep(1)
    log = live.operator.log()[-3000:]
    raise AssertionError("the operator did not sync %s/%s within %ss:\n%s" % (name, key, timeout, log))


def test_rotation_in_the_store_restarts_the_consumers_once(live, audit):
    old = live.values["flyte-secret-auth"]["client_secret"]
    new = "rotated-" + _urlsafe(24)
    before = _rollout_marks(live.kube)
    _put_store(live.kube, "flyte-secret-auth", {"client_secret": new})
    _wait_secret(live, "flyte-secret-auth", "client_secret", new)   # the operator follows the store (refresh 5s)
    live.values["flyte-secret-auth"]["client_secret"] = new

    # --check: the pending restart and hash change are reported; nothing is written
    start = audit.mark()
    checked = live.harden(check=True)
    assert checked.rc == 0, checked.stdout[-4000:]
    # the synced Secret differs from what flytepropeller's pods were started on: its restart is pending; flyteadmin's
    # comes with the new hash of the propeller secret (its ConfigMap, written by the real run)
    assert "Deployment/flytepropeller" in checked.result("Ensure the Secrets Flyte authentication reads")["restart_required"]
    assert "Deployment/flytepropeller" in checked.result("Restart, once, every workload")["restarted"]
    configure = checked.result("Configure flyteadmin")
    assert configure["propeller_hash"] == "new" and "Deployment/flyteadmin" in configure["restart_required"], configure
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN_USER) == []

    run = live.harden()
    assert run.rc == 0, run.stdout[-4000:]
    assert run.result("Configure flyteadmin")["propeller_hash"] == "new"
    assert sorted(run.result("Restart, once, every workload")["restarted"]) == ["Deployment/%s" % n for n in CONSUMERS]
    after = _rollout_marks(live.kube)
    for name in CONSUMERS:
        assert after[name][0] == before[name][0] + 1, (name, before, after)   # one rollout each
        assert after[name][1] != before[name][1]
    again = live.harden()
    assert again.rc == 0, again.stdout[-4000:]
    assert _rollout_marks(live.kube) == after, "a rerun without a change restarted something"
    assert new not in run.stdout + checked.stdout + again.stdout

    _restart_admin(live, "rotated")
    assert token("flytepropeller", new)[0] == 200
    assert token("flytepropeller", old)[0] == 401


def _padded(nbytes):
    return base64.b64encode(os.urandom(nbytes)).decode()


def test_a_padded_cookie_key_in_the_store_is_refused(live, audit):
    good = dict(live.values["flyte-admin-secrets"])
    bad = dict(good, cookie_hash_key=_padded(64))
    state = _config_state(live.kube)
    _put_store(live.kube, "flyte-admin-secrets", bad)
    try:
        start = audit.mark()
        result = live.harden()
        assert result.rc != 0, "the run accepted a padded cookie_hash_key"
        failed = [r for _n, r in result.tasks() if r.get("failed")]
        msg = json.dumps(failed[-1].get("msg"))
        assert "flyte-admin-secrets/cookie_hash_key" in msg and "padded base64" in msg, msg
        assert bad["cookie_hash_key"] not in result.stdout
        writes = audit.events(since=start, writes=True, dry_run=False, user=ADMIN_USER, resource=CONFIG_RESOURCES)
        assert writes == [], writes
        assert _config_state(live.kube) == state
    finally:
        _put_store(live.kube, "flyte-admin-secrets", good)
        _wait_secret(live, "flyte-admin-secrets", "cookie_hash_key", good["cookie_hash_key"])
        _wait_ready(live, "flyte-admin-secrets", "SecretSynced")


def test_a_key_missing_in_the_store_never_syncs_and_fails_the_run(live, audit):
    """The store's entry lacks the property: the operator reports SecretSyncedError, the run waits its timeout and
    fails naming the ExternalSecret, its store keys and the operator's message; nothing of the configuration moves."""
    good = dict(live.values["flyte-secret-auth"])
    state = _config_state(live.kube)
    _put_store(live.kube, "flyte-secret-auth", {"other": "x"})
    try:
        _wait_ready(live, "flyte-secret-auth", "SecretSyncedError")   # the operator's next refresh (5 s)
        start = audit.mark()
        result = live.harden(auth_external_secret_timeout=8)
        assert result.rc != 0, "the run passed although the store lacks client_secret"
        msg = json.dumps([r for _n, r in result.tasks() if r.get("failed")][-1].get("msg"))
        assert "ExternalSecret flyte-secret-auth" in msg and "flyte-flyte-secret-auth:client_secret" in msg, msg
        # the plan pass sees the operator's error already (a real pass would wait external_secret_timeout, then fail)
        assert "does not sync" in msg and "SecretSyncedError" in msg, msg
        writes = audit.events(since=start, writes=True, dry_run=False, user=ADMIN_USER, resource=CONFIG_RESOURCES)
        assert writes == [], writes
        assert _config_state(live.kube) == state
        # the Secret keeps what it held (the operator does not empty it on an error)
        assert secret_value(live.kube, NS, "flyte-secret-auth", "client_secret") == good["client_secret"]
    finally:
        _put_store(live.kube, "flyte-secret-auth", good)
        _wait_ready(live, "flyte-secret-auth", "SecretSynced")


def test_a_stopped_operator_fails_the_run_before_any_config_write(live, audit):
    state = _config_state(live.kube)
    live.operator.stop()
    try:
        start = audit.mark()
        result = live.harden(auth_external_secret_timeout=8)
        assert result.rc != 0, "the run passed without the operator"
        failed = [r for _n, r in result.tasks() if r.get("failed")]
        msg = json.dumps(failed[-1].get("msg"))
        assert "did not sync" in msg and "external-secrets operator running" in msg, msg
        assert "flyte-" in msg and "client_secret" in msg or "cookie_hash_key" in msg, msg
        writes = audit.events(since=start, writes=True, dry_run=False, user=ADMIN_USER, resource=CONFIG_RESOURCES)
        assert writes == [], writes
        assert _config_state(live.kube) == state
    finally:
        live.operator.start()


STORES = [
    ("vault", {"name": "vault", "provider": "vault",
               "vault": {"server": "https://vault.example.test:8200", "path": "secret", "role": "flyte",
                         "service_account": "flyte-vault-auth"}}),
    ("vault-cluster", {"name": "vault-cluster", "kind": "ClusterSecretStore", "provider": "vault",
                       "vault": {"server": "https://vault.example.test:8200", "path": "kv", "version": "v1",
                                 "role": "flyte", "auth_mount_path": "k8s-prod"}}),
    ("aws", {"name": "aws", "provider": "aws",
             "aws": {"region": "eu-west-1", "role_arn": "arn:aws:iam::123456789012:role/flyte-secrets"}}),
]


@pytest.mark.parametrize("store", STORES, ids=[s[0] for s in STORES])
def test_vault_and_aws_stores_pass_the_real_crds_in_a_dry_run(live, audit, store):
    """Rendered by the role, sent as a server-side dry run: the API server checks them against the operator's CRDs
    (schema-checked only: no Vault or AWS here)."""
    start = audit.mark()
    result = run_playbook(AUTH_SECRETS, live.cluster.kubeconfig, {
        "auth_secrets_namespace": NS, "auth_secrets_mode": "external_secret", "auth_secrets_secret_store": store[1]},
        check=True)
    assert result.rc == 0, result.stdout[-4000:]
    found = result.result("Ensure the Secrets")
    kinds = [s["object"].split("/")[0] for s in found["secret_store"]]
    assert kinds[0] == store[1].get("kind", "SecretStore") and found["secret_store"][0]["action"] == "created"
    if store[0] == "aws":
        assert kinds == ["SecretStore", "ServiceAccount"]
    dry = audit.events(since=start, writes=True, dry_run=True, user=ADMIN_USER,
                       resource=("secretstores", "clustersecretstores"))
    assert dry and all(e["responseStatus"]["code"] == 201 for e in dry), dry
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN_USER) == []


def test_a_store_the_crd_refuses_fails_the_dry_run(live):
    bad = {"name": "aws-bad", "provider": "aws",
           "aws": {"region": "eu-west-1", "role_arn": "arn:aws:iam::123456789012:role/x", "service": "KeyVault"}}
    result = run_playbook(AUTH_SECRETS, live.cluster.kubeconfig, {
        "auth_secrets_namespace": NS, "auth_secrets_mode": "external_secret", "auth_secrets_secret_store": bad},
        check=True)
    assert result.rc != 0
    msg = json.dumps([r for _n, r in result.tasks() if r.get("failed")][-1].get("msg"))
    assert "SecretsManager" in msg and "ParameterStore" in msg, msg   # the CRD's enum, from the API server
