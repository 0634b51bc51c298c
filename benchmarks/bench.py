# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark (issue 20): N project namespaces hardened by this collection, a kubernetes.core loop, and the floor.

    make bench                       # N = 10, 100, 1000 on the cluster `bench` (port 6545)
    python benchmarks/bench.py --n 10,100 --cluster bench --port 6545 [--baseline-max 100] [--no-plot]

For every N and contender (collection, baseline, floor): the cluster is reset (the bench namespaces deleted,
upstream flyte-core reinstalled with hack/cluster/flyte-up.sh --fresh, N project namespaces created as the sync
creates them), then the contender runs twice: the first run and the no-op rerun. Measured per run: wall time, peak
RSS of the process tree, API requests of the admin user by verb from the kube-apiserver audit log (server-side dry
runs apart), task results and module runs (ansible.posix.json output; the floor is one process). After the rerun the
end state is read (benchmarks/scenario.py) and the three must be equal before any figure is written.

The baseline and the floor apply the Flyte namespace's own hardening as the collection's run at the same N left it:
the objects the collection wrote there (from the audit log) are read back after its first run. So the collection
always runs first for a given N.

--baseline-max M: the baseline is measured only up to N = M; above, its figures are extrapolated linearly from the
two largest measured N and marked "extrapolated" everywhere they appear (its end state cannot be compared then).
Results: benchmarks/results/results.{json,csv,md}, bench.png (with matplotlib), profile.{json,md} (--profile).
"""
from __future__ import absolute_import, division, print_function

import argparse
import csv
import functools
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__metaclass__ = type

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import measure  # noqa: E402
import yaml  # noqa: E402
import scenario  # noqa: E402
from k8s_audit import AuditLog  # noqa: E402
from playbook import environment  # noqa: E402

HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
BASELINE = HERE / "baseline.yml"
FLOOR = HERE / "floor.py"
ADMIN = "flytesec-admin"
CONTENDERS = ("collection", "baseline", "floor")
OBJECT_STORE = ["10.20.0.0/16"]
PROJECTS_TASK = "Harden the cluster resource templates"
RESOURCE_KINDS = {"configmaps": ("v1", "ConfigMap"), "deployments": ("apps/v1", "Deployment"),
                  "namespaces": ("v1", "Namespace"), "podtemplates": ("v1", "PodTemplate"),
                  "serviceaccounts": ("v1", "ServiceAccount"), "secrets": ("v1", "Secret"),
                  "networkpolicies": ("networking.k8s.io/v1", "NetworkPolicy"),
                  "clusterroles": ("rbac.authorization.k8s.io/v1", "ClusterRole"),
                  "clusterrolebindings": ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
                  "roles": ("rbac.authorization.k8s.io/v1", "Role"),
                  "rolebindings": ("rbac.authorization.k8s.io/v1", "RoleBinding")}


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (datetime.datetime.now().strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def write_workers():
    """The pool size of flyte_projects' writes (the floor gets the same)."""
    sys.path.insert(0, str(ROOT / "build" / "collections"))
    from ansible_collections.flytesec.hardening.plugins.modules import flyte_projects
    return getattr(flyte_projects, "WRITE_WORKERS", 1)


