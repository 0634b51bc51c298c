# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults survived (issue 22 section 2), injected on the local control plane and checked with this test's own reads.

* kube-apiserver killed mid-run (SIGKILL of its recorded PID), once while the CORS run edits ConfigMaps and once while
  flyte_securitycontext's patch rolls out, then started again with the same command line (etcd keeps running, so the
  cluster keeps its state): the run fails with a clear error, every ConfigMap is whole (the state before or the one
  the run writes), and a rerun converges (a third run changes nothing);
* kube-apiserver stalled (SIGSTOP) for longer than the client timeout (FLYTESEC_K8S_REQUEST_TIMEOUT, module_utils/k8s.py):
  the timeout is reported, nothing is written;
* a stale lock (a run that took the Lease and died): the next run takes it over after the Lease's duration and says
  so; a live holder is still waited for;
* the IdP down, or answering 500 (an HTTP stub on 127.0.0.1), during registration: a clear error, nothing written
  to Kubernetes;
* a ConfigMap and a Secret edited by someone else between the module's read and its write: the real API server
  answers 409 on the resourceVersion the patch carries, and the other writer's edit stays (module_utils/apply.py;
  the retry when only server-managed fields moved is tests/unit/plugins/module_utils/test_apply.py).

A rollout that never becomes ready (timeout, rollback, the error names the workload) is proven by
test_cors_rollout.py::test_failed_rollout_is_rolled_back and test_pod_security.py::test_failed_rollout_restores_the_pod_template;
conftest.py counts them with these in the figures line.

Every fault that stops or kills the API server puts it back in a finally block (restarted, /readyz answered), falling
back to hack/cluster/up.sh, so later tests are unaffected.
"""
from __future__ import absolute_import, division, print_function

import base64
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import HACK, install_flyte, rolled_out, wait_for
from k8s_audit import is_dry_run, is_write, username
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
ADMIN_CM, ADMIN_KEY = "flyte-admin-base-config", "server.yaml"
CONSOLE_CM = "flyte-console-config"
ORIGIN = "https://flyte-faults.example.com"
SC_WORKLOADS = ["Deployment/flyteadmin", "Deployment/datacatalog", "Deployment/flytepropeller"]
CLEAR = ("could not be reached", "did not answer", "Connection refused", "connection refused", "Max retries exceeded")


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


def _whole(data, before):
    """Each ConfigMap key is either what it was or parses as YAML with the run's origin: never a torn document."""
    problems = []
    for name, keys in data.items():
        for key, text in (keys or {}).items():
            if text == (before[name] or {}).get(key):
                continue
            try:
                yaml.safe_load(text)
            except yaml.YAMLError as exc:
                problems.append("%s/%s does not parse: %s" % (name, key, exc))
                continue
            if ORIGIN not in text:
                problems.append("%s/%s changed but does not carry the run's settings" % (name, key))
    return problems


def _failure_message(result):
    failed = [r for _name, r in result.tasks() if r.get("failed")]
    return " | ".join(str(r.get("msg", "")) for r in failed) or result.stdout[-2000:]


def _start_playbook(playbook, cluster, extra_vars, env=None):
    """ansible-playbook in the background (the same command line as playbook.run_playbook)."""
    from playbook import BIN, ROOT, environment
    vars_file = Path(extra_vars.pop("_vars_file"))
    vars_file.write_text(json.dumps(extra_vars))
    environ = environment(cluster.kubeconfig)
    environ.update(env or {})
    cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), "-e", "@%s" % vars_file]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ, cwd=str(ROOT))


def _first_write(audit, start, resource, timeout=240):
    """Wait for the first real (not dry-run) write of ``resource`` by the test's user since ``start``."""
    def found():
        return [e for e in audit.events(since=start) if is_write(e) and not is_dry_run(e) and username(e) == ADMIN
                and (e.get("objectRef") or {}).get("resource") == resource]
    return wait_for(found, timeout=timeout, interval=0.05, message="a write of %s" % resource)


def _parse(proc):
    out, err = proc.communicate(timeout=900)

    class Done:
        pass
    done = Done()
    done.returncode, done.stdout, done.stderr = proc.returncode, out, err
    try:
        data = json.loads(out)
    except ValueError:
        data = None
    from playbook import PlaybookResult
    return PlaybookResult(done, data)


# ------------------------------------------------------------------------------------------------ kill -9

def test_apiserver_killed_during_configmap_edits(cluster, kube, core, apiserver, audit, tmp_path):
    before = _configmaps(kube)
    start = audit.mark()
    proc = _start_playbook(CORS_PLAYBOOK, cluster, dict(_cors_vars(tmp_path), _vars_file=str(tmp_path / "v.json")))
    try:
        _first_write(audit, start, "configmaps")
        apiserver.kill()
        result = _parse(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        apiserver.start()
    assert result.rc != 0
    message = _failure_message(result)
    print("fault message:", message[:600])
    assert any(text in message for text in CLEAR), message[-3000:]
    after = _configmaps(kube)
    assert _whole(after, before) == []
    converged = run_playbook(CORS_PLAYBOOK, cluster.kubeconfig, _cors_vars(tmp_path))
    assert converged.rc == 0, converged.stdout[-3000:]
    again = run_playbook(CORS_PLAYBOOK, cluster.kubeconfig, _cors_vars(tmp_path))
    assert again.rc == 0 and again.changed() == 0, again.stdout[-3000:]
    server = yaml.safe_load(_configmaps(kube)[ADMIN_CM][ADMIN_KEY])
    assert server["server"]["security"]["allowedOrigins"] == [ORIGIN]
    wait_for(rolled_out(kube, NS), timeout=180, message="Deployments of %s rolled out" % NS)


def _templates(kube):
    apps = client.AppsV1Api(kube)
    return dict((d.metadata.name, kube.sanitize_for_serialization(d.spec.template.spec))
                for d in apps.list_namespaced_deployment(NS).items)


def test_apiserver_killed_during_the_securitycontext_rollout(cluster, kube, core, apiserver, audit, tmp_path):
    values = {"sc_namespace": NS, "sc_workloads": SC_WORKLOADS, "sc_backup_dir": str(tmp_path / "backups"),
              "sc_wait_timeout": 120}
    before = _templates(kube)
    start = audit.mark()
    proc = _start_playbook(SC_PLAYBOOK, cluster, dict(values, _vars_file=str(tmp_path / "v.json")))
    try:
        _first_write(audit, start, "deployments")
        apiserver.kill()
        result = _parse(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        apiserver.start()
    assert result.rc != 0
    message = _failure_message(result)
    print("fault message:", message[:600])
    assert any(text in message for text in CLEAR), message[-3000:]
    # each pod template is the one before or the hardened one: a strategic merge patch applies whole or not at all
    middle = _templates(kube)
    converged = run_playbook(SC_PLAYBOOK, cluster.kubeconfig, values)
    assert converged.rc == 0, converged.stdout[-3000:]
    hardened = _templates(kube)
    for name, spec in middle.items():
        assert spec in (before[name], hardened[name]), name
    again = run_playbook(SC_PLAYBOOK, cluster.kubeconfig, values)
    assert again.rc == 0 and again.changed() == 0, again.stdout[-3000:]
    for workload in SC_WORKLOADS:
        spec = hardened[workload.split("/")[1]]
        assert all((c.get("securityContext") or {}).get("allowPrivilegeEscalation") is False for c in spec["containers"])
    wait_for(rolled_out(kube, NS), timeout=180, message="Deployments of %s rolled out" % NS)


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
    from ansible_collections.flytesec.hardening.plugins.module_utils import k8s as k8s_utils
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
