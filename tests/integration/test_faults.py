# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults survived (issue 22 section 2), injected on the local control plane and checked with this test's own reads.

* kube-apiserver killed (SIGKILL of its recorded PID) at an exact point between two writes, then started again with
  the same command line (etcd keeps running, so the cluster keeps its state): once between the CORS run's two
  ConfigMap patches, once between flyte_securitycontext's first Deployment patch (that Deployment then rolls out) and
  the next. The playbook talks to the API server through KillSwitch, a proxy on 127.0.0.1 that kills it as soon as it
  has answered the first real write of that kind, before the next request. The run fails with a clear error naming
  the write it could not make (no traceback); the audit log holds exactly one write of the run; every object is as
  before but that one, which is whole, as an undisturbed run writes it. Then either restore.yml for the run's id puts
  every object back byte for byte (ConfigMaps, Secrets, Deployments, the Namespace: all but resourceVersion,
  managedFields, generation, status and the Deployment revision annotation), or a rerun converges to the end state of
  an undisturbed run (parsed, run ids aside) and a third run changes nothing;
* kube-apiserver stalled (SIGSTOP) for longer than the client timeout (FLYTESEC_K8S_REQUEST_TIMEOUT, module_utils/k8s/client.py):
  the timeout is reported, nothing is written;
* a stale lock (a run that took the Lease and died): the next run takes it over after the Lease's duration and says
  so; a live holder is still waited for;
* the IdP down, or answering 500 (an HTTP stub on 127.0.0.1), during registration: a clear error, nothing written
  to Kubernetes;
* a ConfigMap and a Secret edited by someone else between the module's read and its write: the real API server
  answers 409 on the resourceVersion the patch carries, and the other writer's edit stays (module_utils/k8s/apply.py;
  the retry when only server-managed fields moved is tests/unit/plugins/module_utils/test_apply.py).

A rollout that never becomes ready (timeout, rollback, the error names the workload) is proven by
test_cors_rollout.py::test_failed_rollout_is_rolled_back and test_pod_security.py::test_failed_rollout_restores_the_pod_template;
conftest.py counts them with these in the figures line.

Every fault that stops or kills the API server puts it back in a finally block (restarted, /readyz answered), falling
back to hack/cluster/up.sh, so later tests are unaffected.
"""
from __future__ import absolute_import, division, print_function

import base64
import http.client
import http.server
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import HACK, ROOT, install_flyte, rolled_out, wait_for
from k8s_audit import is_dry_run, is_write, resource_of, status_code, summary, username
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration

HERE = Path(__file__).resolve().parent
NS = "faults-core"
ADMIN = "flytesec-admin"
CORS_PLAYBOOK = HERE / "playbooks" / "cors.yml"
SC_PLAYBOOK = HERE / "playbooks" / "securitycontext_module.yml"
RESTORE = ROOT / "playbooks" / "restore.yml"
ADMIN_CM, ADMIN_KEY = "flyte-admin-base-config", "server.yaml"
CONSOLE_CM = "flyte-console-config"
ORIGIN = "https://flyte-faults.example.com"
SC_WORKLOADS = ["Deployment/flyteadmin", "Deployment/datacatalog", "Deployment/flytepropeller"]


# ------------------------------------------------------------------------------------------------ the API server

class ApiServer:
    """The cluster's kube-apiserver process: killed, stopped, continued and started again with its own command line."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.pid_file = Path(cluster.run_dir) / "kube-apiserver.pid"
        self.argv = Path("/proc/%d/cmdline" % self.pid).read_bytes().rstrip(b"\0").split(b"\0")

    @property
    def pid(self):
        return int(self.pid_file.read_text().strip())

    def ready(self):
        proc = self.cluster.kubectl("get", "--raw", "/readyz", check=False, timeout=10)
        return proc.returncode == 0 and proc.stdout.strip() == "ok"

    def kill(self):
        pid = self.pid
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not Path("/proc/%d" % pid).exists() or _zombie(pid), timeout=30, message="kube-apiserver gone")

    def stop(self):
        os.kill(self.pid, signal.SIGSTOP)

    def cont(self):
        os.kill(self.pid, signal.SIGCONT)

    def start(self):
        log = open(str(Path(self.cluster.run_dir) / "kube-apiserver.log"), "ab")
        proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        self.pid_file.write_text("%d\n" % proc.pid)
        wait_for(self.ready, timeout=120, interval=0.5, message="kube-apiserver /readyz after a restart")

    def heal(self):
        """Whatever a fault left: continue a stopped server, start a dead one, wait for /readyz; up.sh as the last resort."""
        try:
            if Path("/proc/%d" % self.pid).exists() and not _zombie(self.pid):
                self.cont()
                wait_for(self.ready, timeout=60, message="kube-apiserver /readyz")
            else:
                self.start()
        except Exception:  # pylint: disable=broad-except  # the cluster must come back for the tests after this one
            subprocess.run(["bash", str(HACK / "up.sh"), "--name", self.cluster.name], check=False, timeout=900,
                           capture_output=True)
            wait_for(self.ready, timeout=120, message="kube-apiserver /readyz after up.sh")


