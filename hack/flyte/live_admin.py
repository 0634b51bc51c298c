# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start the real flyteadmin from a hardened flyte-core namespace and print what a user would check.

    python hack/flyte/live_admin.py --kubeconfig FILE --namespace flyte --bin-dir DIR \
        --console-origin https://flyte.example.test [--keep-running]

It runs flyteadmin's init containers (migrations, seed projects) and `serve` with the harness
(livepod.py) on a throwaway PostgreSQL, then checks, against 127.0.0.1:8088:
  - /healthcheck answers;
  - /api/v1/projects without a token: 401;
  - a client-credentials token made with flytepropeller's mounted secret (flyte-secret-auth): 200;
  - CORS: the console origin is echoed with credentials, another origin gets no CORS headers.
The configuration is the cluster's, as the collection wrote it; the keys added for the laptop are printed.
Exit code 0 when every check passes.
"""
from __future__ import absolute_import, division, print_function

import argparse
import base64
import http.client
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livepod  # noqa: E402

__metaclass__ = type


def _request(method, path, headers=None, body=None, port=8088):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, dict((k.lower(), v) for k, v in answer.getheaders()), answer.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _secret(core, namespace, name, key):
    data = core.read_namespaced_secret(name, namespace).data or {}
    return base64.b64decode(data[key]).decode() if key in data else None


def checks(core, namespace, console_origin, other_origin="https://not-the-console.example.test"):
    """[(what, passed, detail)] against the running flyteadmin."""
    out = []
    status, _h, _b = _request("GET", "/api/v1/projects")
    out.append(("GET /api/v1/projects without a token is refused", status == 401, "HTTP %d" % status))
    secret = _secret(core, namespace, "flyte-secret-auth", "client_secret") or ""
    basic = base64.b64encode(("flytepropeller:%s" % secret).encode()).decode()
    status, _h, body = _request("POST", "/oauth2/token", body="grant_type=client_credentials&scope=all",
                                headers={"Authorization": "Basic %s" % basic,
                                         "Content-Type": "application/x-www-form-urlencoded"})
    token = json.loads(body).get("access_token") if status == 200 else None
    out.append(("flytepropeller's mounted secret gets a token (client credentials)", token is not None, "HTTP %d" % status))
    if token:
        status, _h, _b = _request("GET", "/api/v1/projects", headers={"Authorization": "Bearer %s" % token})
        out.append(("GET /api/v1/projects with that token", status == 200, "HTTP %d" % status))
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "flyte-authorization"}
    _s, headers, _b = _request("OPTIONS", "/api/v1/projects", headers=dict(preflight, Origin=console_origin))
    allowed = headers.get("access-control-allow-origin") == console_origin and \
        headers.get("access-control-allow-credentials") == "true"
    out.append(("CORS preflight from the console origin %s is allowed, with credentials" % console_origin, allowed,
                "Access-Control-Allow-Origin: %s" % headers.get("access-control-allow-origin")))
    _s, headers, _b = _request("OPTIONS", "/api/v1/projects", headers=dict(preflight, Origin=other_origin))
    refused = not [k for k in headers if k.startswith("access-control-")]
    out.append(("CORS preflight from %s gets no CORS headers" % other_origin, refused,
                "Access-Control-Allow-Origin: %s" % headers.get("access-control-allow-origin")))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", default="flyte")
    parser.add_argument("--deployment", default="flyteadmin")
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--console-origin", required=True)
    parser.add_argument("--workdir")
    parser.add_argument("--keep-running", action="store_true")
    args = parser.parse_args()
    from kubernetes import client, config
    api = config.new_client_from_config(config_file=args.kubeconfig)
    core = client.CoreV1Api(api)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="flytesec-live-", dir="/var/tmp"))
    pg = livepod.Postgres().start()
    pod = None
    try:
        cm = core.read_namespaced_config_map("flyte-admin-base-config", args.namespace)
        db = yaml.safe_load(cm.data["db.yaml"])["database"]
        pg.user(db["username"], (_secret(core, args.namespace, "db-pass", "pass.txt") or "").strip(), db["dbname"])
        store = workdir / "store"   # outside /tmp: the hardened pod mounts an emptyDir there
        (store / "flyte-live").mkdir(parents=True)
        overrides = {"database.host": "127.0.0.1", "database.port": pg.port, "storage.type": "stow",
                     "storage.container": "flyte-live", "storage.stow": {"kind": "local", "config": {"path": str(store)}}}
        print("keys added for this machine (%s): %s" % (livepod.OVERRIDE_FILE, ", ".join(sorted(overrides))))
        pod = livepod.LivePod(api, args.namespace, args.deployment, workdir / "admin", args.bin_dir, overrides=overrides)
        for init in ("run-migrations", "seed-projects"):
            proc = pod.run(init)
            if proc.returncode != 0:
                print("init container %s failed:\n%s" % (init, (proc.stdout + proc.stderr)[-3000:]))
                return 1
        serve = pod.start("flyteadmin")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and serve.poll() is None:
            try:
                if _request("GET", "/healthcheck")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        if serve.poll() is not None:
            print("flyteadmin exited (%s) on the hardened configuration:\n%s" % (serve.returncode, pod.log(serve)[-4000:]))
            return 1
        print("flyteadmin %s is serving on 127.0.0.1:8088" % args.namespace)
        failed = 0
        for what, passed, detail in checks(core, args.namespace, args.console_origin):
            print("  %s %s (%s)" % ("ok  " if passed else "FAIL", what, detail))
            failed += 0 if passed else 1
        if args.keep_running:
            print("flyteadmin keeps running; stop it with Ctrl-C")
            try:
                serve.wait()
            except KeyboardInterrupt:
                pass
        return 1 if failed else 0
    finally:
        if pod is not None:
            pod.stop()
        pg.stop()
        if not args.workdir:
            shutil.rmtree(str(workdir), ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
