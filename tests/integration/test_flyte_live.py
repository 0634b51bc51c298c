# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flyte runs for real (issue 16): the real flyteadmin and flytepropeller v1.16.8, started by the harness
(hack/flyte/livepod.py) from the Deployments that harden-flyte.yml left on the local cluster, with exactly
the ConfigMaps and Secrets the collection wrote, mounted at the pods' mount paths.

The one file added to a pod is livepod.OVERRIDE_FILE; every key it sets is listed in ADMIN_OVERRIDES and
PROPELLER_OVERRIDES below with the reason. The Kubernetes API is reached as in a pod: the ServiceAccount's
token (a real TokenRequest) at the standard path and KUBERNETES_SERVICE_HOST/PORT.

flyte-core with flyteadmin's internal authorization server and a real Keycloak as the OIDC login IdP (the
clients registered by the idp_registration role, so the OIDC client secret comes from the registration).
"""
from __future__ import absolute_import, division, print_function

import base64
import json
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import yaml

from flyte_live import (ADMIN_GRPC, ADMIN_OVERRIDES, assert_propeller_authenticates, flytekit_python, harden_and_serve, login_redirect, request,
                        secret_value, token, wait_exit, wait_http)
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
AUTH = Path(__file__).resolve().parent / "playbooks" / "auth.yml"
CLIENT_CONFIG = Path(__file__).resolve().parent / "playbooks" / "client_config.yml"
NS = "live-core"
PUBLIC = "https://flyte-api.example.test"
CONSOLE = "https://flyte.example.test"
OTHER_ORIGIN = "https://evil.example.test"
ADMIN = "flytesec-admin"
# The console's page: a credentialed, preflighted fetch to flyteadmin, as flyteconsole makes (flyte-authorization).
CONSOLE_PAGES = {"/cors": """<!doctype html><html><head><title>cors</title></head><body><pre id="out">pending</pre><script>
fetch("%s/api/v1/projects", {credentials: "include", headers: {"flyte-authorization": "Bearer not-a-token"}})
  .then(function (r) { document.getElementById("out").textContent = "status:" + r.status; })
  .catch(function (e) { document.getElementById("out").textContent = "blocked:" + e.name; });
