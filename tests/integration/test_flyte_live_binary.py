# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flyte runs for real (issue 16), flyte-binary: the upstream chart rendered with authentication on, hardened by
harden-flyte.yml (Keycloak registration, internal authorization server, CORS, Pod Security), then `flyte start`
run by the harness from the release's Deployment, init containers first (wait-for-db, gen-admin-auth-secret).

Keys the harness adds (livepod.OVERRIDE_FILE), and why: storage (the chart's values name S3 with IAM; a local
folder stands in for the bucket). The database needs none: the chart's 127.0.0.1:5432 is where the test
PostgreSQL listens, with the chart's user and the password flytestdlib defaults to.
"""
from __future__ import absolute_import, division, print_function

import json
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

from conftest import install_chart
from flyte_live import (build_flyte, keycloak_env, livepod, login_redirect, request, secret_value, token, wait_http)
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NS = "live-bin"
RELEASE = "flyte"
FULLNAME = "flyte-flyte-binary"
PUBLIC = "https://flyte-bin.example.test"
CONSOLE = "https://console-bin.example.test"
# What a user sets to turn on authentication in the flyte-binary chart; the collection fills in the rest.
AUTH_VALUES = """
configuration:
  auth:
    enabled: true
    oidc:
      baseUrl: https://idp.example.test/realms/flyte
      clientId: flyteadmin
      clientSecret: set-by-the-idp-registration
    internal:
      clientSecret: chart-placeholder-secret
    authorizedUris:
      - %s
