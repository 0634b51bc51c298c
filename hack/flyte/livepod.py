# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a container of a live Deployment as a local process, the way its pod would run it.

kwok runs no container, so a configuration that crashes Flyte passes every test on the cluster. This
harness closes that gap: it reads a Deployment from the API server and runs one of its containers
(init containers too) with the real Flyte binaries built by hack/flyte/build.sh:

- command and args unchanged (an image without a command gets its image's entrypoint, IMAGE_ENTRYPOINTS);
- every ConfigMap, Secret, projected and emptyDir volume written out as files, honouring items, subPath,
  optional and defaultMode; a ConfigMap or Secret that does not exist fails as the kubelet would;
- those files bind-mounted at the container's exact mountPaths, in a mount namespace of its own
  (``unshare -m``). The top-level folders holding the mount paths (/etc, /srv, ...) are overlaid with a
  throwaway layer first, so nothing on the host changes;
- env from value, fieldRef, secretKeyRef, configMapKeyRef and envFrom, in a clean environment.

A path in the configuration that the Deployment does not mount (clientSecretLocation, passwordPath,
/etc/secrets/...) then fails exactly as in the cluster. The one thing added is OVERRIDE_FILE in the
folder that the container's ``--config`` glob reads (it sorts last, so flytestdlib merges it last); the
caller names every key in it, so nobody can quietly "fix" the configuration under test. Optional extras
that a cluster provides and a laptop lacks: /etc/hosts entries (the pod's hostAliases, and test domains
mapped to 127.0.0.1) and extra CA certificates appended to the image's trust store.

The processes share the host's network namespace: they need the local API server and PostgreSQL on
127.0.0.1. flyteadmin binds 0.0.0.0 (hard-coded); tests send every request to 127.0.0.1, and the machine
has no other network.
"""
from __future__ import absolute_import, division, print_function

import base64
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import yaml

__metaclass__ = type

OVERRIDE_FILE = "zz-test-overrides.yaml"
SA_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
# Where the harness's own files are bind-mounted inside the namespace (the first one no mount path covers).
STAGING_CANDIDATES = ("/mnt", "/media", "/opt", "/srv")
# Images that run their entrypoint without a command: the entrypoint of the upstream image.
IMAGE_ENTRYPOINTS = {"flyte-binary": ["flyte-binary"]}
# What the image's binary is called among the ones hack/flyte/build.sh builds.
BINARY_ALIASES = {"flyte-binary": "flyte"}


class LivePodError(Exception):
    pass


def _b64(value):
    return base64.b64decode(value)


class Volumes:
    """The files of a pod's volumes, read from the API server and written under ``root``."""

    def __init__(self, core, namespace, root):
        self.core = core
        self.namespace = namespace
        self.root = Path(root)

    def _read(self, kind, name, optional):
        """The object, or None when it is missing and ``optional``; a missing required one fails as the kubelet would."""
        from kubernetes.client.exceptions import ApiException
        reader = self.core.read_namespaced_config_map if kind == "ConfigMap" else self.core.read_namespaced_secret
        try:
            obj = reader(name, self.namespace)
        except ApiException as exc:
            if exc.status == 404 and optional:
                return None
            if exc.status == 404:
                raise LivePodError('%s "%s" not found (the kubelet would keep the pod in ContainerCreating)' % (kind.lower(), name))
            raise
        return obj

    def _configmap(self, name, optional):
        cm = self._read("ConfigMap", name, optional)
        if cm is None:
            return None
        files = dict((k, v.encode("utf-8")) for k, v in (cm.data or {}).items())
        files.update((k, _b64(v)) for k, v in (cm.binary_data or {}).items())
        return files

    def _secret(self, name, optional):
        secret = self._read("Secret", name, optional)
        return None if secret is None else dict((k, _b64(v)) for k, v in (secret.data or {}).items())

    @staticmethod
    def _items(files, items, what, optional):
        if not items:
            return dict(files)
        picked = {}
        for item in items:
            if item["key"] not in files:
                if optional:
                    continue
                raise LivePodError("%s has no key %r (items)" % (what, item["key"]))
            picked[item["path"]] = files[item["key"]]
        return picked

    def source_files(self, source):
        """Files of one volume source (configMap, secret, projected source) as {relative path: bytes}."""
        if "configMap" in source:
            ref = source["configMap"]
            files = self._configmap(ref["name"], ref.get("optional", False))
            if files is None:
                return {}
            return self._items(files, ref.get("items"), "configmap %s" % ref["name"], ref.get("optional", False))
        if "secret" in source:
            ref = source["secret"]
            name = ref.get("secretName") or ref.get("name")
            files = self._secret(name, ref.get("optional", False))
            if files is None:
                return {}
            return self._items(files, ref.get("items"), "secret %s" % name, ref.get("optional", False))
        if "projected" in source:
            merged = {}
            for sub in source["projected"].get("sources") or []:
                merged.update(self.source_files(sub))
            return merged
        if "downwardAPI" in source:
            return {}
        if "serviceAccountToken" in source:
            return {source["serviceAccountToken"]["path"]: b""}
        raise LivePodError("volume source %s is not supported by the harness" % sorted(source))

    def materialise(self, volume):
        """Write volume ``volume`` (a pod spec volume) under root; return its folder."""
        path = self.root / "volumes" / volume["name"]
        if path.exists():
            return path
        path.mkdir(parents=True)
        if "emptyDir" in volume:
            return path
        if "hostPath" in volume:
            raise LivePodError("volume %s: hostPath is not supported by the harness" % volume["name"])
        for rel, content in sorted(self.source_files(volume).items()):
            target = path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            target.chmod(0o600)
        return path


class LivePod:
    """One Deployment of the live cluster, ready to run its containers as local processes.

    ``overrides`` ({dotted.key: value}) becomes OVERRIDE_FILE in the container's --config folder;
    ``hosts`` ({hostname: ip}) is added to /etc/hosts; ``ca_files`` are appended to the trust store.
    """

    def __init__(self, api_client, namespace, deployment, workdir, bin_dir, overrides=None, hosts=None, ca_files=(),
                 pod_name=None):
        from kubernetes import client
        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.namespace = namespace
        self.deployment = self.apps.read_namespaced_deployment(deployment, namespace)
        self.spec = api_client.sanitize_for_serialization(self.deployment.spec.template.spec)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.bin_dir = Path(bin_dir)
        self.overrides = dict(overrides or {})
        self.hosts = dict(hosts or {})
        self.ca_files = list(ca_files)
        self.pod_name = pod_name or self._live_pod_name() or "%s-live-0" % deployment
        self.volumes = Volumes(self.core, namespace, self.workdir)
        self.processes = []

    def _live_pod_name(self):
        """A running pod of the Deployment (kwok keeps them): the harness plays its part (POD_NAME, metadata.name),
        so a component that reads its own pod (flyte start's webhook) finds it."""
        labels = (self.deployment.spec.selector.match_labels or {})
        if not labels:
            return None
        selector = ",".join("%s=%s" % kv for kv in sorted(labels.items()))
        pods = [p for p in self.core.list_namespaced_pod(self.namespace, label_selector=selector).items
                if p.metadata.deletion_timestamp is None and (p.status.phase or "") == "Running"]
        pods.sort(key=lambda p: p.metadata.creation_timestamp, reverse=True)
        return pods[0].metadata.name if pods else None

    # -- the container -----------------------------------------------------------------------
    def container(self, name):
        for kind in ("initContainers", "containers"):
            for container in self.spec.get(kind) or []:
                if container["name"] == name:
                    return container
        raise LivePodError("Deployment %s has no container %s" % (self.deployment.metadata.name, name))

    def init_containers(self):
        return [c["name"] for c in self.spec.get("initContainers") or []]

    def argv(self, container):
        command = list(container.get("command") or [])
        args = list(container.get("args") or [])
        if not command:
            image = container.get("image", "")
            repo = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
            if repo not in IMAGE_ENTRYPOINTS:
                raise LivePodError("container %s: image %s has no command and no known entrypoint" % (container["name"], image))
            command = list(IMAGE_ENTRYPOINTS[repo])
        return command + args

    @staticmethod
    def config_globs(argv):
        """The --config values of a flytestdlib command line (also inside ``sh -c`` strings)."""
        words = []
        for word in argv:
            words.extend(shlex.split(word) if " " in word else [word])
        found = []
        for i, word in enumerate(words):
            if word == "--config" and i + 1 < len(words):
                found.append(words[i + 1])
            elif word.startswith("--config="):
                found.append(word.split("=", 1)[1])
        return found

    def env(self, container):
        environ = {"PATH": "%s:/usr/local/bin:/usr/bin:/bin" % self._path_dir(), "HOME": "/tmp"}
        environ.update(self.service_env())
        for source in container.get("envFrom") or []:
            prefix = source.get("prefix", "")
            if "configMapRef" in source:
                files = self.volumes._configmap(source["configMapRef"]["name"], source["configMapRef"].get("optional", False))
            else:
                files = self.volumes._secret(source["secretRef"]["name"], source["secretRef"].get("optional", False))
            for key, value in (files or {}).items():
                environ[prefix + key] = value.decode("utf-8")
        fields = {"metadata.name": self.pod_name, "metadata.namespace": self.namespace,
                  "spec.serviceAccountName": self.spec.get("serviceAccountName", "default"),
                  "status.podIP": "127.0.0.1", "spec.nodeName": "live-harness"}
        for var in container.get("env") or []:
            if "value" in var:
                environ[var["name"]] = var["value"]
            elif "valueFrom" in var:
                ref = var["valueFrom"]
                if "fieldRef" in ref:
                    environ[var["name"]] = fields.get(ref["fieldRef"]["fieldPath"], "")
                elif "secretKeyRef" in ref or "configMapKeyRef" in ref:
                    kind = "secretKeyRef" if "secretKeyRef" in ref else "configMapKeyRef"
                    r = ref[kind]
                    files = (self.volumes._secret if kind == "secretKeyRef" else self.volumes._configmap)(
                        r["name"], r.get("optional", False))
                    if files is None or r["key"] not in files:
                        if r.get("optional"):
                            continue
                        raise LivePodError("env %s: %s %s has no key %s" % (var["name"], kind, r["name"], r["key"]))
                    environ[var["name"]] = files[r["key"]].decode("utf-8")
        return environ

    def _path_dir(self):
        """bin_dir plus the image aliases (flyte-binary -> flyte), as a folder for PATH."""
        alias_dir = self.workdir / "bin"
        alias_dir.mkdir(exist_ok=True)
        for alias, target in BINARY_ALIASES.items():
            link = alias_dir / alias
            if not link.exists() and (self.bin_dir / target).exists():
                link.symlink_to(self.bin_dir / target)
        return "%s:%s" % (alias_dir, self.bin_dir)

    # -- mounts --------------------------------------------------------------------------------
    @staticmethod
    def _resolved(path):
        """``path`` with its longest existing prefix resolved (so /var/run/x lands on /run/x)."""
        path = Path(path)
        existing = path
        rest = []
        while not existing.exists():
            rest.insert(0, existing.name)
            existing = existing.parent
        return Path(os.path.realpath(str(existing))).joinpath(*rest)

    def mounts(self, container):
        """[(source on the host, mount path, read only)] for the container, OVERRIDE_FILE added."""
        by_name = dict((v["name"], v) for v in self.spec.get("volumes") or [])
        mounts = []
        for mount in container.get("volumeMounts") or []:
            volume = by_name.get(mount["name"])
            if volume is None:
                raise LivePodError("container %s mounts volume %s, which the pod does not define" % (container["name"], mount["name"]))
            folder = self.volumes.materialise(volume)
            source = folder / mount["subPath"] if mount.get("subPath") else folder
            if not source.exists():
                source.parent.mkdir(parents=True, exist_ok=True)
                source.mkdir()
            mounts.append((source, mount["mountPath"].rstrip("/") or "/", bool(mount.get("readOnly"))))
        token_dir = self.service_account_files()
        if token_dir is not None and SA_PATH not in [p for _s, p, _r in mounts]:
            mounts.append((token_dir, SA_PATH, True))
        return mounts

    def automount(self):
        """Whether the kubelet would mount the ServiceAccount token (pod spec first, then the ServiceAccount)."""
        if self.spec.get("automountServiceAccountToken") is not None:
            return bool(self.spec["automountServiceAccountToken"])
        sa = self.core.read_namespaced_service_account(self.spec.get("serviceAccountName") or "default", self.namespace)
        return sa.automount_service_account_token is not False

    def service_account_files(self):
        """The pod's ServiceAccount token as the kubelet projects it (a real TokenRequest), or None."""
        if not self.automount():
            return None
        folder = self.workdir / "serviceaccount"
        if folder.exists():
            return folder
        from kubernetes import client
        name = self.spec.get("serviceAccountName") or "default"
        request = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
        token = self.core.create_namespaced_service_account_token(name, self.namespace, request).status.token
        folder.mkdir(parents=True)
        (folder / "token").write_text(token)
        (folder / "namespace").write_text(self.namespace)
        ca = self.api_client.configuration.ssl_ca_cert
        (folder / "ca.crt").write_text(Path(ca).read_text() if ca else "")
        return folder

    def service_env(self):
        """KUBERNETES_SERVICE_HOST/PORT, as every pod gets them, pointing at the API server's address."""
        from urllib.parse import urlsplit
        parts = urlsplit(self.api_client.configuration.host)
        return {"KUBERNETES_SERVICE_HOST": parts.hostname, "KUBERNETES_SERVICE_PORT": str(parts.port or 443)}

    def _override_target(self, container, mounts):
        for glob in self.config_globs(self.argv(container)):
            folder = os.path.dirname(glob).rstrip("/")
            for source, path, _ro in mounts:
                if path == folder and source.is_dir():
                    return source / OVERRIDE_FILE
        return None

    def _script(self, container, argv, environ):
        mounts = self.mounts(container)
        if self.overrides and self.config_globs(argv):
            target = self._override_target(container, mounts)
            if target is None:
                raise LivePodError("container %s: no mounted --config folder to put %s in" % (container["name"], OVERRIDE_FILE))
            target.write_text(yaml.safe_dump(nest(self.overrides), default_flow_style=False))
        extra_files = []
        if self.hosts or self.spec.get("hostAliases"):
            hosts = Path("/etc/hosts").read_text() + "\n"
            for alias in self.spec.get("hostAliases") or []:
                hosts += "%s %s\n" % (alias["ip"], " ".join(alias.get("hostnames") or []))
            for name, ip in sorted(self.hosts.items()):
                hosts += "%s %s\n" % (ip, name)
            (self.workdir / "hosts").write_text(hosts)
            extra_files.append((self.workdir / "hosts", "/etc/hosts"))
        if self.ca_files:
            bundle = Path("/etc/ssl/certs/ca-certificates.crt")
            text = bundle.read_text() if bundle.exists() else ""
            for ca in self.ca_files:
                text += "\n" + Path(ca).read_text()
            (self.workdir / "ca-certificates.crt").write_text(text)
            extra_files.append((self.workdir / "ca-certificates.crt", str(bundle)))
        # The sources are reached through a staging folder that no mount path covers: a pod may mount an
        # emptyDir at /tmp (readOnlyRootFilesystem), which would hide a workdir under /tmp.
        paths = [path for _s, path, _ro in mounts] + [path for _s, path in extra_files]
        staging = next((c for c in STAGING_CANDIDATES if os.path.isdir(c) and not any(
            p == c or p.startswith(c + "/") or c.startswith(p.rstrip("/") + "/") for p in paths)), None)
        if staging is None:
            raise LivePodError("no staging folder free of the pod's mount paths among %s" % ", ".join(STAGING_CANDIDATES))

        def staged(source):
            return os.path.join(staging, os.path.relpath(str(source), str(self.workdir)))
        # Only folders that must be created get a throwaway overlay (the host stays untouched).
        tops = sorted(set(self._resolved(path).parts[1] for path in paths
                          if path != "/" and not os.path.exists(path)))
        lines = ["set -e", "mount --make-rprivate /", "mount --bind %s %s" % (shlex.quote(str(self.workdir)), staging)]
        for top in tops:
            lower = Path("/") / top
            if not lower.is_dir():
                raise LivePodError("mount path under /%s: the harness needs that folder to exist on the host" % top)
            upper = self.workdir / "overlay" / top
            shutil.rmtree(str(upper), ignore_errors=True)
            (upper / "u").mkdir(parents=True)
            (upper / "w").mkdir(parents=True)
            lines.append("mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s" % (
                lower, staged(upper / "u"), staged(upper / "w"), lower))
        for source, path, read_only in mounts:
            if source.is_dir():
                lines.append("mkdir -p %s" % shlex.quote(path))
            else:
                lines.append("[ -e %s ] || { mkdir -p %s && touch %s; }" % (
                    shlex.quote(path), shlex.quote(os.path.dirname(path)), shlex.quote(path)))
            lines.append("mount --bind %s %s" % (shlex.quote(staged(source)), shlex.quote(path)))
            if read_only:
                lines.append("mount -o remount,bind,ro %s" % shlex.quote(path))
        for source, path in extra_files:
            lines.append("mount --bind %s %s" % (shlex.quote(staged(source)), shlex.quote(path)))
        environ = dict((k, v.replace(str(self.workdir), staging)) for k, v in environ.items())
        lines.append("cd /")
        env_words = " ".join(shlex.quote("%s=%s" % kv) for kv in sorted(environ.items()))
        lines.append("exec env -i %s %s" % (env_words, " ".join(shlex.quote(a) for a in argv)))
        script = self.workdir / ("run-%s.sh" % container["name"])
        script.write_text("\n".join(lines) + "\n")
        return script

    # -- running -------------------------------------------------------------------------------
    def command(self, name):
        """The argv that runs container ``name`` in its own mount namespace."""
        container = self.container(name)
        argv = self.argv(container)
        script = self._script(container, argv, self.env(container))
        return ["unshare", "-m", "--propagation", "private", "sh", str(script)]

    def run(self, name, timeout=300):
        """Run container ``name`` to completion (an init container); CompletedProcess, text mode."""
        return subprocess.run(self.command(name), capture_output=True, text=True, timeout=timeout, check=False)

    def start(self, name):
        """Start container ``name`` in the background; its output goes to <workdir>/<name>.log."""
        log = self.workdir / ("%s.log" % name)
        handle = open(str(log), "wb")
        proc = subprocess.Popen(self.command(name), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        proc.log_path = log
        self.processes.append(proc)
        return proc

    def log(self, proc):
        return Path(proc.log_path).read_text(errors="replace")

    def stop(self):
        """Stop what start() started, then remove the files written out (they hold Secret data); logs stay."""
        self._stop_processes()
        for name in ("volumes", "serviceaccount", "overlay", "hosts", "ca-certificates.crt"):
            path = self.workdir / name
            if path.is_dir():
                shutil.rmtree(str(path), ignore_errors=True)
            elif path.exists():
                path.unlink()

    def _stop_processes(self):
        for proc in self.processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.processes = []


def nest(flat):
    """{"a.b": 1, "a.c": 2} -> {"a": {"b": 1, "c": 2}}; a key may hold a dict too."""
    out = {}
    for dotted, value in flat.items():
        node = out
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """A throwaway PostgreSQL cluster from Debian's packages, on 127.0.0.1 only, run as user postgres."""

    def __init__(self, root=None, port=None):
        # Under /tmp, not a caller's private folder: user postgres must be able to reach it.
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="flytesec-pg-"))
        self.port = port or free_port()
        self.data = self.root / "data"
        self.bin = self._bin_dir()

    @staticmethod
    def _bin_dir():
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise LivePodError("PostgreSQL is not installed (hack/system-deps.sh installs Debian's postgresql)")
        return found[-1].parent

    def _as_postgres(self, *argv, **kwargs):
        check = kwargs.pop("check", True)
        proc = subprocess.run(["runuser", "-u", "postgres", "--"] + [str(a) for a in argv], capture_output=True, text=True,
                              check=False, timeout=kwargs.pop("timeout", 120), **kwargs)
        if check and proc.returncode != 0:
            raise LivePodError("%s failed (rc=%d): %s" % (os.path.basename(str(argv[0])), proc.returncode,
                                                          (proc.stdout + proc.stderr)[-2000:]))
        return proc

    def start(self):
        shutil.rmtree(str(self.root), ignore_errors=True)
        self.root.mkdir(parents=True)
        self.root.chmod(0o700)
        shutil.chown(str(self.root), "postgres", "postgres")
        self._initdb()
        self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-l", self.root / "postgres.log", "-w", "-t", "60",
                          "-o", "-c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -p %d" % (self.root, self.port),
                          "start")
        return self

    def _initdb(self):
        self._as_postgres(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
                          "--auth-host=scram-sha-256", "--no-instructions")

    def sql(self, statement, db="postgres"):
        return self._as_postgres(self.bin / "psql" if (self.bin / "psql").exists() else "psql", "-h", self.root, "-p", self.port,
                                 "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-qAtc", statement).stdout

    def user(self, name, password, database=None):
        """A login role with ``password`` (CREATEDB, as flyteadmin's GetDB may create its database)."""
        quoted = password.replace("'", "''")
        self.sql('CREATE ROLE "%s" LOGIN CREATEDB PASSWORD \'%s\'' % (name, quoted))
        if database:
            self.sql('CREATE DATABASE "%s" OWNER "%s"' % (database, name))

    def stop(self):
        if self.data.exists():
            self._as_postgres(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(str(self.root), ignore_errors=True)