def _zombie(pid):
    try:
        return Path("/proc/%d/stat" % pid).read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def apiserver(cluster):
    if not cluster.started or cluster.run_dir is None or not (Path(cluster.run_dir) / "kube-apiserver.pid").exists():
        pytest.skip("needs a cluster whose kube-apiserver is a local process of hack/cluster/up.sh")
    server = ApiServer(cluster)
    try:
        yield server
    finally:
        server.heal()


# ------------------------------------------------------------------------------------------------ helpers

@pytest.fixture(scope="module")
def core(cluster):
    install_flyte(cluster, "flyte-core", NS)
    return NS


def _core(kube):
    return client.CoreV1Api(kube)


def _configmaps(kube):
    core = _core(kube)
    return dict((name, core.read_namespaced_config_map(name, NS).data) for name in (ADMIN_CM, CONSOLE_CM))


def _cors_vars(tmp_path, run_id=None):
    return {"cors_namespace": NS, "cors_admin_url": ORIGIN, "cors_console_origins": [ORIGIN],
            "cors_backup_dir": str(tmp_path / "backups"), "run_id": run_id or "faults-%s" % uuid.uuid4().hex[:8],
            "rollout_wait_timeout": 120}


def _failure_message(result):
    failed = [r for _name, r in result.tasks() if r.get("failed")]
    return " | ".join(str(r.get("msg", "")) for r in failed) or result.stdout[-2000:]


# ------------------------------------------------------------------------------------------------ the kill switch

HOP_HEADERS = ("connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te", "trailer", "upgrade")