</script></body></html>""" % PUBLIC}


def _secret(kube, name, key):
    return secret_value(kube, NS, name, key)


@pytest.fixture(scope="module")
def live(cluster, kube, keycloak, tmp_path_factory):
    extra = {"idp_registration_external_auth_server": False, "auth_server": "internal",
             "cors_admin_url": PUBLIC, "cors_console_origins": [CONSOLE]}
    state = harden_and_serve(cluster, kube, keycloak, tmp_path_factory.mktemp("live"), NS, PUBLIC, extra,
                             console=CONSOLE, check_first=True, console_pages=CONSOLE_PAGES,
                             other_hosts=[urllib.parse.urlsplit(OTHER_ORIGIN).hostname])
    yield state
    state.close()


def test_flyteadmin_serves_the_configured_auth(live):
    status, _h, _b = request("GET", "/healthcheck")
    assert status == 200
    status, _h, body = request("GET", "/.well-known/oauth-authorization-server")
    assert status == 200, body
    metadata = json.loads(body)   # grpc-gateway's JSON names: camelCase
    assert metadata["issuer"] == PUBLIC
    assert metadata["tokenEndpoint"] == PUBLIC + "/oauth2/token", metadata
    status, _h, body = request("GET", "/config/v1/flyte_client")
    assert status == 200, body
    public = json.loads(body)   # grpc-gateway's JSON names: camelCase
    assert public["clientId"] == "flytectl" and public["authorizationMetadataKey"] == "flyte-authorization", public
    assert public["redirectUri"].startswith("http://localhost:")


def test_unauthenticated_requests_are_refused(live):
    status, _h, body = request("GET", "/api/v1/projects")
    assert status == 401, body


def test_propeller_secret_from_the_secret_gets_a_token(live):
    """The secret in flyte-secret-auth (what flytepropeller mounts) verifies against the staticClients hash."""
    secret = _secret(live.kube, "flyte-secret-auth", "client_secret")
    assert secret and secret != "foobar"
    status, answer = token("flytepropeller", secret)
    assert status == 200, answer
    for header in ("Authorization", "flyte-authorization"):
        status, _h, body = request("GET", "/api/v1/projects?limit=100",
                                   headers={header: "Bearer %s" % answer["access_token"]})
        assert status == 200, body
        assert "flytesnacks" in [p["id"] for p in json.loads(body)["projects"]]
    status, answer = token("flytepropeller", secret + "x")
    assert status == 401, answer


def test_login_redirects_to_the_registered_keycloak_client(live):
    authorize, query = login_redirect()
    assert authorize == live.issuer + "/protocol/openid-connect/auth"
    assert query["client_id"] == ["flyteadmin"] and query["redirect_uri"] == [PUBLIC + "/callback"]


def test_cors_headers_from_the_real_server(live):
    preflight = {"Origin": CONSOLE, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "flyte-authorization"}
    status, headers, _b = request("OPTIONS", "/api/v1/projects", headers=preflight)
    assert status == 200
    assert headers["access-control-allow-origin"] == [CONSOLE]
    assert headers["access-control-allow-credentials"] == ["true"]
    status, headers, _b = request("OPTIONS", "/api/v1/projects", headers=dict(preflight, Origin=OTHER_ORIGIN))
    assert not [k for k in headers if k.startswith("access-control-")], headers
    status, headers, _b = request("GET", "/healthcheck", headers={"Origin": CONSOLE})
    assert headers["access-control-allow-origin"] == [CONSOLE]
    assert not [v for k, vs in headers.items() for v in vs if k.startswith("access-control-") and v.strip() == "*"]


def _browser(live, url, tmp_path):
    """Headless Chromium opens ``url``; the configured domains resolve to 127.0.0.1 (host-resolver-rules), where the
    ingress stand-in serves them over TLS. Returns the page's text after its fetch settled."""
    import re
    import shutil as sh
    chromium = sh.which("chromium") or sh.which("chromium-browser")
    if not chromium:
        pytest.fail("chromium is missing (make deps installs Debian's chromium)", pytrace=False)
    hosts = sorted(live.ingress.page_hosts | {live.ingress.admin_host})
    rules = ", ".join("MAP %s 127.0.0.1:%d" % (h, live.ingress.port) for h in hosts) + ", EXCLUDE localhost"
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           "--user-data-dir=%s" % (tmp_path / "chromium"), "--host-resolver-rules=%s" % rules,
                           "--ignore-certificate-errors", "--virtual-time-budget=15000", "--dump-dom", url],
                          capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="out">([^<]*)</pre>', proc.stdout)
    assert found, proc.stdout[-2000:] + proc.stderr[-2000:]
    return found.group(1)


def test_cors_in_a_real_browser(live, tmp_path):
    """The page served from the console origin reads flyteadmin's answer; the same page from another origin is
    blocked by the browser itself (no Access-Control-Allow-Origin for it)."""
    before = len(live.ingress.requests)
    assert _browser(live, CONSOLE + "/cors", tmp_path) == "status:401"   # the answer (no valid token) is readable
    assert _browser(live, OTHER_ORIGIN + "/cors", tmp_path) == "blocked:TypeError"
    preflights = [r for r in live.ingress.requests[before:] if r[0] == "OPTIONS" and r[2] == "/api/v1/projects"]
    assert len(preflights) == 2, live.ingress.requests[before:]   # the browser asked flyteadmin both times


GRPC_PROBE = r"""
import grpc, json, sys
from flyteidl.service import admin_pb2_grpc
from flyteidl.admin import project_pb2
stub = admin_pb2_grpc.AdminServiceStub(grpc.insecure_channel(sys.argv[1]))
try:
    stub.ListProjects(project_pb2.ProjectListRequest(limit=10), timeout=20)
    print("OK")
except grpc.RpcError as exc:
    print(exc.code().name)
"""

FLYTEKIT_LIST = r"""
import json, sys
from flytekit.configuration import PlatformConfig
from flytekit.clients.friendly import SynchronousFlyteClient
client = SynchronousFlyteClient(PlatformConfig.auto(config_file=sys.argv[1]))
projects, _token = client.list_projects_paginated(limit=100)
print(json.dumps(sorted(p.id for p in projects)))
"""


