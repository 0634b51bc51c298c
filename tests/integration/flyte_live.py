# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the live Flyte tests: the real binaries (hack/flyte/build.sh), PostgreSQL, HTTP and gRPC probes.

The harness itself is hack/flyte/livepod.py (shared with `make demo`).
"""
from __future__ import absolute_import, division, print_function

import base64
import http.client
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

__metaclass__ = type

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "hack" / "flyte"))

import livepod  # noqa: E402  (hack/flyte is not a package)

# flyteadmin's ports in the upstream charts; they are the configuration under test, so they are not overridden.
ADMIN_HTTP, ADMIN_GRPC, ADMIN_PROFILER = 8088, 8089, 10254


def ADMIN_OVERRIDES(pg, store):
    """Every key the harness adds to flyteadmin's configuration, and why."""
    return {
        # db.yaml names the chart's placeholder host <RDS_HOST>; the test PostgreSQL listens on 127.0.0.1.
        # username, dbname and passwordPath (/etc/db/pass.txt from Secret db-pass) stay as upstream has them.
        "database.host": "127.0.0.1",
        "database.port": pg.port,
        # storage.yaml names S3 with IAM; the shared local folder stands in for the bucket.
        "storage.type": "stow",
        "storage.container": "flyte-live",
        "storage.stow": {"kind": "local", "config": {"path": str(store)}},
    }


def keycloak_env(keycloak):
    return {"KEYCLOAK_ADMIN_USERNAME": "admin", "KEYCLOAK_ADMIN_PASSWORD": keycloak.admin_password}


def secret_value(kube, namespace, name, key):
    from kubernetes import client
    data = client.CoreV1Api(kube).read_namespaced_secret(name, namespace).data or {}
    return base64.b64decode(data[key]).decode() if key in data else None


class Live:
    """What a module's live tests share: the hardened namespace, the database and the running flyteadmin."""

    def __init__(self, cluster, kube, bin_dir, workdir, namespace, pg, realm, issuer):
        self.cluster, self.kube, self.bin_dir, self.workdir = cluster, kube, bin_dir, workdir
        self.namespace, self.pg, self.realm, self.issuer = namespace, pg, realm, issuer
        # The bucket stand-in lives outside /tmp: the hardened pods mount an emptyDir there.
        self.store = Path(tempfile.mkdtemp(prefix="flytesec-store-", dir="/var/tmp"))
        (self.store / "flyte-live").mkdir()
        self.admin = self.serve = self.ingress = None
        self.extra = {}

    def pod(self, deployment, overrides, name):
        return livepod.LivePod(self.kube, self.namespace, deployment, self.workdir / name, self.bin_dir, overrides=overrides)

    def start_admin(self, name="admin"):
        """Run flyteadmin's init containers (migrations, seed projects), then serve."""
        pod = self.pod("flyteadmin", ADMIN_OVERRIDES(self.pg, self.store), name)
        for init in ("run-migrations", "seed-projects"):
            proc = pod.run(init)
            assert proc.returncode == 0, "%s failed:\n%s" % (init, (proc.stdout + proc.stderr)[-4000:])
        serve = pod.start("flyteadmin")
        return pod, serve

    def stop_admin(self):
        if self.admin is not None:
            self.admin.stop()
            self.admin = None

    def close(self):
        if self.ingress is not None:
            self.ingress.close()
        self.stop_admin()
        self.pg.stop()
        shutil.rmtree(str(self.store), ignore_errors=True)


def harden_and_serve(cluster, kube, keycloak, workdir, namespace, public_url, extra, console=None, check_first=False,
                     console_pages=None, other_hosts=()):
    """Fresh upstream flyte-core in ``namespace``, harden-flyte.yml with the clients registered in a new Keycloak
    realm (plus ``extra``), then the real flyteadmin serving on 127.0.0.1 and the ingress stand-in on :443."""
    from kubernetes import client
    import yaml
    from conftest import install_flyte
    from playbook import run_playbook
    bin_dir = build_flyte()
    install_flyte(cluster, "flyte-core", namespace)
    realm = "live-%s" % uuid.uuid4().hex[:6]
    values = {"flytesec_namespace": namespace, "flytesec_state_root": str(workdir / "state"),
              "idp_registration_url": keycloak.url, "idp_registration_realm": realm,
              "idp_registration_create_realm": True, "idp_registration_public_url": public_url,
              "auth_public_url": public_url}
    values.update(extra)
    if check_first:
        # --check --diff on the fresh upstream install previews the run: exit 0, and not one write (audit log).
        from k8s_audit import AuditLog, summary
        log = AuditLog(cluster.audit_log)
        start = log.mark()
        checked = run_playbook(ROOT / "playbooks" / "harden-flyte.yml", cluster.kubeconfig, values, check=True, diff=True,
                               env=keycloak_env(keycloak))
        assert checked.rc == 0, checked.stdout[-4000:]
        assert checked.changed() > 0
        writes = log.events(since=start, writes=True, dry_run=False, user="flytesec-admin")
        assert writes == [], summary(writes)
    result = run_playbook(ROOT / "playbooks" / "harden-flyte.yml", cluster.kubeconfig, values, env=keycloak_env(keycloak))
    assert result.rc == 0, result.stdout[-4000:]
    pg = livepod.Postgres().start()
    db = yaml.safe_load(client.CoreV1Api(kube).read_namespaced_config_map("flyte-admin-base-config", namespace)
                        .data["db.yaml"])["database"]
    # The role and password flyteadmin uses are the ones its configuration names (passwordPath, from db-pass).
    pg.user(db["username"], secret_value(kube, namespace, "db-pass", "pass.txt").strip(), db["dbname"])
    state = Live(cluster, kube, bin_dir, workdir, namespace, pg, realm, "%s/realms/%s" % (keycloak.url, realm))
    state.extra = values
    state.admin, state.serve = state.start_admin()
    if not wait_http("/healthcheck", state.serve):
        log = state.admin.log(state.serve)
        state.close()
        pytest.fail("flyteadmin did not start:\n%s" % log[-6000:], pytrace=False)
    state.ingress = Ingress(workdir / "ingress", urllib.parse.urlsplit(public_url).hostname,
                            urllib.parse.urlsplit(console or "https://console.invalid").hostname,
                            console_pages=console_pages, other_hosts=other_hosts)
    return state