class KillSwitch:
    """A plain-HTTP proxy on 127.0.0.1 between a playbook and the API server, to kill kube-apiserver at an exact point.

    The playbook gets ``kubeconfig`` (server ``http://127.0.0.1:PORT``, no credentials of its own); the proxy forwards
    each request over TLS with the cluster's admin client certificate, so the audit log shows the run's requests as the
    admin's. Once the API server has answered the first real (not dry-run) PATCH or PUT of a ``resource``
    (``configmaps``, ``deployments``) of ``namespace`` with a 2xx, the proxy SIGKILLs kube-apiserver, closes its own
    listening socket and every other connection, and only then passes that answer back (``Connection: close``): the
    run's next request is refused, exactly as by an API server that died between the two writes. ``fired`` is then
    ``(verb, name, status)`` of the write that went through.
    """

    def __init__(self, cluster, apiserver, resource, namespace, workdir):
        config = yaml.safe_load(Path(str(cluster.kubeconfig)).read_text())
        server, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
        self.tls = ssl.create_default_context(cafile=server["certificate-authority"])
        self.tls.load_cert_chain(user["client-certificate"], user["client-key"])
        url = urllib.parse.urlsplit(server["server"])
        self.upstream = (url.hostname, url.port)
        self.apiserver, self.resource, self.namespace = apiserver, resource, namespace
        self.fired, self.closed = None, False
        self.lock = threading.Lock()
        self.connections = set()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self.httpd.daemon_threads = True
        self.httpd.switch = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        self.kubeconfig = Path(str(workdir)) / "killswitch.kubeconfig"
        self.kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "killswitch",
            "clusters": [{"name": "killswitch", "cluster": {"server": "http://127.0.0.1:%d" % self.httpd.server_address[1]}}],
            "users": [{"name": "killswitch", "user": {}}],
            "contexts": [{"name": "killswitch", "context": {"cluster": "killswitch", "user": "killswitch"}}]}))

    def trigger(self, verb, path, status, connection):
        """True (once) when ``verb path`` answered ``status`` is the write to let through: the API server is then killed
        and every connection but ``connection`` (which still passes the answer back) dropped."""
        url = urllib.parse.urlsplit(path)
        parts = url.path.strip("/").split("/")
        if verb not in ("PATCH", "PUT") or not 200 <= status < 300 or "dryRun=All" in url.query \
                or parts[-4:-1] != ["namespaces", self.namespace, self.resource]:
            return False
        with self.lock:
            if self.fired is not None:
                return False
            self.fired = (verb.lower(), parts[-1], status)
        self.apiserver.kill()
        self.close(keep=connection)
        return True

    def close(self, keep=None):
        """Stop listening and drop every connection (but ``keep``, whose answer is still to be sent)."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
        self.httpd.shutdown()
        self.httpd.socket.close()
        for conn in list(self.connections):
            if conn is not keep:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None

    def setup(self):
        http.server.BaseHTTPRequestHandler.setup(self)
        self.server.switch.connections.add(self.connection)

    def finish(self):
        self.server.switch.connections.discard(self.connection)
        if self.upstream is not None:
            self.upstream.close()
        http.server.BaseHTTPRequestHandler.finish(self)

    def forward(self):
        switch = self.server.switch
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in HOP_HEADERS)
        try:
            if self.upstream is None:
                self.upstream = http.client.HTTPSConnection(*switch.upstream, context=switch.tls, timeout=120)
            self.upstream.request(self.command, self.path, body=body, headers=headers)
            answer = self.upstream.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException):   # the API server is gone: no answer, as from a dead server
            self.close_connection = True
            return
        with switch.lock:
            closed = switch.closed
        if closed:   # a request that raced the kill gets no answer either
            self.close_connection = True
            return
        if self.command in ("PATCH", "PUT") and switch.trigger(self.command, self.path, answer.status, self.connection):
            self.close_connection = True
        self.send_response_only(answer.status, answer.reason)
        for key, value in answer.getheaders():
            if key.lower() not in HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    def log_message(self, *args):   # quiet
        pass


# ------------------------------------------------------------------------------------------------ kill -9 between two writes

# the two kill points: the CORS run between its two ConfigMap patches, and flyte_securitycontext between its first
# Deployment patch (that Deployment then rolls out) and the next one
FAULTS = {
    "configmaps": {"playbook": CORS_PLAYBOOK, "resource": "configmaps", "kind": "ConfigMap"},
    "rollout": {"playbook": SC_PLAYBOOK, "resource": "deployments", "kind": "Deployment", "task": "Harden the securityContexts"},
}
SNAPSHOT_KINDS = "configmaps,secrets,deployments"
# all that is left out of the byte-for-byte comparison: what the API server and the controllers move by themselves
VOLATILE_METADATA = ("resourceVersion", "managedFields", "generation")
VOLATILE_ANNOTATIONS = ("deployment.kubernetes.io/revision",)


def _objects(cluster):
    """Every ConfigMap, Secret and Deployment of NS and the Namespace itself, whole, as the API server returns them,
    without resourceVersion, managedFields, generation, status and a Deployment's revision annotation."""
    items = json.loads(cluster.kubectl("-n", NS, "get", SNAPSHOT_KINDS, "-o", "json").stdout)["items"]
    items.append(json.loads(cluster.kubectl("get", "namespace", NS, "-o", "json").stdout))
    state = {}
    for item in items:
        item = dict((k, v) for k, v in item.items() if k != "status")
        meta = dict((k, v) for k, v in item["metadata"].items() if k not in VOLATILE_METADATA)
        if "annotations" in meta:
            meta["annotations"] = dict((k, v) for k, v in meta["annotations"].items() if k not in VOLATILE_ANNOTATIONS)
        item["metadata"] = meta
        state["%s/%s" % (item["kind"], meta["name"])] = item
    return state


