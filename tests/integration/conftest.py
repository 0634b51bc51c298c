# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for tests against the real local control plane (hack/cluster/).

cluster  session: starts the cluster with hack/cluster/up.sh (build if needed; a no-op when it
         already runs) unless FLYTESEC_KUBECONFIG names one. Attributes: name, kubeconfig,
         dev_kubeconfig, run_dir, audit_log, bin_dir, server; kubectl(*args) runs the built kubectl;
         token_kubeconfig(namespace, service_account, path) writes a kubeconfig with a token of that ServiceAccount.
flyte    session: installs upstream Flyte v1.16.8 with hack/cluster/flyte-up.sh (re-runnable);
         attributes core_ns, binary_ns. FLYTESEC_FLYTE_FRESH=0 keeps an existing install (default: reinstall from scratch).
kube     session: a kubernetes.client.ApiClient for the admin kubeconfig (system:masters).
audit    function: a k8s_audit.AuditLog on the cluster's audit log, marked at the test's start,
         so audit.events(writes=True, ...) returns what happened since.
scratch_namespace  function: a fresh namespace, deleted afterwards.

Environment: FLYTESEC_CLUSTER (name, default local), FLYTESEC_CLUSTER_PORT (for a new cluster),
FLYTESEC_KUBECONFIG (+ optional FLYTESEC_RUN_DIR, FLYTESEC_AUDIT_LOG, FLYTESEC_DEV_KUBECONFIG) to use a
cluster started elsewhere, FLYTESEC_CLUSTER_DOWN=1 to stop a cluster this session started.
Every test here carries the ``integration`` marker. The suite ends with one figures line (``figures_line``):
faults survived, bad inputs refused (live sample), secret hits of the AWX runner test.
"""
from __future__ import absolute_import, division, print_function

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

__metaclass__ = type

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
HACK = ROOT / "hack" / "cluster"
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from k8s_audit import AuditLog  # noqa: E402  (tests/integration is not a package)


def _reexport_root_conftest():
    """Keep ``from conftest import X`` working for tests elsewhere when pytest collects all of tests/.

    conftest.py files outside packages share the module name ``conftest``; pytest replaces
    sys.modules["conftest"] with the last one it loads, which is this one when tests/integration
    is collected before tests/unit. Re-export the public names of tests/conftest.py here.
    """
    import importlib.util
    path = HERE.parent / "conftest.py"
    if not path.exists():
        return
    spec = importlib.util.spec_from_file_location("_flytesec_tests_root_conftest", str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for key, value in vars(module).items():
        if not key.startswith("_") and key not in globals() and not key.startswith("pytest_"):
            globals()[key] = value


_reexport_root_conftest()


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: needs the real local Kubernetes cluster (hack/cluster/up.sh)")


# Modules that need a binary `make test` builds in the background (Flyte servers, the External Secrets Operator,
# the policy CLIs) run last, in the order the background chain builds them, so that on a cold machine the other
# modules run while those builds finish instead of waiting on their locks.
LATE = ("test_projects.py", "test_flyte_live.py", "test_flyte_live_binary.py", "test_flyte_live_external.py",
        "test_flyte_live_eso.py", "test_guardrails.py")


# The figures line printed at the end of the suite: faults survived (test_faults.py, and the rollout that never becomes
# ready, proven where the rollouts are tested), bad inputs refused (the live sample of the bad-input table) and secret
# hits (test_awx_runner.py records ``secret_hits`` with record_property). Each test is counted once, by its outcome;
# an xfail is not survived, and neither is a pass whose teardown then failed (test_faults.py's ``apiserver`` fixture
# puts the API server back there).
FAULT_TESTS = ("test_faults.py::", "test_cors_rollout.py::test_failed_rollout_is_rolled_back",
               "test_pod_security.py::test_failed_rollout_restores_the_pod_template")
BAD_INPUT_TESTS = ("test_bad_inputs_live.py::",)
FIGURES = {"faults": [0, 0], "bad_inputs": [0, 0], "secret_hits": None}
_PASSED = set()   # node ids counted as passed, taken back if their teardown fails


def _figure_of(nodeid):
    name = nodeid.rsplit("/", 1)[-1]
    for figure, prefixes in (("faults", FAULT_TESTS), ("bad_inputs", BAD_INPUT_TESTS)):
        if any(name.startswith(prefix) for prefix in prefixes):
            return figure
    return None


def pytest_runtest_logreport(report):
    figure = _figure_of(report.nodeid)
    if figure and (report.when == "call" or (report.when == "setup" and report.failed)):
        FIGURES[figure][1] += 1
        if report.passed:
            FIGURES[figure][0] += 1
            _PASSED.add(report.nodeid)
    elif figure and report.when == "teardown" and report.failed and report.nodeid in _PASSED:
        FIGURES[figure][0] -= 1
        _PASSED.discard(report.nodeid)
    for key, value in getattr(report, "user_properties", []) or []:
        if key == "secret_hits" and report.when == "call":
            FIGURES["secret_hits"] = (FIGURES["secret_hits"] or 0) + int(value)


def figures_line():
    """``faults survived 9/9, bad inputs refused 9/9, secret hits 0``, or None when no counted test ran."""
    faults, bad = FIGURES["faults"], FIGURES["bad_inputs"]
    if not faults[1] and not bad[1] and FIGURES["secret_hits"] is None:
        return None
    hits = "not run" if FIGURES["secret_hits"] is None else str(FIGURES["secret_hits"])
    return "faults survived %d/%d, bad inputs refused %d/%d, secret hits %s" % (faults[0], faults[1], bad[0], bad[1], hits)


def pytest_terminal_summary(terminalreporter):
    line = figures_line()
    if line:
        terminalreporter.write_sep("-", "flytesec figures")
        terminalreporter.write_line(line)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)
    late = dict((name, i + 1) for i, name in enumerate(LATE))
    items.sort(key=lambda item: late.get(Path(str(item.path)).name, 0))   # stable: the rest keep their order


def _bin_dir():
    out = subprocess.run(["bash", "-c", '. "$1/versions.sh" && echo "$BIN"', "_", str(HACK)],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


class Cluster:
    """A running cluster: where its files are, and a kubectl to talk to it."""

    def __init__(self, name, kubeconfig, run_dir, audit_log, dev_kubeconfig, bin_dir, started):
        self.name = name
        self.kubeconfig = Path(kubeconfig)
        self.run_dir = Path(run_dir) if run_dir else None
        self.audit_log = Path(audit_log) if audit_log else None
        self.dev_kubeconfig = Path(dev_kubeconfig) if dev_kubeconfig else None
        self.bin_dir = Path(bin_dir)
        self.started = started

    def api_client(self, kubeconfig=None):
        """A kubernetes.client.ApiClient for ``kubeconfig`` (default: the admin one); close it after use."""
        return api_client(kubeconfig or self.kubeconfig)

    @property
    def kubectl_path(self):
        return str(self.bin_dir / "kubectl")

    @property
    def server(self):
        import yaml
        with open(str(self.kubeconfig)) as handle:
            return yaml.safe_load(handle)["clusters"][0]["cluster"]["server"]

    def env(self):
        environ = dict(os.environ)
        environ.update({"KUBECONFIG": str(self.kubeconfig), "K8S_AUTH_KUBECONFIG": str(self.kubeconfig),
                        "PATH": "%s:%s" % (self.bin_dir, os.environ.get("PATH", ""))})
        return environ

    def token_kubeconfig(self, namespace, service_account, path, duration="2h"):
        """Write a kubeconfig at ``path`` (mode 0600) that authenticates as the ServiceAccount with a new token of it."""
        import yaml
        token = self.kubectl("-n", namespace, "create", "token", service_account, "--duration", duration).stdout.strip()
        with open(str(self.kubeconfig)) as handle:
            admin = yaml.safe_load(handle)
        entry = dict(admin["clusters"][0]["cluster"])
        if entry.get("certificate-authority") and not os.path.isabs(entry["certificate-authority"]):
            entry["certificate-authority"] = str(self.kubeconfig.parent / entry["certificate-authority"])
        user = "system:serviceaccount:%s:%s" % (namespace, service_account)
        Path(path).write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "sa",
            "clusters": [{"name": "c", "cluster": entry}], "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": "sa", "context": {"cluster": "c", "user": user}}]}))
        os.chmod(str(path), 0o600)
        return Path(path)

    def kubectl(self, *args, **kwargs):
        """Run the built kubectl (admin unless kubeconfig= is given); CompletedProcess, text mode."""
        kubeconfig = kwargs.pop("kubeconfig", self.kubeconfig)
        check = kwargs.pop("check", True)
        timeout = kwargs.pop("timeout", 300)
        cmd = [self.kubectl_path, "--kubeconfig", str(kubeconfig)] + [str(a) for a in args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env(), timeout=timeout, check=False, **kwargs)
        if check and proc.returncode != 0:
            raise AssertionError("%s failed (rc=%d):\n%s\n%s" % (" ".join(cmd), proc.returncode, proc.stdout, proc.stderr))
        return proc


def _run_script(script, *args):
    proc = subprocess.run(["bash", str(HACK / script)] + list(args), capture_output=True, text=True, timeout=5400,
                          check=False)
    if proc.returncode != 0:
        pytest.fail("%s %s failed (rc=%d):\n%s" % (script, " ".join(args), proc.returncode, proc.stderr[-6000:]),
                    pytrace=False)
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if lines else ""


@pytest.fixture(scope="session")
def cluster():
    name = os.environ.get("FLYTESEC_CLUSTER", "local")
    given = os.environ.get("FLYTESEC_KUBECONFIG")
    if given:
        run_dir = os.environ.get("FLYTESEC_RUN_DIR") or os.path.dirname(os.path.abspath(given))
        audit_log = os.environ.get("FLYTESEC_AUDIT_LOG") or os.path.join(run_dir, "audit.log")
        dev = os.environ.get("FLYTESEC_DEV_KUBECONFIG") or os.path.join(run_dir, "dev.kubeconfig")
        yield Cluster(name, given, run_dir, audit_log if os.path.exists(audit_log) else None,
                      dev if os.path.exists(dev) else None, _bin_dir(), started=False)
        return
    args = ["--name", name]
    if os.environ.get("FLYTESEC_CLUSTER_PORT"):
        args += ["--port", os.environ["FLYTESEC_CLUSTER_PORT"]]
    kubeconfig = _run_script("up.sh", *args)
    run_dir = os.path.dirname(kubeconfig)
    yield Cluster(name, kubeconfig, run_dir, os.path.join(run_dir, "audit.log"),
                  os.path.join(run_dir, "dev.kubeconfig"), _bin_dir(), started=True)
    if os.environ.get("FLYTESEC_CLUSTER_DOWN") == "1":
        _run_script("down.sh", "--name", name)


class Flyte:
    def __init__(self, core_ns, binary_ns):
        self.core_ns = core_ns
        self.binary_ns = binary_ns


@pytest.fixture(scope="session")
def flyte(cluster):
    args = ["--kubeconfig", str(cluster.kubeconfig)] if not cluster.started else ["--name", cluster.name]
    # Fresh by default: a namespace an earlier run hardened enforces restricted and refuses the upstream pods.
    if os.environ.get("FLYTESEC_FLYTE_FRESH", "1") == "1":
        args.append("--fresh")
    _run_script("flyte-up.sh", *args)
    return Flyte(os.environ.get("FLYTE_CORE_NS", "flyte"), os.environ.get("FLYTE_BINARY_NS", "flyte-binary"))


def api_client(kubeconfig):
    """A kubernetes.client.ApiClient for ``kubeconfig`` (its current context)."""
    from kubernetes import config
    return config.new_client_from_config(config_file=str(kubeconfig))


@pytest.fixture(scope="session")
def kube(cluster):
    client = api_client(cluster.kubeconfig)
    yield client
    client.close()


@pytest.fixture
def audit(cluster):
    if cluster.audit_log is None:
        pytest.skip("this cluster has no readable audit log (set FLYTESEC_AUDIT_LOG)")
    log = AuditLog(cluster.audit_log)
    log.reset()
    return log


def wait_for(predicate, timeout=60.0, interval=0.5, message="condition"):
    """Poll ``predicate`` until it returns a truthy value; return it, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, message))
        time.sleep(interval)