def free_port():
    return livepod.free_port()


def build_flyte():
    """The folder of the real flyteadmin, flytepropeller and flyte binaries (built once, cached)."""
    proc = subprocess.run(["bash", str(ROOT / "hack" / "flyte" / "build.sh")], capture_output=True, text=True,
                          timeout=5400, check=False)
    if proc.returncode != 0:
        pytest.fail("hack/flyte/build.sh failed:\n%s" % proc.stderr[-6000:], pytrace=False)
    return Path(proc.stdout.strip().splitlines()[-1])


def flytekit_python():
    proc = subprocess.run(["bash", str(ROOT / "hack" / "flytekit.sh")], capture_output=True, text=True, timeout=1800,
                          check=False)
    if proc.returncode != 0:
        pytest.fail("hack/flytekit.sh failed:\n%s" % proc.stderr[-4000:], pytrace=False)
    return proc.stdout.strip().splitlines()[-1]


def request(method, path, port=ADMIN_HTTP, headers=None, body=None, timeout=30):
    """One HTTP request to 127.0.0.1 (no redirect followed): (status, {lower-case header: [values]}, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        found = {}
        for key, value in answer.getheaders():
            found.setdefault(key.lower(), []).append(value)
        return answer.status, found, answer.read().decode("utf-8", "replace")
    finally:
        conn.close()


def login_redirect(port=ADMIN_HTTP):
    """GET /login: (the URL it redirects to without its query, the query as a dict of lists)."""
    status, headers, body = request("GET", "/login", port=port)
    assert status in (302, 303, 307), body
    location = urllib.parse.urlsplit(headers["location"][0])
    return "%s://%s%s" % (location.scheme, location.netloc, location.path), urllib.parse.parse_qs(location.query)


def token(client_id, secret, port=ADMIN_HTTP, scope="all"):
    """POST /oauth2/token (client credentials, HTTP basic auth, as flytekit and propeller send it)."""
    basic = base64.b64encode(("%s:%s" % (client_id, secret)).encode()).decode()
    form = "grant_type=client_credentials&scope=%s" % scope
    status, _h, body = request("POST", "/oauth2/token", port=port, body=form,
                               headers={"Authorization": "Basic %s" % basic,
                                        "Content-Type": "application/x-www-form-urlencoded"})
    return status, (json.loads(body) if body.startswith("{") else {"raw": body})


def wait_http(path, proc, port=ADMIN_HTTP, timeout=120.0):
    """Wait until ``path`` answers 200; False if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if request("GET", path, port=port, timeout=3)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def wait_exit(proc, timeout=90.0):
    """The exit code of ``proc``, or None if it still runs after ``timeout``."""
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