def _differ(before, after):
    """The objects of ``before`` and ``after`` that are not equal (ConfigMap and Secret data compared as exact strings)."""
    return dict((key, (before.get(key), after.get(key))) for key in sorted(set(before) | set(after))
                if before.get(key) != after.get(key))


def _where(before, after, path=""):
    """The paths at which two parsed objects differ, with both values: for assertion messages."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [d for key in sorted(set(before) | set(after)) for d in _where(before.get(key), after.get(key), "%s/%s" % (path, key))]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (b, a) in enumerate(zip(before, after)) for d in _where(b, a, "%s/%d" % (path, i))]
    return [] if before == after else ["%s: %r != %r" % (path, before, after)]


def _parsed(state, *run_ids):
    """``state`` with every ConfigMap value parsed (YAML) and the run ids replaced: two runs' end states compared."""
    text = json.dumps(state, sort_keys=True)
    for run_id in run_ids:
        text = text.replace(run_id, "<run id>")
    state = json.loads(text)
    for item in state.values():
        if item.get("kind") == "ConfigMap":
            item["data"] = dict((key, _yaml(value)) for key, value in (item.get("data") or {}).items())
    return state


def _yaml(text):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _values(fault, tmp_path):
    if fault == "configmaps":
        return _cors_vars(tmp_path)
    return {"sc_namespace": NS, "sc_workloads": SC_WORKLOADS, "sc_backup_dir": str(tmp_path / "backups"), "sc_wait_timeout": 120}


def _run(fault, kubeconfig, tmp_path):
    """One run of the fault's playbook; (result, its run id: the one given, or the one the module reports, failed or not)."""
    values = _values(fault, tmp_path)
    result = run_playbook(FAULTS[fault]["playbook"], kubeconfig, values)
    return result, values.get("run_id") or result.result(FAULTS[fault]["task"]).get("run_id")


def _restore(cluster, kube, tmp_path, run_id):
    """playbooks/restore.yml for ``run_id``, as a user runs it; the result of its flyte_restore task."""
    restored = run_playbook(RESTORE, cluster.kubeconfig, {"flytesec_run_id": run_id, "flytesec_backup_dir": str(tmp_path / "backups")})
    assert restored.rc == 0, restored.stdout[-3000:]
    wait_for(rolled_out(kube, NS), timeout=180, message="Deployments of %s rolled out after restore" % NS)
    return restored.result("Restore every object")


def _killed_run(fault, cluster, apiserver, tmp_path):
    """The fault's run through a KillSwitch; kube-apiserver is started again (and answers /readyz) before this returns."""
    switch = KillSwitch(cluster, apiserver, FAULTS[fault]["resource"], NS, tmp_path)
    try:
        result, run_id = _run(fault, switch.kubeconfig, tmp_path)
    finally:
        switch.close()
        apiserver.heal()
    assert switch.fired, "the run wrote no %s: %s" % (FAULTS[fault]["resource"], result.stdout[-3000:])
    return result, run_id, switch.fired[1]


@pytest.mark.parametrize("fault,branch", [("configmaps", "restore"), ("configmaps", "rerun"), ("rollout", "restore"),
                                          ("rollout", "rerun")])