def test_grpc_refuses_without_token_and_flytekit_lists_projects(live, tmp_path):
    python = flytekit_python()
    probe = subprocess.run([python, "-c", GRPC_PROBE, "127.0.0.1:%d" % ADMIN_GRPC], capture_output=True, text=True,
                           timeout=120, check=False)
    assert probe.stdout.strip() == "UNAUTHENTICATED", probe.stdout + probe.stderr
    # The client config as roles/flyte_client_config writes it for a CI job (ClientSecret), read by flytekit.
    secret_file = tmp_path / "client_secret"
    secret_file.write_text(_secret(live.kube, "flyte-secret-auth", "client_secret"))
    secret_file.chmod(0o600)
    config = tmp_path / "config.yaml"
    result = run_playbook(CLIENT_CONFIG, live.cluster.kubeconfig, {
        "flyte_client_config_path": str(config), "flyte_client_config_endpoint": "dns:///127.0.0.1:%d" % ADMIN_GRPC,
        "flyte_client_config_insecure": True, "flyte_client_config_auth_type": "ClientSecret",
        "flyte_client_config_client_id": "flytepropeller", "flyte_client_config_client_secret_location": str(secret_file),
        "flyte_client_config_scopes": ["all"]})
    assert result.rc == 0, result.stdout[-3000:]
    # flytekit takes the token endpoint from flyteadmin's metadata: the public URL, served by the ingress stand-in.
    listed = live.ingress.run_resolved([python, "-c", FLYTEKIT_LIST, str(config)], timeout=180,
                                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                            "REQUESTS_CA_BUNDLE": str(live.ingress.ca_file)})
    assert listed.returncode == 0, listed.stdout + listed.stderr[-4000:]
    assert "flytesnacks" in json.loads(listed.stdout.strip().splitlines()[-1])


def _strict_errors(bin_dir, folder):
    proc = subprocess.run([str(bin_dir / "flyteadmin"), "config", "--file", str(folder / "*.yaml"), "validate", "--strict"],
                          capture_output=True, text=True, timeout=120, check=False)
    text = proc.stdout + proc.stderr
    return proc.returncode, sorted(set(line.strip() for line in text.splitlines() if "invalid keys" in line or "has invalid" in line
                                       or "unknown" in line.lower()))


def test_strict_validation_adds_no_errors(live, tmp_path):
    """`flyteadmin config --file F validate --strict`: the hardened config has exactly upstream's strict errors."""
    import os
    fixtures = Path(os.environ.get("FLYTESEC_FIXTURES", str(ROOT.parent / "shared" / "fixtures")))
    upstream = [d for d in yaml.safe_load_all((fixtures / "flyte-v1.16.8" / "flyte-core-eks.yaml").read_text())
                if d and d["kind"] == "ConfigMap" and d["metadata"]["name"] == "flyte-admin-base-config"][0]
    live_cm = client.CoreV1Api(live.kube).read_namespaced_config_map("flyte-admin-base-config", NS)
    results = {}
    for name, data in (("upstream", upstream["data"]), ("hardened", live_cm.data)):
        folder = tmp_path / name
        folder.mkdir()
        for key, value in data.items():
            (folder / key).write_text(value)
        results[name] = _strict_errors(live.bin_dir, folder)
    assert results["upstream"][0] != 0 and results["upstream"][1], "upstream's own keys (flyteadmin.testing, storage) fail strict mode"
    assert results["hardened"][1] == results["upstream"][1], results


def PROPELLER_OVERRIDES(live, prof_port):
    """Every key the harness adds to flytepropeller's configuration, and why."""
    return {
        # admin.yaml names the Service flyteadmin:81 (-> container port 8089); there is no cluster DNS here.
        "admin.endpoint": "dns:///127.0.0.1:%d" % ADMIN_GRPC,
        # flyteadmin's profiler already holds 10254 on this one host (in the cluster each pod has its own).
        "propeller.prof-port": str(prof_port),
        # the chart renders the leader-election ConfigMap's namespace as "flyte"; this install lives in NS.
        "propeller.leader-election.lock-config-map.namespace": NS,
        # storage.yaml names S3 with IAM: the same local folder flyteadmin uses stands in for the bucket.
        "storage.type": "stow", "storage.container": "flyte-live",
        "storage.stow": {"kind": "local", "config": {"path": str(live.store)}},
    }


