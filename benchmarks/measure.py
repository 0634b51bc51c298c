# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Measurements of one contender's run: wall time, peak RSS of its process tree, API requests from the audit log,
module invocations from the ansible.posix.json callback's output (benchmarks/bench.py)."""
from __future__ import absolute_import, division, print_function

import collections
import json
import os
import subprocess
import threading
import time

__metaclass__ = type

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
READ_VERBS = ("get", "list", "watch")
# actions that run inside ansible-playbook itself (no module process, no ansible-tmp directory)
CONTROLLER_ACTIONS = frozenset((
    "set_fact", "debug", "assert", "fail", "meta", "include_tasks", "include_role", "import_tasks", "import_role",
    "include_vars", "ansible.builtin.set_fact", "ansible.builtin.debug", "ansible.builtin.assert",
    "ansible.builtin.fail", "ansible.builtin.meta", "ansible.builtin.include_tasks", "ansible.builtin.include_role",
    "ansible.builtin.import_tasks", "ansible.builtin.import_role", "ansible.builtin.include_vars"))


def _children():
    """``{ppid: [pid]}`` of every process now."""
    tree = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree[ppid].append(int(entry))
    return tree


def _rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(root):
    """Resident memory of ``root`` and all its descendants, summed (KiB)."""
    tree = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kib(pid)
        todo.extend(tree.get(pid, ()))
    return total


def run(cmd, env=None, cwd=None, interval=0.1, timeout=None):
    """Run ``cmd``; returns (CompletedProcess-like dict: rc, stdout, stderr), wall seconds, peak tree RSS in MiB."""
    peak = [0]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def poll():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kib(proc.pid))
            done.wait(interval)
    watcher = threading.Thread(target=poll)
    watcher.daemon = True
    watcher.start()
    stdout, stderr = proc.communicate(timeout=timeout)
    wall = time.monotonic() - start
    done.set()
    watcher.join()
    return {"rc": proc.returncode, "stdout": stdout, "stderr": stderr}, wall, round(peak[0] / 1024.0, 1)


def requests(events, user, project_prefix="bench"):
    """API requests of ``user`` by verb: real ones, and server-side dry runs apart; reads per resource; reads of one
    object or namespace of the project namespaces (``project_reads``: they grow with N); writes to Leases (the run
    lock) apart in ``lock_writes``."""
    real, dry, reads = collections.Counter(), collections.Counter(), collections.Counter()
    project_reads = lock_writes = 0
    for e in events:
        if e.get("stage") != "ResponseComplete" or (e.get("user") or {}).get("username") != user:
            continue
        verb = e.get("verb")
        if "dryRun=All" in e.get("requestURI", ""):
            dry[verb] += 1
            continue
        real[verb] += 1
        ref = e.get("objectRef") or {}
        if verb in WRITE_VERBS and ref.get("resource") == "leases":
            lock_writes += 1
        if verb in READ_VERBS and ((ref.get("namespace") or "").startswith(project_prefix) or
                                   (ref.get("resource") == "namespaces" and (ref.get("name") or "").startswith(project_prefix))):
            project_reads += 1
        if verb in READ_VERBS:
            reads["%s %s" % (verb, (e.get("objectRef") or {}).get("resource") or e.get("requestURI", "").split("?")[0])] += 1
    return {"by_verb": dict(real), "dry_run_by_verb": dict(dry),
            "writes": sum(v for k, v in real.items() if k in WRITE_VERBS),
            "reads": sum(v for k, v in real.items() if k in READ_VERBS),
            "dry_runs": sum(dry.values()), "total": sum(real.values()) + sum(dry.values()),
            "project_reads": project_reads, "lock_writes": lock_writes,
            "reads_by_resource": dict(reads)}


def invocations(data):
    """Executed task results of an ansible.posix.json output (loop items counted one by one): ``results`` (all) and
    ``module_runs`` (without the actions that run inside ansible-playbook, which start no module process)."""
    results = modules = 0
    durations = []
    for play in (data or {}).get("plays", []):
        for task in play.get("tasks", []):
            duration = task.get("task", {}).get("duration") or {}
            for _host, res in (task.get("hosts") or {}).items():
                items = res.get("results") if isinstance(res.get("results"), list) else [res]
                ran = [i for i in items if isinstance(i, dict) and not i.get("skipped")]
                results += len(ran)
                action = res.get("action") or ""
                if action not in CONTROLLER_ACTIONS:
                    modules += len(ran)
            durations.append((task.get("task", {}).get("name"), duration.get("start"), duration.get("end")))
    return {"results": results, "module_runs": modules, "durations": durations}


def task_profile(data, top=10):
    """The ``top`` slowest tasks of an ansible.posix.json output, seconds (like ansible.posix.profile_tasks)."""
    from datetime import datetime
    rows = []
    for name, start, end in invocations(data)["durations"]:
        if start and end:
            fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
            rows.append((name, (datetime.strptime(end, fmt) - datetime.strptime(start, fmt)).total_seconds()))
    rows.sort(key=lambda r: -r[1])
    return rows[:top], len(rows)


def parse_json_output(stdout):
    try:
        return json.loads(stdout)
    except ValueError:
        start = stdout.find("{")
        return json.loads(stdout[start:]) if start >= 0 else None