def test_apiserver_killed_between_two_writes(cluster, kube, core, apiserver, audit, tmp_path, fault, branch):
    kind = FAULTS[fault]["kind"]
    wait_for(rolled_out(kube, NS), timeout=180, message="Deployments of %s rolled out" % NS)
    before = _objects(cluster)
    # the end state an undisturbed run reaches from here, then put back
    reference, reference_id = _run(fault, cluster.kubeconfig, tmp_path)
    assert reference.rc == 0 and reference.changed() > 0, reference.stdout[-3000:]
    wait_for(rolled_out(kube, NS), timeout=180, message="Deployments of %s rolled out" % NS)
    undisturbed = _objects(cluster)
    _restore(cluster, kube, tmp_path, reference_id)
    assert _differ(before, _objects(cluster)) == {}

    start = audit.mark()
    killed, killed_id, written = _killed_run(fault, cluster, apiserver, tmp_path)
    # a clear error that names the write the API server was not there for; no traceback
    assert killed.rc != 0
    message = _failure_message(killed)
    print("fault message:", message[:600])
    refused = re.search(r"patch %s %s/([a-z0-9.-]+) failed: the API server could not be reached: " % (kind, NS), message)
    assert refused and refused.group(1) != written, message[-3000:]
    assert "Traceback" not in killed.stdout + killed.stderr and "MODULE FAILURE" not in message
    assert not [r for _n, r in killed.tasks() if r.get("failed") and ("module_stderr" in r or "module_stdout" in r)]
    # exactly one write landed, answered before the kill: the one the proxy let through
    writes = audit.events(since=start, writes=True, dry_run=False, user=ADMIN)
    assert [(resource_of(e), e["objectRef"]["name"], status_code(e)) for e in writes] == [
        (FAULTS[fault]["resource"], written, 200)], summary(writes)
    # nothing half written: every object as before but that one, which is whole, as the undisturbed run wrote it
    middle = _objects(cluster)
    key = "%s/%s" % (kind, written)
    assert sorted(_differ(before, middle)) == [key]
    assert _parsed({key: middle[key]}, killed_id) == _parsed({key: undisturbed[key]}, reference_id)

    if branch == "restore":
        # restore.yml puts back every object the run touched, byte for byte
        result = _restore(cluster, kube, tmp_path, killed_id)
        assert result["restored"] == ["%s/%s/%s" % (kind, NS, written)], result
        assert "%s/%s/%s" % (kind, NS, refused.group(1)) in result["unchanged"], result
        assert _differ(before, _objects(cluster)) == {}
        return
    # the other way out: run again; a third run changes nothing
    rerun, rerun_id = _run(fault, cluster.kubeconfig, tmp_path)
    assert rerun.rc == 0, rerun.stdout[-3000:]
    wait_for(rolled_out(kube, NS), timeout=180, message="Deployments of %s rolled out" % NS)
    converged = _objects(cluster)
    again, _again_id = _run(fault, cluster.kubeconfig, tmp_path)
    assert again.rc == 0 and again.changed() == 0, again.stdout[-3000:]
    # the two runs restored, newest first, leave the namespace as this test found it
    _restore(cluster, kube, tmp_path, rerun_id)
    _restore(cluster, kube, tmp_path, killed_id)
    assert _differ(before, _objects(cluster)) == {}
    # the rerun converged to the undisturbed run's end state
    where = _where(_parsed(undisturbed, reference_id), _parsed(converged, killed_id, rerun_id))
    # flyteadmin, whose ConfigMap the killed run wrote before it died, is restarted by the rerun as a pending restart
    # (flyte_rollout's candidates: its pods predate that write), so the rerun converges to the undisturbed end state
    assert where == []


# ------------------------------------------------------------------------------------------------ SIGSTOP

