# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The floor of the benchmark (issue 20): the fewest API requests that reach the collection's end state.

One process, the kubernetes client, no backups, no plan pass, no summary. It reads one LIST per kind, asks the
API server (one server-side dry run per namespace that does not enforce yet) whether enforcing restricted would
reject a running pod, and writes only what differs, ``--workers`` at a time (the pool size of flyte_projects).

    python benchmarks/floor.py --kubeconfig FILE --input floor-input.json [--workers 8]

``--input`` (written by benchmarks/bench.py) holds ``namespaces`` (the project namespaces), ``flyte_objects`` (the
Flyte namespace's objects as the collection's run left them: ConfigMaps, Deployments, the Namespace's labels,
the PodTemplate, ClusterRole and binding) and ``restart`` (the Deployments whose configuration changed). The
project namespaces' objects are rendered from the hardened cluster resource templates found among
``flyte_objects``, as flyteadmin's sync would render them. Prints a JSON summary of what it wrote.
"""
from __future__ import absolute_import, division, print_function

import argparse
import concurrent.futures
import datetime
import json
import sys
import time

import yaml
from kubernetes import config, dynamic

__metaclass__ = type

PSA = "pod-security.kubernetes.io/"
MANAGED = "app.kubernetes.io/managed-by=flytesec.hardening"
TEMPLATES = "clusterresource-template"
TOKEN = "flytesec-bench-namespace-token"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
SKIP_META = ("resourceVersion", "managedFields", "uid", "creationTimestamp", "generation", "selfLink")


def contains(current, desired):
    """Whether ``current`` holds everything of ``desired``: maps as supersets, lists element by element (the API
    server adds defaults inside list items, such as a container's terminationMessagePath), an empty map or list
    also matching an absent one (the API server drops some, such as a NetworkPolicy's ``ingress: []``)."""
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return not desired and current in (None, {})
        return all(contains(current.get(k), v) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(current, list):
            return not desired and current is None
        return len(current) == len(desired) and all(contains(c, d) for c, d in zip(current, desired))
    return current == desired


def clean(obj):
    obj = dict(obj)
    obj.pop("status", None)
    obj["metadata"] = dict((k, v) for k, v in obj["metadata"].items() if k not in SKIP_META)
    return obj


class Floor:
    def __init__(self, api_client, workers):
        self.api = api_client
        self.dyn = dynamic.DynamicClient(api_client)
        self.workers = workers
        self.writes = []

    def res(self, api_version, kind):
        return self.dyn.resources.get(api_version=api_version, kind=kind)

    def items(self, api_version, kind, **kwargs):
        return list(self.res(api_version, kind).get(**kwargs).to_dict()["items"])

    def write(self, verb, api_version, kind, body, name=None, namespace=None, content_type=None):
        res = self.res(api_version, kind)
        if verb == "create":
            res.create(body=body, namespace=namespace)
        elif verb == "replace":
            res.replace(body=body, namespace=namespace)
        else:
            res.patch(body=body, name=name, namespace=namespace, content_type=content_type)
        self.writes.append("%s %s %s/%s" % (verb, kind, namespace or "", name or body["metadata"]["name"]))

    def blocked(self, name, labels):
        """The API server's warnings if ``name`` enforced ``labels`` (server-side dry run)."""
        from kubernetes import client
        _data, _status, headers = client.CoreV1Api(self.api).patch_namespace_with_http_info(
            name, {"metadata": {"labels": labels}}, dry_run="All")
        return [w for w in (headers.get("Warning") or "").split(",") if w.strip()] if headers.get("Warning") else []

    def run(self, data):
        names = data["namespaces"]
        flyte = data["flyte_objects"]
        templates = [o for o in flyte if o["kind"] == "ConfigMap" and o["metadata"]["name"] == TEMPLATES][0]
        # rendered as the sync renders them: the placeholder replaced in the text (parsed once, with a token)
        per_ns = [json.dumps(yaml.safe_load(text.replace("{{ namespace }}", TOKEN)))
                  for key, text in sorted(templates["data"].items()) if key.startswith("zz-flytesec-")]
        kinds = sorted(set((o["apiVersion"], o["kind"]) for o in map(json.loads, per_ns)))
        pool = concurrent.futures.ThreadPoolExecutor(self.workers)
        # reads: one LIST of Namespaces, one per kind of object (with the collection's label), default ServiceAccounts
        namespaces = dict((n["metadata"]["name"], n) for n in self.items("v1", "Namespace"))
        existing = {}
        for api_version, kind in kinds:
            for item in self.items(api_version, kind, label_selector=MANAGED):
                existing[(kind, item["metadata"]["namespace"], item["metadata"]["name"])] = item
        accounts = dict((sa["metadata"]["namespace"], sa) for sa in
                        self.items("v1", "ServiceAccount", field_selector="metadata.name=default"))
        enforce = {PSA + "enforce": "restricted", PSA + "enforce-version": "latest"}
        others = {PSA + "warn": "restricted", PSA + "warn-version": "latest",
                  PSA + "audit": "restricted", PSA + "audit-version": "latest"}
        todo = [n for n in names if not contains(namespaces[n]["metadata"].get("labels") or {}, enforce)]
        blocked = dict(zip(todo, pool.map(lambda n: self.blocked(n, enforce), todo)))

        # the Flyte namespace: its objects as the collection left them
        restart = set(data.get("restart") or [])
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        flyte_jobs = []
        for obj in flyte:
            flyte_jobs.append(self.flyte_object(obj, restart, now))
        for job in flyte_jobs:
            if job:
                job()
        # the project namespaces
        jobs = []
        for name in names:
            for template in per_ns:
                body = json.loads(template.replace(TOKEN, name))
                if (body["kind"], name, body["metadata"]["name"]) not in existing:
                    jobs.append((self.write, ("create", body["apiVersion"], body["kind"], body), {"namespace": name}))
                elif not contains(existing[(body["kind"], name, body["metadata"]["name"])], body):
                    jobs.append((self.write, ("patch", body["apiVersion"], body["kind"], body),
                                 {"name": body["metadata"]["name"], "namespace": name,
                                  "content_type": "application/merge-patch+json"}))
            if accounts.get(name, {}).get("automountServiceAccountToken") is not False:
                jobs.append((self.write, ("patch", "v1", "ServiceAccount", {"automountServiceAccountToken": False}),
                             {"name": "default", "namespace": name, "content_type": "application/merge-patch+json"}))
            labels = dict(others, **({} if blocked.get(name) else enforce))
            current = namespaces[name]["metadata"].get("labels") or {}
            patch = dict((k, v) for k, v in labels.items() if current.get(k) != v)
            if patch:
                jobs.append((self.write, ("patch", "v1", "Namespace", {"metadata": {"labels": patch}}),
                             {"name": name, "content_type": "application/merge-patch+json"}))
        for future in [pool.submit(f, *a, **k) for f, a, k in jobs]:
            future.result()
        pool.shutdown()
        self.wait_rollouts([o["metadata"]["name"] for o in flyte if o["kind"] == "Deployment"],
                           flyte[0]["metadata"].get("namespace") or "flyte")
        return {"writes": len(self.writes), "blocked": sorted(n for n in blocked if blocked[n])}

    def flyte_object(self, obj, restart, now):
        """A job writing one Flyte namespace object when it differs (None: nothing to do)."""
        kind, meta = obj["kind"], obj["metadata"]
        ns = meta.get("namespace")
        try:
            current = self.res(obj["apiVersion"], kind).get(name=meta["name"], namespace=ns).to_dict()
        except dynamic.exceptions.NotFoundError:
            return lambda: self.write("create", obj["apiVersion"], kind, obj, namespace=ns)
        if kind == "Namespace":
            want = meta.get("labels") or {}
            patch = dict((k, v) for k, v in want.items() if (current["metadata"].get("labels") or {}).get(k) != v)
            return (lambda: self.write("patch", "v1", kind, {"metadata": {"labels": patch}}, name=meta["name"],
                                       content_type="application/merge-patch+json")) if patch else None
        desired = clean(obj)
        live = clean(current)
        if kind == "Deployment":
            live_template = live["spec"]["template"]["metadata"].get("annotations") or {}
            if RESTARTED_AT in live_template:
                desired["spec"]["template"]["metadata"].setdefault("annotations", {})[RESTARTED_AT] = live_template[RESTARTED_AT]
        same = all(live.get(k) == v for k, v in desired.items() if k not in ("metadata", "status"))
        if same and contains(live["metadata"], dict((k, v) for k, v in desired["metadata"].items()
                                                    if k in ("labels", "annotations"))):
            return None
        body = dict(desired)
        body["metadata"] = dict(current["metadata"])
        body["metadata"]["labels"] = dict(current["metadata"].get("labels") or {}, **(meta.get("labels") or {}))
        if kind == "Deployment" and meta["name"] in restart:
            body["spec"]["template"]["metadata"].setdefault("annotations", {})[RESTARTED_AT] = now
        return lambda: self.write("replace", obj["apiVersion"], kind, body, namespace=ns)

    def wait_rollouts(self, deployments, namespace, timeout=300):
        deadline = time.monotonic() + timeout
        for name in deployments:
            while True:
                d = self.res("apps/v1", "Deployment").get(name=name, namespace=namespace).to_dict()
                s, want = d.get("status") or {}, d["spec"].get("replicas", 1)
                if s.get("observedGeneration", 0) >= d["metadata"]["generation"] and s.get("updatedReplicas", 0) >= want \
                        and s.get("availableReplicas", 0) >= want and s.get("replicas", 0) <= s.get("updatedReplicas", 0):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("Deployment %s/%s not rolled out after %ss" % (namespace, name, timeout))
                time.sleep(0.5)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    with open(args.input) as handle:
        data = json.load(handle)
    floor = Floor(config.new_client_from_config(config_file=args.kubeconfig), args.workers)
    summary = floor.run(data)
    json.dump(summary, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
