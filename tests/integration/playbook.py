# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ansible-playbook the way a user does and return its parsed JSON results.

The checkout is found as flytesec.hardening through build/collections (see tests/conftest.py);
kubernetes.core comes from the `ansible` package in the virtualenv.
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "build" / "collections"
BIN = Path(sys.executable).parent


class PlaybookResult:
    """Parsed output of one ansible-playbook run (ansible.posix.json callback)."""

    def __init__(self, proc, data):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.data = data

    @property
    def stats(self):
        return (self.data or {}).get("stats", {})

    def changed(self, host="localhost"):
        return self.stats.get(host, {}).get("changed", 0)

    def failed(self, host="localhost"):
        return self.stats.get(host, {}).get("failures", 0) + self.stats.get(host, {}).get("unreachable", 0)

    def tasks(self, host="localhost"):
        """(task name, result dict) for every task that ran on host."""
        found = []
        for play in (self.data or {}).get("plays", []):
            for task in play.get("tasks", []):
                res = task.get("hosts", {}).get(host)
                if res is not None:
                    found.append((task["task"]["name"], res))
        return found

    def result(self, name, host="localhost"):
        """The result of the last task whose name contains ``name``."""
        matches = [res for task_name, res in self.tasks(host) if name in task_name]
        assert matches, "no task named %r ran; tasks: %s" % (name, [task_name for task_name, _res in self.tasks(host)])
        return matches[-1]


def environment(kubeconfig, verbosity=0):
    """Environment of an ansible-playbook run against the cluster of ``kubeconfig`` (JSON callback unless verbose)."""
    environ = dict(os.environ)
    environ.update({
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json" if not verbosity else "default",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "K8S_AUTH_KUBECONFIG": str(kubeconfig),
        "PATH": "%s:%s" % (BIN, os.environ.get("PATH", "")),
    })
    return environ


def run_playbook(playbook, kubeconfig, extra_vars=None, check=False, diff=False, verbosity=0, tags=None, env=None,
                 inventory="localhost,"):
    """Run a playbook against the cluster of ``kubeconfig`` through K8S_AUTH_KUBECONFIG, as AWX would."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(extra_vars or {}, handle)
        vars_file = handle.name
    cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), "-c", "local", str(playbook), "-e", "@" + vars_file]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if tags:
        cmd += ["--tags", tags]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    environ = environment(kubeconfig, verbosity)
    environ.update(env or {})
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=environ, cwd=str(ROOT), check=False)
    finally:
        os.unlink(vars_file)
    data = None
    if not verbosity:
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            data = None
    return PlaybookResult(proc, data)