def test_apiserver_stalled_longer_than_the_client_timeout(cluster, kube, core, apiserver, audit, tmp_path):
    before = _configmaps(kube)
    start = audit.mark()
    apiserver.stop()
    try:
        began = time.monotonic()
        result = run_playbook(CORS_PLAYBOOK, cluster.kubeconfig, _cors_vars(tmp_path, run_id="stalled"),
                              env={"FLYTESEC_K8S_REQUEST_TIMEOUT": "2"})
        took = time.monotonic() - began
    finally:
        apiserver.cont()
    wait_for(apiserver.ready, timeout=60, message="kube-apiserver /readyz after SIGCONT")
    assert result.rc != 0
    message = _failure_message(result)
    print("fault message:", message[:600])
    assert "did not answer within 2.0s" in message and "FLYTESEC_K8S_REQUEST_TIMEOUT" in message, message[-3000:]
    assert took < 120, took
    time.sleep(2)   # what the stalled server had queued is answered now: still no write
    writes = [e for e in audit.events(since=start) if is_write(e) and not is_dry_run(e) and username(e) == ADMIN]
    assert writes == [], [(e["verb"], e["requestURI"]) for e in writes]
    assert _configmaps(kube) == before


# ------------------------------------------------------------------------------------------------ the lock

LOCK_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - flytesec.hardening.flyte_lock:
        namespace: "{{ ns }}"
        name: flytesec-faults-lock
        run_id: "{{ run }}"
        lease_duration: "{{ duration | default(10) }}"
        wait_timeout: "{{ wait | default(0) }}"
        wait_sleep: 1
      register: lock
"""


def test_a_stale_lock_is_taken_over_after_its_ttl_and_said_so(cluster, kube, core, tmp_path):
    playbook = tmp_path / "lock.yml"
    playbook.write_text(LOCK_PLAYBOOK)
    taken = run_playbook(playbook, cluster.kubeconfig, {"ns": NS, "run": "dead-run"})   # and never released: it "died"
    assert taken.rc == 0, taken.stdout[-2000:]
    refused = run_playbook(playbook, cluster.kubeconfig, {"ns": NS, "run": "live-run", "wait": 0})
    assert refused.rc != 0 and "is held by dead-run" in _failure_message(refused)   # a live holder is still waited for
    lease = client.CoordinationV1Api(kube).read_namespaced_lease("flytesec-faults-lock", NS)
    expires = lease.spec.renew_time.timestamp() + lease.spec.lease_duration_seconds
    time.sleep(max(0.0, expires - time.time()) + 1)
    took_over = run_playbook(playbook, cluster.kubeconfig, {"ns": NS, "run": "next-run"})
    assert took_over.rc == 0, took_over.stdout[-2000:]
    res = took_over.result("flyte_lock")
    assert res["previous_holder"] == "dead-run" and res["holder"] == "next-run"
    assert any("took the lock over from run dead-run" in w for w in res.get("warnings", [])), res
    lease = client.CoordinationV1Api(kube).read_namespaced_lease("flytesec-faults-lock", NS)
    assert lease.spec.holder_identity == "next-run"
    client.CoordinationV1Api(kube).delete_namespaced_lease("flytesec-faults-lock", NS)


# ------------------------------------------------------------------------------------------------ the IdP

IDP_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - flytesec.hardening.flyte_idp_client:
        provider: keycloak
        url: "{{ url }}"
        admin_username: admin
        admin_password: faults-admin-password
        public_url: https://flyte-faults.example.com
        secrets_namespace: "{{ ns }}"
        backup_dir: "{{ backup_dir }}"
"""


class _Answer500(http.server.BaseHTTPRequestHandler):
    def _fail(self):
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error":"unknown_error"}')

    do_GET = do_POST = do_PUT = _fail

    def log_message(self, *args):   # quiet
        pass


@pytest.mark.parametrize("idp", ["down", "answers-500"])
def test_idp_down_or_failing_writes_nothing_to_kubernetes(cluster, kube, core, audit, tmp_path, idp):
    playbook = tmp_path / "idp.yml"
    playbook.write_text(IDP_PLAYBOOK)
    server = None
    if idp == "answers-500":
        server = http.server.HTTPServer(("127.0.0.1", 0), _Answer500)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d" % server.server_address[1]
    else:
        url = "http://127.0.0.1:9"   # nothing listens on the discard port
    secrets = dict((s.metadata.name, s.metadata.resource_version) for s in _core(kube).list_namespaced_secret(NS).items)
    start = audit.mark()
    try:
        result = run_playbook(playbook, cluster.kubeconfig, {"url": url, "ns": NS, "backup_dir": str(tmp_path / "b")})
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
    assert result.rc != 0
    message = _failure_message(result)
    print("fault message:", message[:600])
    assert ("500" in message) if server is not None else ("cannot reach" in message), message
    assert url in message
    writes = [e for e in audit.events(since=start) if is_write(e) and not is_dry_run(e) and username(e) == ADMIN]
    assert writes == [], [(e["verb"], e["requestURI"]) for e in writes]
    assert dict((s.metadata.name, s.metadata.resource_version) for s in _core(kube).list_namespaced_secret(NS).items) == secrets