class Ingress:
    """What an ingress controller does in front of Flyte, on 127.0.0.1:443: TLS with a certificate for the
    configured domains, then by Host header: the admin domain is proxied to flyteadmin's HTTP port, the console
    domain serves ``console_pages`` ({path: html}). A test CA signs the certificate; ``ca_file`` is its PEM.

    Clients reach it by name through /etc/hosts in a mount namespace (``hosts_file``) or Chromium's
    --host-resolver-rules; nothing outside 127.0.0.1 is contacted.
    """

    def __init__(self, workdir, admin_host, console_host, console_pages=None, admin_port=ADMIN_HTTP, port=443,
                 other_hosts=()):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.admin_host, self.console_host = admin_host, console_host
        # hosts that serve the same pages as the console (another origin, for the browser's CORS check)
        self.page_hosts = set([console_host] + list(other_hosts))
        self.console_pages = dict(console_pages or {})
        self.admin_port, self.port = admin_port, port
        self.requests = []   # (method, host, path, status) of what was proxied to flyteadmin
        self.ca_file, cert, key = self._certificates()
        self.hosts_file = self.workdir / "hosts"
        self.hosts_file.write_text(Path("/etc/hosts").read_text() + "\n127.0.0.1 %s\n" % " ".join(
            sorted(set([admin_host]) | self.page_hosts)))
        self._server = self._serve(cert, key)

    def _certificates(self):
        import datetime
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flytesec test ingress CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.DNSName(h) for h in sorted(set([self.admin_host]) | self.page_hosts)]
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.admin_host)]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        ca_file, cert_file, key_file = self.workdir / "ca.pem", self.workdir / "tls.crt", self.workdir / "tls.key"
        ca_file.write_bytes(ca.public_bytes(pem))
        cert_file.write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
        key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        key_file.chmod(0o600)
        return ca_file, cert_file, key_file

    def _serve(self, cert, key):
        import http.server
        import ssl
        import threading
        ingress = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def _handle(self):
                host = (self.headers.get("Host") or "").split(":")[0]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if host in ingress.page_hosts:
                    page = ingress.console_pages.get(self.path.split("?")[0])
                    data = (page or "not found").encode()
                    self.send_response(200 if page else 404)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if host != ingress.admin_host:
                    self.send_error(421)
                    return
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in ("connection", "content-length"))
                headers["X-Forwarded-Proto"] = "https"
                status, answer, data = _forward(self.command, self.path, headers, body, ingress.admin_port)
                ingress.requests.append((self.command, host, self.path.split("?")[0], status))
                self.send_response(status)
                for k, v in answer:
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle

        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def run_resolved(self, argv, **kwargs):
        """Run ``argv`` with the configured domains resolving to 127.0.0.1 (its own /etc/hosts, unshare -m)."""
        import shlex
        command = " ".join(shlex.quote(str(a)) for a in argv)
        script = "mount --bind %s /etc/hosts && exec %s" % (shlex.quote(str(self.hosts_file)), command)
        return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], capture_output=True,
                              text=True, check=False, **kwargs)

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def _forward(method, path, headers, body, port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.getheaders(), answer.read()
    finally:
        conn.close()


def flyte_workflow(name, namespace):
    """The smallest FlyteWorkflow (start -> end), as flyteadmin would create it for an execution."""
    return {
        "apiVersion": "flyte.lyft.com/v1alpha1", "kind": "FlyteWorkflow",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"execution-id": name, "project": "flytesnacks", "domain": "development"}},
        "spec": {"id": "flytesnacks:development:live.start_end", "connections": {},
                 "nodes": {"start-node": {"id": "start-node", "kind": "start"}, "end-node": {"id": "end-node", "kind": "end"}},
                 "edges": {"downstream": {"start-node": ["end-node"]}, "upstream": {"end-node": ["start-node"]}}},
        "executionId": {"project": "flytesnacks", "domain": "development", "name": name},
        "inputs": {}, "tasks": {}, "node-defaults": {},
        "rawOutputDataConfig": {"OutputLocationPrefix": "stow://flyte-live/raw"},
    }


def assert_propeller_authenticates(live, namespace, overrides, prefix="live"):
    """Run the real flytepropeller from its Deployment in ``namespace`` (with ``overrides``) on a FlyteWorkflow and
    assert it reached flyteadmin past authentication: flyteadmin answers its events NotFound (no such execution), a
    reply an unauthenticated call never gets, with a token from the public token endpoint through the ingress."""
    from kubernetes import client
    pod = livepod.LivePod(live.kube, namespace, "flytepropeller", live.workdir / "propeller", live.bin_dir,
                          overrides=overrides, hosts={live.ingress.admin_host: "127.0.0.1"}, ca_files=[live.ingress.ca_file])
    proc = pod.start("flytepropeller")
    custom = client.CustomObjectsApi(live.kube)
    name = "%s-%s" % (prefix, uuid.uuid4().hex[:6])
    try:
        time.sleep(5)
        assert proc.poll() is None, pod.log(proc)[-4000:]
        custom.create_namespaced_custom_object("flyte.lyft.com", "v1alpha1", namespace, "flyteworkflows",
                                               flyte_workflow(name, namespace))
        deadline, log = time.monotonic() + 90, ""
        while time.monotonic() < deadline:
            log = pod.log(proc)
            if "code = NotFound" in log or "code = Unauthenticated" in log or proc.poll() is not None:
                break
            time.sleep(1)
        assert "code = Unauthenticated" not in log, log[-4000:]
        assert "code = NotFound desc = missing entity of type execution" in log, log[-4000:]
        assert ("POST", live.ingress.admin_host, "/oauth2/token", 200) in live.ingress.requests
    finally:
        pod.stop()
        # propeller put its finalizer on the workflow and is gone: take it off, or the object (and the CRD) never goes.
        custom.patch_namespaced_custom_object("flyte.lyft.com", "v1alpha1", namespace, "flyteworkflows", name,
                                              {"metadata": {"finalizers": None}})
        custom.delete_namespaced_custom_object("flyte.lyft.com", "v1alpha1", namespace, "flyteworkflows", name)
