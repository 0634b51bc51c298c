# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 22: the collection run the way AWX runs it, on the real local cluster.

- ansible-runner (PyPI, pinned in requirements-dev.txt) runs each job template in a private data dir laid out as
  AWX lays it out: ``env/envvars`` with the variables AWX's *OpenShift or Kubernetes API Bearer Token* credential
  injects (K8S_AUTH_HOST, K8S_AUTH_API_KEY, K8S_AUTH_VERIFY_SSL, K8S_AUTH_SSL_CA_CERT), ``env/extravars``,
  ``env/cmdline`` for the check job, ``inventory/hosts`` and ``project/`` with the playbook; a fresh private data
  dir and a fresh HOME for every job, as in an execution environment that is thrown away.
- The collection is the built artifact (``ansible-galaxy collection build``, what ``make build`` runs), installed
  from its tarball into a temporary collections path next to kubernetes.core; nothing else is on the path.
- The token is a ServiceAccount's with exactly the rights of awx/rbac/role.yml and awx/rbac/clusterrole.yml,
  granted by the installed collection's playbooks/awx-rbac.yml; the audit log shows no request of it refused (403).
- The IdP admin credential is the custom credential type of awx/credential_type_idp_admin.yml, validated and
  injected as AWX does it (CredentialType.inject_credential): its injectors rendered in Jinja's sandbox with the
  credential's inputs (an empty input renders as ""), env injectors into ``env/envvars``, extra_vars injectors as a
  file passed with ``-e @file``, file injectors as files in the private data dir. Its inputs: a real Keycloak
  (hack/keycloak/up.sh) and its admin user; the extra vars name no IdP URL or credential (the realm, Flyte's URL).
- Jobs: Harden Flyte (flytesec_state_store=cluster: backups as Secrets, the report as a ConfigMap, set_stats; the
  Flyte clients registered in Keycloak, their secrets written to Flyte's Secrets); the scheduled check job twice
  with one hand edit in between (the second reports exactly that drift: one changed task); Restore Flyte from a
  fresh private data dir and HOME, from the in-cluster backups alone, putting every Kubernetes object back (the
  Keycloak clients stay registered: they are no Kubernetes objects and restore.yml promises none).
- Then every file of the artifacts directory is scanned for every secret value used or generated (plain, base64,
  JSON-escaped, PEM lines): the Keycloak admin password, the client secrets read back from Keycloak and from the
  Secrets, the Secrets' other values, a key given as an extra var. 0 hits, except the injected credentials' secret
  values (the ServiceAccount token, the Keycloak admin password) in ansible-runner's own ``command`` files (runner
  records the job's environment there; docs/awx.md says so).
"""
from __future__ import absolute_import, division, print_function

import base64
import glob
import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import types
import urllib.error
import uuid
from pathlib import Path

import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from conftest import install_flyte, rolled_out, wait_for
from playbook import run_playbook

__metaclass__ = type

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
NS = "awx-flyte"
SA_NS = "flytesec-awx"
SA = "flytesec-awx-job"
SA_USER = "system:serviceaccount:%s:%s" % (SA_NS, SA)
MANAGED = "app.kubernetes.io/managed-by"
KINDS = "configmaps,secrets,deployments,leases,serviceaccounts,roles,rolebindings,services"
VOLATILE_ANNOTATIONS = ("deployment.kubernetes.io/revision",)
PUBLIC = "https://flyte-api.example.test"
DRIFT_ORIGIN = "https://drift.example.test"
IDP_CREDENTIAL_TYPE = ROOT / "awx" / "credential_type_idp_admin.yml"
# AWX's awx.main.constants.ENV_BLOCKLIST: env injectors it refuses (as it does every ANSIBLE_* name)
AWX_ENV_BLOCKLIST = ("VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID", "INVENTORY_UPDATE_ID",
                     "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES", "CALLBACK_QUEUE",
                     "CALLBACK_CONNECTION", "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS", "AWX_HOST",
                     "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH")


def _run(cmd, **kwargs):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(str(c) for c in cmd), proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout


def _install_artifact(tmp):
    """Build the collection, install the tarball and kubernetes.core into a collections path of their own."""
    _run([BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", tmp / "build", ROOT])
    tarball = glob.glob(str(tmp / "build" / "flytesec-hardening-*.tar.gz"))
    assert len(tarball) == 1, tarball
    collections = tmp / "collections"
    _run([BIN / "ansible-galaxy", "collection", "install", "--no-deps", "-p", collections, tarball[0]])
    # kubernetes.core as the `ansible` package ships it (an EE installs it from requirements.yml)
    kcore = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections" / "kubernetes" / "core"
    shutil.copytree(str(kcore), str(collections / "ansible_collections" / "kubernetes" / "core"))
    installed = collections / "ansible_collections" / "flytesec" / "hardening"
    assert (installed / "MANIFEST.json").is_file()
    return collections, installed


def _rbac_vars(state="present"):
    return {"awx_rbac_namespace": NS, "awx_rbac_subject_namespace": SA_NS, "awx_rbac_subject_name": SA,
            "awx_rbac_state": state}


def _service_account(cluster, collections, installed):
    """A ServiceAccount bound to exactly the shipped Role (in NS) and ClusterRole by the installed collection's
    awx-rbac.yml, as the AWX admin grants them (docs/awx.md); its token."""
    granted = run_playbook(installed / "playbooks" / "awx-rbac.yml", cluster.kubeconfig, _rbac_vars(),
                           env={"ANSIBLE_COLLECTIONS_PATH": str(collections)})
    assert granted.rc == 0, granted.stdout[-3000:]
    return cluster.kubectl("-n", SA_NS, "create", "token", SA, "--duration", "2h").stdout.strip()


def _cleanup_service_account(cluster):
    run_playbook(ROOT / "playbooks" / "awx-rbac.yml", cluster.kubeconfig, _rbac_vars("absent"))
    cluster.kubectl("delete", "namespace", SA_NS, "--ignore-not-found", "--wait=false", check=False)


class CredentialType:
    """A custom AWX credential type (inputs and injectors), checked and injected as AWX does it."""

    def __init__(self, path):
        spec = yaml.safe_load(Path(path).read_text())
        self.fields = dict((f["id"], f) for f in spec["inputs"]["fields"])
        self.injectors = spec["injectors"]
        # what AWX refuses when the type is saved: another kind, a second field of one id, an unknown injector, an
        # env var it never injects, a template naming what the type does not define (StrictUndefined raises)
        assert spec["kind"] in ("cloud", "net") and len(self.fields) == len(spec["inputs"]["fields"]), spec
        assert set(self.injectors) <= set(["env", "extra_vars", "file"]), sorted(self.injectors)
        assert not [n for n in self.injectors.get("env", {}) if n.startswith("ANSIBLE_") or n in AWX_ENV_BLOCKLIST]
        files = self.injectors.get("file", {})
        valid = dict((name, "EXAMPLE") for name in self.fields)
        valid["tower"] = types.SimpleNamespace(filename="EXAMPLE" if "template" in files else types.SimpleNamespace(
            **dict((label.partition(".")[2], "EXAMPLE") for label in files)))
        strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
        for templates in self.injectors.values():
            for template in templates.values():
                strict.from_string(template).render(**valid)

    def secrets(self, inputs):
        """The values of the credential's secret inputs."""
        return set(v for k, v in inputs.items() if self.fields[k].get("secret") and v)

    def inject(self, inputs, pdd):
        """(env vars, ansible-playbook arguments) of a credential with ``inputs`` for the job in private data dir
        ``pdd``, as AWX's CredentialType.inject_credential makes them (its files in ``pdd``/env)."""
        assert set(inputs) <= set(self.fields), sorted(set(inputs) - set(self.fields))
        namespace = dict((k, v) for k, v in inputs.items() if v != "")   # AWX leaves an empty input out: it renders as ""
        namespace["tower"] = types.SimpleNamespace(filename=types.SimpleNamespace())
        sandbox = ImmutableSandboxedEnvironment()

        def render(template):
            return sandbox.from_string(template).render(**namespace)

        def write(text, mode):
            handle, path = tempfile.mkstemp(dir=str(pdd / "env"))
            with os.fdopen(handle, "w") as out:
                out.write(text)
            os.chmod(path, mode)
            return path

        for label, template in sorted(self.injectors.get("file", {}).items()):   # template, or template.<name> each
            path = write(render(template), stat.S_IRUSR | stat.S_IWUSR)
            if label == "template":
                namespace["tower"].filename = path
            else:
                setattr(namespace["tower"].filename, label.partition(".")[2], path)
        env = dict((name, render(template)) for name, template in self.injectors.get("env", {}).items())
        extra_vars = dict((name, render(template)) for name, template in self.injectors.get("extra_vars", {}).items())
        args = ["-e", "@%s" % write(yaml.safe_dump(extra_vars), stat.S_IRUSR)] if extra_vars else []
        return env, args


class Jobs:
    """Runs job templates with ansible-runner, each in a fresh private data dir with a fresh HOME."""

    def __init__(self, tmp, cluster, token, collections, installed):
        self.tmp = tmp
        self.artifacts = tmp / "artifacts"
        self.server = cluster.server
        self.token = token
        self.collections = collections
        self.installed = installed
        with open(str(cluster.kubeconfig)) as handle:
            entry = yaml.safe_load(handle)["clusters"][0]["cluster"]
        if "certificate-authority-data" in entry:
            self.ca = base64.b64decode(entry["certificate-authority-data"])
        else:
            self.ca = (Path(cluster.kubeconfig).parent / entry["certificate-authority"]).read_bytes()

    def run(self, ident, playbook, extravars, check=False, credential=None):
        """One job; ``credential``: (CredentialType, inputs) of a custom credential the job template has too."""
        pdd = self.tmp / ("pdd-" + ident)
        home = self.tmp / ("home-" + ident)
        for folder in (pdd / "env", pdd / "inventory", pdd / "project", home):
            folder.mkdir(parents=True)
        # AWX writes the credential's CA certificate to a file in the private data dir and injects its path
        (pdd / "env" / "k8s_ca.crt").write_bytes(self.ca)
        envvars = {"K8S_AUTH_HOST": self.server, "K8S_AUTH_API_KEY": self.token, "K8S_AUTH_VERIFY_SSL": "True",
                   "K8S_AUTH_SSL_CA_CERT": str(pdd / "env" / "k8s_ca.crt")}
        cmdline = ["--check", "--diff"] if check else []   # the job type Check with Show changes
        if credential is not None:
            injected, args = credential[0].inject(credential[1], pdd)
            assert not set(injected) & set(envvars), sorted(injected)
            envvars.update(injected)
            cmdline += args
        (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
        (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars))
        if cmdline:
            (pdd / "env" / "cmdline").write_text(" ".join(cmdline))
        (pdd / "inventory" / "hosts").write_text("localhost ansible_connection=local\n")
        shutil.copy(str(self.installed / "playbooks" / playbook), str(pdd / "project" / playbook))
        # nothing of this machine's cluster or IdP settings: a job has what its credentials inject, nothing else
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith(
            ("K8S_AUTH_", "KUBECONFIG", "ANSIBLE_", "KEYCLOAK_", "OKTA_", "AZURE_", "GOOGLE_OAUTH_", "FLYTESEC_IDP_")))
        env.update({"HOME": str(home), "PATH": "%s:%s" % (BIN, os.environ.get("PATH", "")),
                    "ANSIBLE_COLLECTIONS_PATH": str(self.collections), "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
                    "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_NOCOLOR": "1"})
        subprocess.run([str(BIN / "ansible-runner"), "run", str(pdd), "-p", playbook, "--ident", ident,
                        "--artifact-dir", str(self.artifacts)], capture_output=True, text=True, env=env, check=False,
                       timeout=900)
        return Job(self.artifacts / ident)


class Job:
    def __init__(self, folder):
        self.folder = folder
        self.rc = int((folder / "rc").read_text().strip())
        self.status = (folder / "status").read_text().strip()
        self.stdout = (folder / "stdout").read_text()
        files = glob.glob(str(folder / "job_events" / "*.json"))
        self.events = sorted((json.loads(Path(f).read_text()) for f in files), key=lambda e: e["counter"])

    def ok(self):
        assert self.rc == 0 and self.status == "successful", self.stdout[-5000:]

    def results(self, name):
        return [e["event_data"]["res"] for e in self.events
                if e["event"] == "runner_on_ok" and name in e["event_data"].get("task", "")]

    def changed_tasks(self):
        return [e["event_data"]["task"] for e in self.events
                if e["event"] == "runner_on_ok" and e["event_data"].get("res", {}).get("changed")]

    @property
    def stats(self):
        return [e["event_data"] for e in self.events if e["event"] == "playbook_on_stats"][-1]


def _comparable(item):
    meta = item["metadata"]
    annotations = dict((k, v) for k, v in (meta.get("annotations") or {}).items() if k not in VOLATILE_ANNOTATIONS)
    return {"labels": meta.get("labels") or {}, "annotations": annotations,
            "body": dict((k, v) for k, v in item.items() if k not in ("metadata", "status"))}


def _objects(cluster):
    return json.loads(cluster.kubectl("-n", NS, "get", KINDS, "-o", "json").stdout)["items"]


def _state(cluster):
    """What a run may change in NS, without what the run keeps for itself (backup Secrets, report ConfigMap)."""
    state = dict(("%s/%s" % (i["kind"], i["metadata"]["name"]), _comparable(i)) for i in _objects(cluster)
                 if not i["metadata"]["name"].startswith("kube-root-ca")
                 and (i["metadata"].get("labels") or {}).get(MANAGED) != "flytesec.hardening")
    state["Namespace/%s" % NS] = json.loads(cluster.kubectl("get", "namespace", NS, "-o", "json").stdout)["metadata"].get("labels")
    return state


def _secret_values(cluster):
    """Every value of every Secret in NS (the backup Secrets' records included, decoded)."""
    values = set()
    for item in _objects(cluster):
        if item["kind"] != "Secret":
            continue
        for value in (item.get("data") or {}).values():
            text = base64.b64decode(value).decode("utf-8", "replace")
            if (item["metadata"].get("labels") or {}).get(MANAGED) == "flytesec.hardening":
                record = json.loads(text)   # a backup record: the Secret data it holds
                if record["kind"] != "Secret":
                    continue
                for inner in ((record.get("object") or {}).get("data") or {}).values():
                    values.add(base64.b64decode(inner).decode("utf-8", "replace"))
            else:
                values.add(text)
    return values


def _forms(value):
    """The ways a secret can show up in a file: plain, base64, JSON-escaped, each line of a PEM block."""
    forms = set([value, base64.b64encode(value.encode("utf-8")).decode("ascii"), json.dumps(value)[1:-1]])
    if "\n" in value:
        forms.update(line.strip() for line in value.splitlines() if len(line.strip()) >= 16)
    return set(f for f in forms if len(f) >= 6)


def _scan(root, secrets):
    """(file, secret form) of every hit under ``root``."""
    hits = []
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        hits.extend((str(path.relative_to(root)), form[:12] + "...") for value in secrets for form in _forms(value)
                    if form in text)
    return hits


def _drift(cluster):
    """A hand edit: one more console origin in flyteadmin's CORS configuration."""
    cm = json.loads(cluster.kubectl("-n", NS, "get", "configmap", "flyte-admin-base-config", "-o", "json").stdout)
    server = yaml.safe_load(cm["data"]["server.yaml"])
    server["server"]["security"]["allowedOrigins"].append(DRIFT_ORIGIN)
    patch = {"data": {"server.yaml": yaml.safe_dump(server, default_flow_style=False)}}
    cluster.kubectl("-n", NS, "patch", "configmap", "flyte-admin-base-config", "--type", "merge", "-p", json.dumps(patch))


def _keycloak_clients(keycloak, realm):
    """{clientId: (representation, secret)} of the Flyte clients in ``realm``, read with Keycloak's admin REST API
    (the secret of a confidential client, else None)."""
    found = {}
    for client_id in ("flyteadmin", "flytectl", "flytepropeller"):
        for rep in keycloak.admin("GET", "/%s/clients?clientId=%s" % (realm, client_id)):
            secret = None if rep.get("publicClient") else \
                keycloak.admin("GET", "/%s/clients/%s/client-secret" % (realm, rep["id"]))["value"]
            assert client_id not in found, "two clients %s in realm %s" % (client_id, realm)
            found[client_id] = (rep, secret)
    return found


def _secret_value(cluster, name, key):
    data = json.loads(cluster.kubectl("-n", NS, "get", "secret", name, "-o", "json").stdout).get("data") or {}
    return base64.b64decode(data[key]).decode("utf-8") if key in data else None


def test_awx_jobs_with_runner(cluster, kube, audit, keycloak, tmp_path, record_property):
    install_flyte(cluster, "flyte-core", NS)
    wait_for(rolled_out(kube, NS), timeout=180, message="rollouts")
    secrets_before = _secret_values(cluster)
    collections, installed = _install_artifact(tmp_path)
    token = _service_account(cluster, collections, installed)
    before = _state(cluster)   # the job's Role and RoleBinding included: the AWX admin made them, not the run
    # The IdP admin credential as an AWX admin fills it in (Keycloak's URL, admin user and password; the other
    # providers' inputs left empty), attached to the harden and the check job templates
    idp_type = CredentialType(IDP_CREDENTIAL_TYPE)
    idp = (idp_type, {"keycloak_url": keycloak.url, "keycloak_username": "admin", "keycloak_password": keycloak.admin_password})
    realm = "awx-%s" % uuid.uuid4().hex[:6]
    issuer = "%s/realms/%s" % (keycloak.url, realm)
    try:
        jobs = Jobs(tmp_path, cluster, token, collections, installed)
        # a secret the user gives as an extra var: flyteadmin's cookie hash key (64 bytes, unpadded base64)
        given = base64.b64encode(os.urandom(64)).decode("ascii").rstrip("=")
        template = {"flytesec_namespace": NS, "flytesec_state_store": "cluster", "flytesec_backup_retention": 5,
                    "flytesec_check_access": True,
                    "cors_admin_url": PUBLIC, "cors_console_origins": ["https://flyte.example.test"],
                    "auth_public_url": PUBLIC, "auth_server": "internal", "auth_keys": {"cookie_hash_key": given},
                    # the clients registered in Keycloak (its URL and admin from the credential): flyteadmin's OIDC
                    # login client, whose issuer and secret the auth role takes, flytectl and flytepropeller
                    "idp_registration_public_url": PUBLIC, "idp_registration_realm": realm,
                    "idp_registration_create_realm": True, "idp_registration_external_auth_server": False}

        # Harden Flyte
        harden = jobs.run("harden", "harden-flyte.yml", template, credential=idp)
        harden.ok()
        run_id = harden.results("Fix one run id")[0]["ansible_facts"]["flytesec_run_id"]
        wait_for(rolled_out(kube, NS), timeout=180, message="rollouts after the harden job")
        hardened = _state(cluster)
        assert hardened != before and hardened["Namespace/%s" % NS].get("pod-security.kubernetes.io/enforce") == "restricted"
        backups = json.loads(cluster.kubectl("-n", NS, "get", "secrets", "-l", "hardening.flytesec.io/backup-run=%s" % run_id,
                                             "-o", "json").stdout)["items"]
        kinds = sorted(set(json.loads(base64.b64decode(s["data"]["record.json"]))["kind"] for s in backups))
        assert kinds == ["ConfigMap", "Deployment", "Lease", "Namespace", "Secret"], kinds
        assert all(not s["metadata"].get("ownerReferences") and s.get("immutable") for s in backups)
        report = json.loads(cluster.kubectl("-n", NS, "get", "configmap", "flytesec-hardening-report", "-o", "json").stdout)
        assert json.loads(report["data"]["summary.json"])["run_id"] == run_id and "audit.json" in report["data"]
        stats = harden.stats
        assert stats["artifact_data"]["flytesec_summaries"]["localhost"]["run_id"] == run_id
        assert stats["artifact_data"]["flytesec_summaries"]["localhost"]["backups"].startswith("k8s:%s " % NS)
        secrets_hardened = _secret_values(cluster)

        # ... and the registration in Keycloak: the clients are there, their secrets are the ones in Flyte's Secrets,
        # flyteadmin logs users in with the realm's issuer
        registration = [r for r in harden.results("Register the Flyte clients in the identity provider") if "issuer_url" in r]
        assert registration and registration[-1]["issuer_url"] == issuer and registration[-1]["changed"], registration
        assert sorted(registration[-1]["secrets_written"]) == ["Secret/flyte-admin-secrets oidc_client_secret",
                                                               "Secret/flyte-secret-auth client_secret"], registration[-1]
        clients = _keycloak_clients(keycloak, realm)
        assert sorted(clients) == ["flyteadmin", "flytectl", "flytepropeller"], sorted(clients)
        assert PUBLIC + "/callback" in clients["flyteadmin"][0]["redirectUris"] and clients["flytectl"][0]["publicClient"]
        assert clients["flytepropeller"][0]["serviceAccountsEnabled"]
        client_secrets = set([clients["flyteadmin"][1], clients["flytepropeller"][1]])
        assert all(client_secrets) and len(client_secrets) == 2
        assert _secret_value(cluster, "flyte-admin-secrets", "oidc_client_secret") == clients["flyteadmin"][1]
        assert _secret_value(cluster, "flyte-secret-auth", "client_secret") == clients["flytepropeller"][1]
        assert _secret_value(cluster, "flyte-admin-secrets", "cookie_hash_key") == given
        assert issuer in cluster.kubectl("-n", NS, "get", "configmap", "-o", "json").stdout

        # The scheduled audit: check mode with --diff, twice, one hand edit in between (the IdP credential too: the
        # registration is checked against Keycloak)
        check = jobs.run("check-1", "harden-flyte.yml", template, check=True, credential=idp)
        check.ok()
        assert check.changed_tasks() == [] and check.stats["changed"] == {}, check.changed_tasks()
        _drift(cluster)
        drifted = jobs.run("check-2", "harden-flyte.yml", template, check=True, credential=idp)
        drifted.ok()
        assert len(drifted.changed_tasks()) == 1 and "CORS" in drifted.changed_tasks()[0], drifted.changed_tasks()
        assert drifted.stats["changed"] == {"localhost": 1}
        assert DRIFT_ORIGIN in json.dumps([e["event_data"]["res"].get("diff") for e in drifted.events
                                           if e["event"] == "runner_on_ok" and e["event_data"]["res"].get("changed")])

        # Restore Flyte: a separate job, its own private data dir and HOME, no IdP credential; only the in-cluster backups
        restore = jobs.run("restore", "restore.yml", {"flytesec_run_id": run_id, "flytesec_state_store": "cluster",
                                                      "flytesec_namespace": NS})
        restore.ok()
        restored = restore.results("Restore every object")[0]
        assert "Lease/%s/flytesec-hardening" % NS in restored["deleted"], restored
        wait_for(rolled_out(kube, NS), timeout=180, message="rollouts after the restore job")
        after = _state(cluster)   # the Secrets the registration wrote to included
        differ = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        assert differ == [], dict((k, (before.get(k), after.get(k))) for k in differ[:3])
        # Keycloak is no Kubernetes object: the clients stay registered, the same ones with the same secrets (docs/awx.md
        # says so; Keycloak lists sets such as redirectUris in any order, so the ids and secrets are compared)
        kept = _keycloak_clients(keycloak, realm)
        assert dict((k, (rep["id"], secret)) for k, (rep, secret) in kept.items()) == \
            dict((k, (rep["id"], secret)) for k, (rep, secret) in clients.items())

        # The job identity needed nothing beyond the shipped rules
        refused = [e for e in audit.events(user=SA_USER) if (e.get("responseStatus") or {}).get("code") == 403]
        assert refused == [], [(e["verb"], e.get("objectRef")) for e in refused[:5]]
        assert audit.events(user=SA_USER, writes=True)

        # One rule fewer: the preflight names the missing permission (SelfSubjectAccessReview) and nothing is written
        role = yaml.safe_load((ROOT / "awx" / "rbac" / "role.yml").read_text())
        role["rules"] = [r for r in role["rules"] if "leases" not in r["resources"]]
        cluster.kubectl("-n", NS, "apply", "-f", "-", input=yaml.safe_dump(role))
        start = audit.mark()
        denied = jobs.run("harden-denied", "harden-flyte.yml", template, credential=idp)
        assert denied.rc != 0 and denied.status == "failed"
        assert "cannot update leases.coordination.k8s.io in namespace %s" % NS in denied.stdout, denied.stdout[-3000:]
        assert "cannot create leases.coordination.k8s.io" in denied.stdout and "SelfSubjectAccessReview" in denied.stdout
        writes = audit.events(since=start, user=SA_USER, writes=True, dry_run=False)
        assert writes == [], [(e["verb"], e.get("objectRef")) for e in writes]

        # No secret in the artifacts (job_events, stdout, fact_cache, ...), but the injected credentials' secrets in
        # runner's own command files: the ServiceAccount token and the Keycloak admin password
        injected = set([token]) | idp_type.secrets(idp[1])
        secrets = (secrets_before | secrets_hardened | client_secrets | injected | set([given])) - set([""])
        hits = _scan(jobs.artifacts, secrets)
        command_hits = [h for h in hits if os.path.basename(h[0]) == "command"]
        other = [h for h in hits if os.path.basename(h[0]) != "command"]
        files = [p for p in jobs.artifacts.rglob("*") if p.is_file()]
        print("AWX runner jobs: %d artifact files, %d secret values, secret hits %d (runner's command files: %d)"
              % (len(files), len(secrets), len(other), len(command_hits)))
        record_property("secret_hits", len(other))   # the figures line (conftest.figures_line)
        assert other == [], other[:10]
        assert set(h[1] for h in command_hits) <= set(f[:12] + "..." for v in injected for f in _forms(v)), command_hits
        assert keycloak.admin_password in (jobs.artifacts / "harden" / "command").read_text()
        assert keycloak.admin_password not in (jobs.artifacts / "restore" / "command").read_text()
    finally:
        _cleanup_service_account(cluster)
        try:
            keycloak.admin("DELETE", "/%s" % realm)
        except urllib.error.HTTPError as exc:   # the harden job failed before it made the realm
            assert exc.code == 404, exc