@pytest.fixture
def scratch_namespace(kube):
    """A fresh namespace (with its `default` ServiceAccount), deleted after the test."""
    from kubernetes import client
    core = client.CoreV1Api(kube)
    name = "scratch-%s" % uuid.uuid4().hex[:8]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"flytesec/test": "1"})))

    def has_default_sa():
        return [sa for sa in core.list_namespaced_service_account(name).items if sa.metadata.name == "default"]
    wait_for(has_default_sa, timeout=60, message="ServiceAccount default in %s" % name)
    yield name
    try:
        core.delete_namespace(name)
    except client.exceptions.ApiException as exc:  # already gone
        if exc.status != 404:
            raise


LAYOUT_MANIFESTS = {"flyte-core": ("core", "FLYTE_CORE_NS"), "flyte-binary": ("binary", "FLYTE_BINARY_NS")}


def install_flyte(cluster, layout, namespace, fresh=True):
    """Install upstream Flyte ``layout`` (flyte-core or flyte-binary) into ``namespace`` of its own.

    Tests that change Flyte's objects use namespaces of their own, so that they neither depend on nor
    disturb each other; ``fresh`` deletes what an earlier run left there first.
    """
    only, env_name = LAYOUT_MANIFESTS[layout]
    args = ["--kubeconfig", str(cluster.kubeconfig), "--only", only] + (["--fresh"] if fresh else [])
    env = dict(os.environ)
    env[env_name] = namespace
    proc = subprocess.run(["bash", str(HACK / "flyte-up.sh")] + args, capture_output=True, text=True, timeout=900,
                          check=False, env=env)
    if proc.returncode != 0:
        pytest.fail("flyte-up.sh %s failed (rc=%d):\n%s" % (" ".join(args), proc.returncode, proc.stderr[-6000:]),
                    pytrace=False)
    return namespace