class Bench:
    def __init__(self, kubeconfig, run_dir, bin_dir, workdir, discover=True):
        """``discover``: the collection finds the project namespaces by flyteadmin's namespace mapping, as by default
        (False: it is given their names, projects_namespaces, so that a shared cluster's other namespaces stay
        untouched; the requests are the same, the names come out of the same LIST of Namespaces)."""
        from kubernetes import config
        self.discover = discover
        self.kubeconfig = str(kubeconfig)
        self.api = config.new_client_from_config(config_file=self.kubeconfig)
        self.audit = AuditLog(os.path.join(str(run_dir), "audit.log"))
        self.bin_dir = str(bin_dir)
        self.workdir = Path(workdir)
        self.workers = write_workers()

    # ---- the scenario ----
    def reset(self, n, flyte=True):
        started = time.monotonic()
        scenario.delete_projects(self.api)
        if flyte:
            env = dict(os.environ, FLYTE_CORE_NS=scenario.FLYTE_NS)
            proc = subprocess.run(["bash", str(ROOT / "hack" / "cluster" / "flyte-up.sh"), "--kubeconfig", self.kubeconfig,
                                   "--only", "core", "--fresh"], capture_output=True, text=True, env=env, check=False)
            if proc.returncode != 0:
                raise RuntimeError("flyte-up.sh failed:\n%s" % proc.stderr[-4000:])
        pods = scenario.create_projects(self.api, n) if n else 0
        log("reset for N=%d: %d namespaces, %d pods (%.0f s)" % (n, n, pods, time.monotonic() - started))

    def env(self):
        environ = environment(self.kubeconfig)
        environ["KUBECONFIG"] = self.kubeconfig
        environ["PATH"] = "%s:%s" % (self.bin_dir, environ["PATH"])
        return environ

    # ---- one measured run ----
    def measured(self, cmd, ansible):
        load = os.getloadavg()[0]   # the machine may be shared: the 1-minute load average when the run started
        mark = self.audit.mark()
        proc, wall, rss = measure.run(cmd, env=self.env(), cwd=str(ROOT))
        if proc["rc"] != 0:
            raise RuntimeError("%s failed (rc=%d):\n%s\n%s" % (" ".join(cmd[:3]), proc["rc"], proc["stdout"][-6000:],
                                                               proc["stderr"][-3000:]))
        events = self.audit.raw_events(mark)
        figures = {"wall_s": round(wall, 2), "peak_rss_mib": rss, "requests": measure.requests(events, ADMIN),
                   "load_at_start": round(load, 2)}
        data = None
        if ansible:
            data = measure.parse_json_output(proc["stdout"])
            inv = measure.invocations(data)
            figures["task_results"], figures["module_runs"] = inv["results"], inv["module_runs"]
            figures["processes"] = inv["module_runs"] + 1
        else:
            figures["task_results"], figures["module_runs"], figures["processes"] = 0, 1, 1
        return figures, data, events

    def playbook(self, playbook, values, check=False):
        vars_file = self.workdir / ("vars-%d.json" % time.monotonic_ns())
        vars_file.write_text(json.dumps(values))
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
               "-e", "@%s" % vars_file]
        return cmd + (["--check"] if check else [])

    def collection_values(self, n, projects=True):
        values = {"flytesec_state_root": str(self.workdir / ("state-%d" % n)), "flytesec_namespace": scenario.FLYTE_NS}
        if projects:
            values.update(flytesec_projects=True, projects_network={"object_store_cidrs": OBJECT_STORE})
            if not self.discover:
                values.update(projects_discover=False, projects_namespaces=[name for name, _p, _d in scenario.namespaces(n)])
        return values

    # ---- contenders ----
    def run_collection(self, n, rerun=True):
        cmd = self.playbook(HARDEN, self.collection_values(n))
        first, data, events = self.measured(cmd, ansible=True)
        restart = []
        for play in data.get("plays", []):
            for task in play.get("tasks", []):
                res = task.get("hosts", {}).get("localhost") or {}
                if PROJECTS_TASK in task["task"]["name"] and not res.get("skipped") and "restart_required" in res:
                    restart = [w.split("/", 1)[1] for w in res["restart_required"]]
        dump = {"flyte_objects": self.flyte_objects(events), "restart": restart}
        second = self.measured(cmd, ansible=True)[0] if rerun else None
        return first, second, dump

    def flyte_objects(self, events):
        """The Flyte namespace's objects (and cluster-scoped ones) the collection's real writes touched, read back."""
        from kubernetes import dynamic
        dyn = dynamic.DynamicClient(self.api)
        seen = []
        for e in events:
            ref = e.get("objectRef") or {}
            if (e.get("user") or {}).get("username") != ADMIN or e.get("verb") not in measure.WRITE_VERBS \
                    or "dryRun=All" in e.get("requestURI", "") or e.get("stage") != "ResponseComplete":
                continue
            if ref.get("resource") == "leases" or ref.get("namespace") not in (None, "", scenario.FLYTE_NS):
                continue   # the run lock; project namespaces (this benchmark's, or any other the collection found)
            if ref.get("resource") == "namespaces" and ref.get("name") != scenario.FLYTE_NS:
                continue
            if ref.get("resource") not in RESOURCE_KINDS:
                raise RuntimeError("the collection wrote a %s the benchmark does not know" % ref.get("resource"))
            key = (ref["resource"], ref.get("namespace"), ref.get("name"))
            if key not in seen:
                seen.append(key)
        out = []
        for resource, namespace, name in seen:
            api_version, kind = RESOURCE_KINDS[resource]
            obj = dyn.resources.get(api_version=api_version, kind=kind).get(name=name, namespace=namespace).to_dict()
            obj["apiVersion"], obj["kind"] = api_version, kind
            obj = scenario.normalise(obj)
            if kind == "Namespace":
                obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": obj["metadata"]["labels"]}}
            out.append(obj)
        # the order the collection writes in: configuration, then the workloads, then the Namespace's enforce label
        order = {"Deployment": 1, "Namespace": 2}
        return sorted(out, key=lambda o: order.get(o["kind"], 0))

    def baseline_values(self, n, dump):
        image = [o for o in dump["flyte_objects"] if o["kind"] == "PodTemplate"][0]["template"]["spec"]["containers"][0]["image"]
        values = {}
        for var, kinds in (("bench_flyte_manifest", None), ("bench_flyte_workloads", ("Deployment",)),
                           ("bench_flyte_namespace_labels", ("Namespace",))):
            objs = [o for o in dump["flyte_objects"] if (o["kind"] in kinds if kinds else o["kind"] not in ("Deployment", "Namespace"))]
            manifest = self.workdir / ("%s-%d.yaml" % (var, n))
            manifest.write_text(yaml.safe_dump_all(objs, sort_keys=False))
            values[var] = str(manifest)
        extra = {"bench_namespaces": [name for name, _p, _d in scenario.namespaces(n)],
                 "bench_flyte_namespace": scenario.FLYTE_NS,
                 "bench_restart": dump["restart"], "bench_object_store_cidrs": OBJECT_STORE, "bench_task_image": image}
        return dict(values, **extra)

    def run_baseline(self, n, dump, rerun=True):
        cmd = self.playbook(BASELINE, self.baseline_values(n, dump))
        first = self.measured(cmd, ansible=True)[0]
        return first, (self.measured(cmd, ansible=True)[0] if rerun else None)

    def run_floor(self, n, dump, rerun=True):
        data = dict(dump, namespaces=[name for name, _p, _d in scenario.namespaces(n)])
        path = self.workdir / ("floor-%d.json" % n)
        path.write_text(json.dumps(data))
        cmd = [sys.executable, str(FLOOR), "--kubeconfig", self.kubeconfig, "--input", str(path),
               "--workers", str(self.workers)]
        first = self.measured(cmd, ansible=False)[0]
        return first, (self.measured(cmd, ansible=False)[0] if rerun else None)

    def end_state(self, n):
        return scenario.end_state(self.api, n)