def test_propeller_authenticates_to_flyteadmin_with_its_mounted_secret(live):
    """flytepropeller, run from its Deployment, sends workflow events to flyteadmin with a token it gets from the
    public token endpoint (flyteadmin's metadata names it; the ingress stand-in serves it) using the secret mounted
    from flyte-secret-auth. flyteadmin answers the events NotFound (no such execution in its database): a reply
    past authentication, which an unauthenticated call never gets."""
    from flyte_live import free_port
    if live.admin is None:
        live.admin, live.serve = live.start_admin("admin-for-propeller")
        assert wait_http("/healthcheck", live.serve)
    assert_propeller_authenticates(live, NS, PROPELLER_OVERRIDES(live, free_port()))


# -- inputs that crash Flyte -----------------------------------------------------------------------------------
# For each: the collection refuses the input before any write (audit log), and the real flyteadmin, started on
# the same value put into the live object by hand, crashes (its error is asserted), so the check is real.

def _padded_key():
    import os
    return base64.b64encode(os.urandom(64)).decode()  # 88 characters ending in "=="; flyteadmin wants RawStd


def _pkcs8_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _server_yaml(live):
    return yaml.safe_load(client.CoreV1Api(live.kube).read_namespaced_config_map("flyte-admin-base-config", NS)
                          .data["server.yaml"])


def _edit_secret_key(live, key, value):
    """Hand edit of flyte-admin-secrets (value None removes the key); returns the object to put back."""
    core = client.CoreV1Api(live.kube)
    before = core.read_namespaced_secret("flyte-admin-secrets", NS)
    data = dict(before.data or {})
    if value is None:
        data.pop(key, None)
    else:
        data[key] = base64.b64encode(value.encode()).decode()
    core.replace_namespaced_secret("flyte-admin-secrets", NS, client.V1Secret(
        metadata=client.V1ObjectMeta(name="flyte-admin-secrets", namespace=NS), type=before.type, data=data))
    return lambda: core.replace_namespaced_secret("flyte-admin-secrets", NS, client.V1Secret(
        metadata=client.V1ObjectMeta(name="flyte-admin-secrets", namespace=NS), type=before.type, data=before.data))


def _edit_server_yaml(live, change):
    """Hand edit of flyteadmin's server.yaml; returns the function that puts it back."""
    core = client.CoreV1Api(live.kube)
    before = core.read_namespaced_config_map("flyte-admin-base-config", NS).data["server.yaml"]
    doc = yaml.safe_load(before)
    change(doc)
    core.patch_namespaced_config_map("flyte-admin-base-config", NS, {"data": {"server.yaml": yaml.safe_dump(doc)}})
    return lambda: core.patch_namespaced_config_map("flyte-admin-base-config", NS, {"data": {"server.yaml": before}})


def _admin_crashes(live, name):
    """Start flyteadmin serve on what the cluster holds now; return its log once it has exited (it must)."""
    live.stop_admin()
    pod = live.pod("flyteadmin", ADMIN_OVERRIDES(live.pg, live.store), name)
    proc = pod.start("flyteadmin")
    code = wait_exit(proc, timeout=90)
    text = pod.log(proc)
    pod.stop()
    assert code not in (None, 0), "flyteadmin kept running on the bad value:\n%s" % text[-3000:]
    return text


def _refused(live, audit, extra, option):
    values = dict(live.extra)
    values.update({"auth_namespace": NS, "auth_public_url": PUBLIC, "auth_oidc": {"base_url": live.issuer, "client_id": "flyteadmin"}})
    values.update(extra)
    start = audit.mark()
    result = run_playbook(AUTH, live.cluster.kubeconfig, values)
    assert result.rc != 0, "the collection accepted %s" % option
    failed = [r for _n, r in result.tasks() if r.get("failed")]
    assert failed and option in json.dumps(failed[-1].get("msg")), failed[-1].get("msg")
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []


CRASHES = [
    # (id, hand edit of the live objects, collection input, option named, flyteadmin's error)
    ("padded-base64-key", lambda live: _edit_secret_key(live, "cookie_hash_key", _padded_key()),
     lambda: {"auth_keys": {"cookie_hash_key": _padded_key()}}, "keys.cookie_hash_key", "illegal base64 data"),
    ("pkcs8-rsa-key", lambda live: _edit_secret_key(live, "token_rsa_key.pem", _pkcs8_key()),
     lambda: {"auth_keys": {"token_rsa_key.pem": _pkcs8_key()}}, "keys.token_rsa_key.pem", "PKCS8"),
    ("oidc-without-client-secret", lambda live: _edit_secret_key(live, "oidc_client_secret", None),
     lambda: {}, "oidc_client_secret", "oidc_client_secret"),
]