@pytest.fixture(scope="session")
def second_cluster(cluster):
    """A second local control plane (name ``<name>-2``, API port + 500), for multi-cluster runs; stopped afterwards."""
    name = "%s-2" % cluster.name
    port = int(cluster.server.rsplit(":", 1)[1]) + 500
    kubeconfig = _run_script("up.sh", "--name", name, "--port", str(port))
    run_dir = os.path.dirname(kubeconfig)
    yield Cluster(name, kubeconfig, run_dir, os.path.join(run_dir, "audit.log"), os.path.join(run_dir, "dev.kubeconfig"),
                  _bin_dir(), started=True)
    _run_script("down.sh", "--name", name)


def install_chart(cluster, namespace, chart, values_files, workdir, set_values=None):
    """Render an upstream chart (../shared/fixtures/charts) with helm and apply it to ``namespace`` server-side.

    ``values_files`` are names of files inside the chart (for example values-eks.yaml, values-dataplane.yaml);
    ``set_values`` a dict for ``--set`` (the placeholders of values-gcp.yaml, say).
    The charts are copied to ``workdir`` first: helm dependency build writes into the chart.
    """
    import shutil
    charts = Path(workdir) / "charts"
    fixtures = Path(os.environ.get("FLYTESEC_FIXTURES", str(ROOT.parent / "shared" / "fixtures")))
    if not charts.exists():
        shutil.copytree(str(fixtures / "charts"), str(charts))
    helm = str(cluster.bin_dir / "helm")
    subprocess.run([helm, "dependency", "build", str(charts / chart)], check=True, capture_output=True)
    cmd = [helm, "template", "flyte", str(charts / chart), "-n", namespace,
           "--api-versions", "apiextensions.k8s.io/v1/CustomResourceDefinition"]
    for values in values_files:
        cmd += ["-f", str(charts / chart / values)]
    for key, value in sorted((set_values or {}).items()):
        cmd += ["--set-string", "%s=%s" % (key, value)]
    rendered = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    # From scratch, like flyte-up.sh --fresh: objects left by an earlier run (a config-hash annotation) change the outcome.
    cluster.kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=300s")
    cluster.kubectl("create", "namespace", namespace, check=False)
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=helm", "-n", namespace, "-f", "-",
                    input=rendered)
    cluster.kubectl("-n", namespace, "wait", "--for=condition=Available", "deployment", "--all", "--timeout=300s")
    return namespace