def run_sizes(bench, sizes, contenders, baseline_max, reruns=True):
    """Every measured figure, and the end-state comparison, for ``sizes``."""
    rows, problems = [], []
    for n in sizes:
        states, dump = {}, None
        for contender in contenders:
            if contender == "baseline" and n > baseline_max:
                log("N=%d baseline: not measured (--baseline-max %d), extrapolated below" % (n, baseline_max))
                continue
            bench.reset(n)
            log("N=%d %s: first run and rerun" % (n, contender))
            if contender == "collection":
                first, rerun, dump = bench.run_collection(n, reruns)
            elif contender == "baseline":
                first, rerun = bench.run_baseline(n, dump, reruns)
            else:
                first, rerun = bench.run_floor(n, dump, reruns)
            states[contender] = bench.end_state(n)
            rows.append(dict(n=n, contender=contender, extrapolated=False, first=first, rerun=rerun))
            again = ", rerun %.1f s" % rerun["wall_s"] if rerun else ""
            log("N=%d %s: first %.1f s%s" % (n, contender, first["wall_s"], again))
        for contender in states:
            if contender != "collection":
                diff = scenario.compare(states["collection"], states[contender])
                if diff:
                    problems.append("N=%d: %s's end state differs from the collection's:\n%s"
                                    % (n, contender, "\n".join(diff[:20])))
        if "collection" in states:
            rows.append(dict(n=n, contender="end-state", objects=len(states["collection"]),
                             equal=sorted(c for c in states if c != "collection" and not scenario.compare(states["collection"], states[c]))))
    return rows, problems