# ------------------------------------------------------------------------------------------------ 409

def _module_runner():
    """fake_client.run_module (a module's main() in this process), to run a module against the real cluster."""
    unit = HERE.parent / "unit" / "plugins" / "modules"
    if str(unit) not in sys.path:
        sys.path.insert(0, str(unit))
    import fake_client  # noqa: E402  pylint: disable=import-outside-toplevel
    return fake_client.run_module


def _real_client(kubeconfig):
    from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    return k8s_utils.FlyteK8sClient(None, client=get_api_client(kubeconfig=str(kubeconfig)))


@pytest.mark.parametrize("kind", ["ConfigMap", "Secret"])
def test_an_edit_between_read_and_write_is_a_conflict_not_overwritten(cluster, kube, core, audit, tmp_path, kind):
    from ansible_collections.flytesec.hardening.plugins.modules import flyte_auth_secrets, flyte_cors
    run_module = _module_runner()
    real = _real_client(cluster.kubeconfig)
    core_api = _core(kube)
    if kind == "ConfigMap":
        name, module = ADMIN_CM, flyte_cors
        args = {"namespace": NS, "admin_url": ORIGIN, "console_origins": ["https://other-%s.example.com" % uuid.uuid4().hex[:6]],
                "backup_dir": str(tmp_path / "b"), "run_id": "conflict"}

        def edit():
            core_api.patch_namespaced_config_map(name, NS, {"data": {"edited-by": "someone-else"}})
    else:
        name, module = "flyte-secret-auth", flyte_auth_secrets
        args = {"namespace": NS, "scope": "propeller", "propeller_client_secret": "faults-%s" % uuid.uuid4().hex,
                "backup_dir": str(tmp_path / "b"), "run_id": "conflict"}

        def edit():
            core_api.patch_namespaced_secret(name, NS, {"data": {"edited-by": base64.b64encode(b"someone-else").decode()}})
    read = real.get
    edited = []

    def get_then_someone_edits(api_version, kind_, name_, namespace=None):
        obj = read(api_version, kind_, name_, namespace)
        if kind_ == kind and name_ == name and not edited:
            edit()   # another writer, between this module's read and its write
            edited.append(True)
        return obj
    real.get = get_then_someone_edits
    start = audit.mark()
    result, failed = run_module(module, args, real)
    assert edited and failed, result
    assert "changed since this run read it" in result["msg"] and "nothing was overwritten" in result["msg"], result["msg"]
    assert "%s %s/%s" % (kind, NS, name) in result["msg"], result["msg"]
    ours = [e for e in audit.events(since=start) if username(e) == ADMIN and e.get("verb") == "patch"
            and (e.get("objectRef") or {}).get("name") == name]
    assert [(e["responseStatus"]["code"]) for e in ours if not is_dry_run(e)][:1] == [200]   # the other writer
    assert 409 in [e["responseStatus"]["code"] for e in ours[1:]], [(e["verb"], e["responseStatus"]) for e in ours]
    obj = core_api.read_namespaced_config_map(name, NS) if kind == "ConfigMap" else core_api.read_namespaced_secret(name, NS)
    assert "edited-by" in obj.data   # the other writer's edit stays
    if kind == "ConfigMap":
        assert args["console_origins"][0] not in obj.data[ADMIN_KEY]   # and this run's did not go in blindly