""" % PUBLIC


def _port_free(port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as postgres binds; TIME_WAIT is no conflict
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.fixture(scope="module")
def live_bin(cluster, kube, keycloak, tmp_path_factory):
    if not _port_free(5432):
        pytest.skip("127.0.0.1:5432 is taken; the chart's wait-for-db init container and config name that port")
    bin_dir = build_flyte()
    workdir = tmp_path_factory.mktemp("live-bin")
    charts = workdir / "charts"
    shutil.copytree(str(Path(__import__("os").environ.get("FLYTESEC_FIXTURES", str(ROOT.parent / "shared" / "fixtures")))
                        / "charts"), str(charts))
    (charts / "flyte-binary" / "live-auth.yaml").write_text(AUTH_VALUES)
    install_chart(cluster, NS, "flyte-binary", ["live-auth.yaml"], workdir)
    realm = "live-%s" % uuid.uuid4().hex[:6]
    values = {"flytesec_namespace": NS, "flytesec_state_root": str(workdir / "state"),
              "idp_registration_url": keycloak.url, "idp_registration_realm": realm, "idp_registration_create_realm": True,
              "idp_registration_public_url": PUBLIC, "idp_registration_external_auth_server": False,
              "auth_public_url": PUBLIC, "auth_server": "internal",
              "cors_admin_url": PUBLIC, "cors_console_origins": [CONSOLE], "flytesec_projects": True}
    _delete_namespaces(kube, SEEDED)
    result = run_playbook(ROOT / "playbooks" / "harden-flyte.yml", cluster.kubeconfig, values, env=keycloak_env(keycloak))
    assert result.rc == 0, result.stdout[-4000:]
    pg = livepod.Postgres(port=5432).start()
    pg.sql("ALTER ROLE postgres PASSWORD 'postgres'")   # flytestdlib's default database.postgres.password
    # The chart's database exists up front, as the sandbox's bundled postgres creates it (POSTGRES_DB): flyte start's
    # admin and datacatalog would otherwise race to CREATE DATABASE and one of them exits.
    pg.sql("CREATE DATABASE flyte")
    store = Path(tempfile.mkdtemp(prefix="flytesec-store-", dir="/var/tmp"))
    (store / "flyte-live").mkdir()
    overrides = {"storage.type": "stow", "storage.container": "flyte-live",
                 "storage.stow": {"kind": "local", "config": {"path": str(store)}}}
    pod = livepod.LivePod(kube, NS, FULLNAME, workdir / "flyte", bin_dir, overrides=overrides)
    webhooks_before = _webhooks(kube)
    try:
        for init in pod.init_containers():
            proc = pod.run(init)
            assert proc.returncode == 0, "%s failed:\n%s" % (init, (proc.stdout + proc.stderr)[-4000:])
        serve = pod.start("flyte")
        assert wait_http("/healthcheck", serve, timeout=180), "flyte start did not come up:\n%s" % pod.log(serve)[-6000:]
        yield {"pod": pod, "serve": serve, "kube": kube}
    finally:
        pod.stop()
        pg.stop()
        _delete_namespaces(kube, SEEDED, wait=False)   # cluster-wide: leave none to later modules
        shutil.rmtree(str(store), ignore_errors=True)
        # flyte start's propeller registers its pod webhook; kwok runs no webhook server, so take it away again.
        admission = client.AdmissionregistrationV1Api(kube)
        for name in _webhooks(kube) - webhooks_before:
            admission.delete_mutating_webhook_configuration(name)


SEEDED = ["flytesnacks-%s" % d for d in ("development", "staging", "production")]


def _delete_namespaces(kube, names, wait=True):
    """Project namespaces an earlier module or run left (they are cluster-wide): gone before this run."""
    import time
    core = client.CoreV1Api(kube)
    for name in names:
        try:
            core.delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise
    deadline = time.monotonic() + 120
    while wait and set(names) & set(n.metadata.name for n in core.list_namespace().items):
        assert time.monotonic() < deadline, "project namespaces of an earlier run are not deleted"
        time.sleep(1)


def _webhooks(kube):
    return set(w.metadata.name for w in client.AdmissionregistrationV1Api(kube).list_mutating_webhook_configuration().items)


def test_flyte_start_serves_auth(live_bin):
    assert request("GET", "/healthcheck")[0] == 200
    status, _h, body = request("GET", "/.well-known/oauth-authorization-server")
    assert status == 200 and json.loads(body)["issuer"] == PUBLIC, body
    assert request("GET", "/api/v1/projects")[0] == 401
    secret = secret_value(live_bin["kube"], NS, "%s-client-secrets" % FULLNAME, "client_secret")
    assert secret and secret != "chart-placeholder-secret"
    status, answer = token("flytepropeller", secret)
    assert status == 200, answer
    status, _h, body = request("GET", "/api/v1/projects", headers={"Authorization": "Bearer %s" % answer["access_token"]})
    assert status == 200 and "flytesnacks" in body, body
    assert token("flytepropeller", secret + "x")[0] == 401


def test_flyte_start_login_uses_the_registered_client(live_bin):
    _authorize, query = login_redirect()
    assert query["client_id"] == ["flyteadmin"] and query["redirect_uri"] == [PUBLIC + "/callback"]
    oidc = secret_value(live_bin["kube"], NS, "%s-client-secrets" % FULLNAME, "oidc_client_secret")
    assert oidc and oidc != "set-by-the-idp-registration"   # the registration's secret, where flyte-binary reads it


def test_flyte_start_cors(live_bin):
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "flyte-authorization"}
    _s, headers, _b = request("OPTIONS", "/api/v1/projects", headers=dict(preflight, Origin=CONSOLE))
    assert headers.get("access-control-allow-origin") == [CONSOLE]
    assert headers.get("access-control-allow-credentials") == ["true"]
    _s, headers, _b = request("OPTIONS", "/api/v1/projects", headers=dict(preflight, Origin="https://evil.example.test"))
    assert not [k for k in headers if k.startswith("access-control-")], headers


def test_flyte_start_creates_hardened_project_namespaces(live_bin):
    """flyte start's own cluster resource loop (in-process in flyte-binary) creates the seeded project's namespaces
    from the hardened templates: Pod Security labels, no ServiceAccount token, NetworkPolicies, LimitRange, PodTemplate."""
    import time
    core = client.CoreV1Api(live_bin["kube"])
    deadline = time.monotonic() + 120
    while True:
        names = set(n.metadata.name for n in core.list_namespace().items)
        done = set(SEEDED) <= names and all(
            [lr.metadata.name for lr in core.list_namespaced_limit_range(n).items] == ["flytesec-limits"] for n in SEEDED)
        if done or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert done, "flyte start did not create the hardened project namespaces:\n%s" % \
        live_bin["pod"].log(live_bin["serve"])[-4000:]
    for name in SEEDED:
        labels = core.read_namespace(name).metadata.labels or {}
        assert labels.get("pod-security.kubernetes.io/enforce") == "restricted", labels
        assert core.read_namespaced_service_account("default", name).automount_service_account_token is False
        policies = [p.metadata.name for p in client.NetworkingV1Api(live_bin["kube"]).list_namespaced_network_policy(name).items]
        assert "flytesec-default-deny" in policies and "flytesec-allow-flyte" in policies, policies
        assert [t.metadata.name for t in core.list_namespaced_pod_template(name).items] == ["flytesec-restricted"]