def rolled_out(kube, namespace):
    """A predicate for wait_for: every Deployment in ``namespace`` is rolled out (like kubectl rollout status)."""
    from kubernetes import client
    apps = client.AppsV1Api(kube)

    def done():
        for d in apps.list_namespaced_deployment(namespace).items:
            s = d.status
            if (s.observed_generation or 0) < d.metadata.generation or (s.updated_replicas or 0) < d.spec.replicas \
                    or (s.available_replicas or 0) < d.spec.replicas or (s.replicas or 0) > (s.updated_replicas or 0):
                return False
        return True
    return done


class Keycloak:
    def __init__(self, url, password):
        self.url = url
        self.admin_password = password

    def admin(self, method, path, body=None):
        """Keycloak's admin REST API as the bootstrap admin: ``method`` on ``/admin/realms<path>``; the JSON answer
        (None when empty). An error status raises urllib.error.HTTPError."""
        import json
        import urllib.parse
        import urllib.request
        form = urllib.parse.urlencode({"grant_type": "password", "client_id": "admin-cli", "username": "admin",
                                       "password": self.admin_password}).encode()
        with urllib.request.urlopen("%s/realms/master/protocol/openid-connect/token" % self.url, form, timeout=30) as answer:
            token = json.loads(answer.read())["access_token"]
        request = urllib.request.Request("%s/admin/realms%s" % (self.url, path), method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": "Bearer %s" % token, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            text = answer.read()
        return json.loads(text) if text else None


@pytest.fixture(scope="session")
def keycloak(cluster):
    """A real Keycloak (Maven Central distribution) on 127.0.0.1, started by hack/keycloak/up.sh; stopped afterwards."""
    name = "test-%s" % cluster.name
    port = str(18000 + int(cluster.server.rsplit(":", 1)[1]) % 1000)
    proc = subprocess.run(["bash", str(ROOT / "hack" / "keycloak" / "up.sh"), "--name", name, "--port", port],
                          capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        pytest.fail("hack/keycloak/up.sh failed:\n%s" % proc.stderr[-4000:], pytrace=False)
    run = Path(os.environ.get("FLYTESEC_CACHE", str(Path.home() / ".cache" / "flytesec"))) / "run" / ("kc-%s" % name)
    yield Keycloak(proc.stdout.strip().splitlines()[-1], (run / "admin-password").read_text().strip())
    subprocess.run(["bash", str(ROOT / "hack" / "keycloak" / "down.sh"), "--name", name], check=False)