@pytest.mark.parametrize("case", CRASHES, ids=[c[0] for c in CRASHES])
def test_inputs_that_crash_flyteadmin_are_refused(live, audit, case):
    name, edit, given, option, crash = case
    put_back = edit(live)
    try:
        log = _admin_crashes(live, "crash-%s" % name)
        assert crash in log, log[-3000:]
        if name == "oidc-without-client-secret":
            _refused(live, audit, {}, option)   # the Secret lacks it now, and nothing gives it
        else:
            _refused(live, audit, given(), option)
    finally:
        put_back()


def test_raw_bcrypt_hash_crashes_flyteadmin_and_the_collection_repairs_it(live, tmp_path):
    """No option takes a hash: the collection makes it. A raw one found live is replaced by base64(bcrypt)."""
    import bcrypt
    secret = _secret(live.kube, "flyte-secret-auth", "client_secret")
    raw = bcrypt.hashpw(secret.encode(), bcrypt.gensalt(6)).decode()

    def set_raw(doc):
        doc["auth"]["appAuth"]["selfAuthServer"]["staticClients"]["flytepropeller"]["client_secret"] = raw
    _edit_server_yaml(live, set_raw)
    log = _admin_crashes(live, "crash-raw-hash")
    assert "illegal base64 data" in log and "client_secret" in log, log[-3000:]
    values = dict(live.extra, auth_namespace=NS, auth_oidc={"base_url": live.issuer, "client_id": "flyteadmin"},
                  auth_backup_dir=str(tmp_path / "backups"))
    result = run_playbook(AUTH, live.cluster.kubeconfig, values)
    assert result.rc == 0, result.stdout[-3000:]
    assert result.result("Configure flyteadmin")["propeller_hash"] == "new"
    stored = _server_yaml(live)["auth"]["appAuth"]["selfAuthServer"]["staticClients"]["flytepropeller"]["client_secret"]
    assert bcrypt.checkpw(secret.encode(), base64.b64decode(stored))
    live.admin, live.serve = live.start_admin("repaired")
    assert wait_http("/healthcheck", live.serve), live.admin.log(live.serve)[-3000:]
    assert token("flytepropeller", secret)[0] == 200


def test_a_secret_key_the_deployment_does_not_mount(live, audit):
    """flyteadmin's admin-secrets volume lists items without oidc_client_secret: the real server cannot read it."""
    apps = client.AppsV1Api(live.kube)
    keys = ["cookie_hash_key", "cookie_block_key", "claim_symmetric_key", "token_rsa_key.pem"]
    volumes = apps.read_namespaced_deployment("flyteadmin", NS).spec.template.spec.volumes
    names = [v.name for v in volumes]
    index = names.index("admin-secrets")
    path = "/spec/template/spec/volumes/%d/secret/items" % index
    apps.patch_namespaced_deployment("flyteadmin", NS, [{"op": "add", "path": path,
                                                         "value": [{"key": k, "path": k} for k in keys]}])
    try:
        log = _admin_crashes(live, "crash-unmounted-key")
        assert "secrets not found - file [/etc/secrets/oidc_client_secret]" in log, log[-3000:]
        _refused(live, audit, {}, "flyte-admin-secrets/oidc_client_secret")
    finally:
        apps.patch_namespaced_deployment("flyteadmin", NS, [{"op": "remove", "path": path}])


def test_issuer_with_a_trailing_slash_crashes_flyteadmin_and_is_refused(live, audit):
    def slash(doc):
        doc["auth"]["userAuth"]["openId"]["baseUrl"] = live.issuer + "/"
    put_back = _edit_server_yaml(live, slash)
    try:
        log = _admin_crashes(live, "crash-issuer-slash")
        assert "issuer did not match" in log, log[-3000:]
    finally:
        put_back()
    _refused(live, audit, {"auth_oidc": {"base_url": live.issuer + "/", "client_id": "flyteadmin"},
                           "auth_verify_discovery": True}, "oidc")