def _extrapolate(x, y, n, n_a, n_b):
    """The value at ``n`` on the line through (n_a, x) and (n_b, y)."""
    return round(y + (y - x) * (n - n_b) / float(n_b - n_a), 2)


def extrapolate(rows, sizes, baseline_max):
    """Baseline rows above ``baseline_max``, linear in N from the two largest measured sizes (marked extrapolated)."""
    measured = sorted((r for r in rows if r["contender"] == "baseline" and not r["extrapolated"]), key=lambda r: r["n"])
    if len(measured) < 2:
        return []
    a, b = measured[-2], measured[-1]
    out = []
    for n in [s for s in sizes if s > baseline_max]:
        row = dict(n=n, contender="baseline", extrapolated=True)
        for run in ("first", "rerun"):
            ra, rb = a[run], b[run]
            f = functools.partial(_extrapolate, n=n, n_a=a["n"], n_b=b["n"])
            req = {"writes": int(f(ra["requests"]["writes"], rb["requests"]["writes"])),
                   "reads": int(f(ra["requests"]["reads"], rb["requests"]["reads"])),
                   "dry_runs": int(f(ra["requests"]["dry_runs"], rb["requests"]["dry_runs"]))}
            row[run] = {"wall_s": f(ra["wall_s"], rb["wall_s"]), "peak_rss_mib": rb["peak_rss_mib"], "requests": req,
                        "task_results": int(f(ra["task_results"], rb["task_results"])),
                        "module_runs": int(f(ra["module_runs"], rb["module_runs"])),
                        "processes": int(f(ra["processes"], rb["processes"]))}
        out.append(row)
    return out


def figure(rows, n, contender, run, key="wall_s"):
    for r in rows:
        if r["n"] == n and r["contender"] == contender and run in r:
            return r[run][key], r["extrapolated"]
    return None, False


def _sent(requests):
    """Writes and dry runs of a run: what it asks the API server to do."""
    return requests["writes"] + requests["dry_runs"]


def slope(rows, contender, run, a=100, b=1000):
    ta, _ea = figure(rows, a, contender, run)
    tb, _eb = figure(rows, b, contender, run)
    if not ta or not tb:
        return None
    return round(math.log(tb / ta) / math.log(float(b) / a), 2)


def write_results(out, rows, sizes, meta, plot=True):
    out.mkdir(parents=True, exist_ok=True)
    runs = [r for r in rows if r["contender"] in CONTENDERS]
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, sort_keys=True))
    header = ["n", "contender", "extrapolated", "first_s", "rerun_s", "first_writes", "first_reads", "first_dry_runs",
              "rerun_writes", "rerun_reads", "rerun_dry_runs", "task_results", "module_runs", "processes", "peak_rss_mib",
              "load_first", "load_rerun"]
    lines = []
    for r in runs:
        f, re_ = r["first"], r["rerun"]
        lines.append([r["n"], r["contender"], r["extrapolated"], f["wall_s"], re_["wall_s"], f["requests"]["writes"],
                      f["requests"]["reads"], f["requests"]["dry_runs"], re_["requests"]["writes"], re_["requests"]["reads"],
                      re_["requests"]["dry_runs"], f["task_results"], f["module_runs"], f["processes"],
                      max(f["peak_rss_mib"], re_["peak_rss_mib"]), f.get("load_at_start", ""), re_.get("load_at_start", "")])
    with open(str(out / "results.csv"), "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(lines)
    md = ["# Benchmark results (issue 20)", "",
          "Measured %s on %s (%s CPUs), flyte_projects write pool: %s. Every figure below comes from this run; rows "
          "marked *extrapolated* were not measured (see docs/performance.md)." % (
              meta["date"], meta["host"], meta["cpus"], meta["workers"]), "",
          "| N | contender | first run s | rerun s | writes | reads | dry runs | rerun writes | rerun reads | "
          "rerun dry runs | task results | module runs | processes | peak RSS MiB | load (first, rerun) |",
          "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for line in lines:
        name = line[1] + (" *(extrapolated)*" if line[2] else "")
        md.append("| " + " | ".join(str(v) for v in [line[0], name] + line[3:-2]) + " | %s, %s |" % tuple(line[-2:]))
    md += ["", "API requests are the admin user's (flytesec-admin) from the kube-apiserver audit log; *writes* and *reads* "
           "are real requests, *dry runs* the server-side dry runs (dryRun=All) apart.", ""]
    for r in rows:
        if r["contender"] == "end-state":
            md.append("- N=%d: end state of %d objects; equal to the collection's: %s" % (
                r["n"], r["objects"], ", ".join(r["equal"]) or "(no other contender measured)"))
    md += ["", "## Targets", ""]
    md += targets(rows, sizes)
    reads = [r for r in runs if r["contender"] == "collection"]
    if reads:
        md += ["", "## Reads of the collection's no-op rerun, by resource", "",
               "| N | " + " | ".join(sorted(reads[-1]["rerun"]["requests"].get("reads_by_resource", {}))) + " |",
               "|---:|" + "---:|" * len(reads[-1]["rerun"]["requests"].get("reads_by_resource", {}))]
        keys = sorted(reads[-1]["rerun"]["requests"].get("reads_by_resource", {}))
        for r in reads:
            got = r["rerun"]["requests"].get("reads_by_resource", {})
            md.append("| %d | %s |" % (r["n"], " | ".join(str(got.get(k, 0)) for k in keys)))
    (out / "results.md").write_text("\n".join(md) + "\n")
    if plot:
        draw(out / "bench.png", runs, sizes)
    return "\n".join(md)


def targets(rows, sizes):
    out = []
    big = max(sizes)
    c, ce = figure(rows, big, "collection", "first")
    b, be = figure(rows, big, "baseline", "first")
    f, _fe = figure(rows, big, "floor", "first")
    if c and b:
        out.append("- N=%d first run, baseline / collection = %.1f× (target ≥ 20×): %s%s" % (
            big, b / c, "met" if b / c >= 20 else "not met", " — baseline extrapolated" if be else ""))
    if c and f:
        out.append("- N=%d first run, collection / floor = %.2f× (target ≤ 1.5×): %s" % (
            big, c / f, "met" if c / f <= 1.5 else "not met"))
    for r in rows:
        if r["contender"] == "collection":
            req = r["rerun"]["requests"]
            hardening_writes = req["writes"] - req.get("lock_writes", 0)
            out.append("- N=%d collection no-op rerun: %d writes (%d of them the run lock's Lease, %d to hardened "
                       "objects), %d reads, %d of them of single project namespaces or their objects (target: 0 writes, "
                       "reads not growing per namespace): %s" % (
                           r["n"], req["writes"], req.get("lock_writes", 0), hardening_writes, req["reads"],
                           req.get("project_reads", 0),
                           "met" if req["writes"] == 0 and not req.get("project_reads") else
                           ("met for the hardened objects (the lock writes its Lease)" if hardening_writes == 0 and
                            not req.get("project_reads") else "not met")))
    coll = [r for r in rows if r["contender"] == "collection"]
    if len(coll) > 1:
        reads = [(r["n"], r["rerun"]["requests"]["reads"]) for r in coll]
        out.append("- collection rerun reads by N: %s (constant: %s)" % (
            ", ".join("%d: %d" % x for x in reads), "yes" if len(set(x[1] for x in reads)) == 1 else "no"))
    marginal = {}
    for contender in CONTENDERS:
        ta, _e = figure(rows, 100, contender, "first")
        tb, extra = figure(rows, 1000, contender, "first")
        if ta and tb:
            marginal[contender] = (tb - ta) / 900.0
            out.append("- %s first run, per namespace between N=100 and N=1000: %.1f ms%s" % (
                contender, 1000 * marginal[contender], " (extrapolated)" if extra else ""))
    if marginal.get("floor") and "collection" in marginal:
        out.append("- per-namespace cost, collection / floor: %.2f×" % (marginal["collection"] / marginal["floor"]))
    for contender in CONTENDERS:
        ra, _e = figure(rows, 100, contender, "first", key="requests")
        rb, extra = figure(rows, 1000, contender, "first", key="requests")
        if ra and rb and not extra:
            grown = math.log(float(_sent(rb)) / _sent(ra)) / math.log(10.0)
            out.append("- slope of %s first-run requests (writes and dry runs) between N=100 and N=1000 (log-log): "
                       "%.2f (%d → %d)" % (contender, grown, _sent(ra), _sent(rb)))
    for contender in CONTENDERS:
        for run in ("first", "rerun"):
            s = slope(rows, contender, run)
            if s is not None:
                out.append("- slope of %s %s between N=100 and N=1000 (log-log): %.2f%s" % (
                    contender, run, s, " (target ≈ 1)" if contender == "collection" else ""))
    return out


def draw(path, runs, sizes):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib not installed: no plot (make bench installs it)")
        return
    fig, ax = plt.subplots(figsize=(7, 5))
    colours = {"collection": "tab:blue", "baseline": "tab:red", "floor": "tab:green"}
    for contender in CONTENDERS:
        for run, style in (("first", "-"), ("rerun", ":")):
            points = sorted((r["n"], r[run]["wall_s"], r["extrapolated"]) for r in runs if r["contender"] == contender)
            if not points:
                continue
            measured = [p for p in points if not p[2]]
            ax.plot([p[0] for p in measured], [p[1] for p in measured], style, marker="o", color=colours[contender],
                    label="%s, %s" % (contender, "first run" if run == "first" else "no-op rerun"))
            extra = [p for p in points if p[2]]
            if extra and measured:
                ax.plot([measured[-1][0]] + [p[0] for p in extra], [measured[-1][1]] + [p[1] for p in extra], "--",
                        marker="x", color=colours[contender], alpha=0.6,
                        label="%s, %s (extrapolated)" % (contender, "first run" if run == "first" else "no-op rerun"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("project namespaces N")
    ax.set_ylabel("wall time, seconds")
    ax.set_title("Hardening N Flyte project namespaces")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(str(path), dpi=120)
    plt.close(fig)


def profile(bench, out):
    """The default harden-flyte.yml (no projects) on 0 project namespaces: first run, then the no-op rerun profiled."""
    bench.reset(0)
    cmd = bench.playbook(HARDEN, bench.collection_values(0, projects=False))
    first, _d, _e = bench.measured(cmd, ansible=True)
    rerun, data, _e = bench.measured(cmd, ansible=True)
    top, tasks = measure.task_profile(data, top=12)
    result = {"first": first, "rerun": rerun, "tasks_timed": tasks, "top": top}
    (out / "profile.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    md = ["# Default harden-flyte.yml, 0 project namespaces", "",
          "First run %.1f s; no-op rerun %.1f s (target: under half of 13.9 s = 6.95 s: %s), %d task results, %d module "
          "runs, %d writes, %d reads, %d dry runs." % (
              first["wall_s"], rerun["wall_s"], "met" if rerun["wall_s"] < 6.95 else "not met", rerun["task_results"],
              rerun["module_runs"], rerun["requests"]["writes"], rerun["requests"]["reads"], rerun["requests"]["dry_runs"]),
          "", "Slowest tasks of the rerun (task start to end, as ansible.posix.profile_tasks measures):", "",
          "| task | s |", "|---|---:|"]
    md += ["| %s | %.2f |" % (name, secs) for name, secs in top]
    md += ["", "Reads of the rerun by resource: " + ", ".join(
        "%s %d" % kv for kv in sorted(rerun["requests"]["reads_by_resource"].items()))]
    (out / "profile.md").write_text("\n".join(md) + "\n")
    return "\n".join(md)


def start_cluster(name, port):
    args = ["bash", str(ROOT / "hack" / "cluster" / "up.sh"), "--name", name] + (["--port", str(port)] if port else [])
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("up.sh failed:\n%s" % proc.stderr[-4000:])
    kubeconfig = proc.stdout.strip().splitlines()[-1]
    out = subprocess.run(["bash", "-c", '. "$1/versions.sh" && echo "$BIN"', "_", str(ROOT / "hack" / "cluster")],
                         capture_output=True, text=True, check=True)
    return kubeconfig, os.path.dirname(kubeconfig), out.stdout.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--n", default="10,100,1000", help="comma-separated sizes")
    parser.add_argument("--cluster", default=os.environ.get("FLYTESEC_CLUSTER", "bench"))
    parser.add_argument("--port", default=os.environ.get("FLYTESEC_CLUSTER_PORT", "6545"))
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--baseline-max", type=int, default=10 ** 9, help="measure the baseline only up to this N")
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also profile the default run on 0 project namespaces")
    parser.add_argument("--pkgs", help="folder with the bench-only packages (matplotlib)")
    args = parser.parse_args(argv)
    if args.pkgs:
        sys.path.append(args.pkgs)
    if args.cluster == "local":
        parser.error("the benchmark resets Flyte and deletes namespaces: use a cluster of its own, not `local`")
    sizes = sorted(int(s) for s in args.n.split(","))
    contenders = [c for c in CONTENDERS if c in args.contenders.split(",")]
    kubeconfig, run_dir, bin_dir = start_cluster(args.cluster, args.port)
    workdir = tempfile.mkdtemp(prefix="flytesec-bench-")
    bench = Bench(kubeconfig, run_dir, bin_dir, workdir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "host": platform.node(), "cpus": os.cpu_count(), "workers": bench.workers, "sizes": sizes,
            "baseline_max": args.baseline_max if args.baseline_max < 10 ** 9 else None, "cluster": args.cluster}
    try:
        if args.profile:
            sys.stdout.write(profile(bench, out) + "\n\n")
        rows, problems = run_sizes(bench, sizes, contenders, args.baseline_max)
        if problems:
            sys.stderr.write("END STATES DIFFER, no figure is written:\n%s\n" % "\n\n".join(problems))
            return 1
        rows += extrapolate(rows, sizes, args.baseline_max)
        sys.stdout.write(write_results(out, rows, sizes, meta, plot=not args.no_plot) + "\n")
    finally:
        scenario.delete_projects(bench.api)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
