# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 20: the benchmark (`make bench`) at N=3, first runs only, so that `make test` keeps it working.

The three contenders (harden-flyte.yml with flytesec_projects, benchmarks/baseline.yml, benchmarks/floor.py) each
start from a fresh flyte-core and 3 fresh project namespaces (one runs restricted pods, one a pod restricted
rejects) and must reach the same end state (benchmarks/scenario.py lists what the comparison ignores). Flyte goes
into a namespace of its own (flyte-bench-smoke); the project namespaces are bench0000-development, bench0001-staging
and bench0002-production, deleted afterwards; the collection is given their names (projects_namespaces) instead
of finding every project namespace of a shared cluster. No figure is asserted: the timings are make bench's.
"""
from __future__ import absolute_import, division, print_function

import importlib
import os
import sys
from pathlib import Path

import pytest

__metaclass__ = type

pytestmark = pytest.mark.integration
pytest.importorskip("kubernetes")

ROOT = Path(__file__).resolve().parents[2]
FLYTE_NS = "flyte-bench-smoke"


@pytest.fixture(scope="module")
def bench_module(cluster):
    os.environ["FLYTESEC_BENCH_FLYTE_NS"] = FLYTE_NS
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        scenario = importlib.reload(importlib.import_module("scenario"))
        bench = importlib.reload(importlib.import_module("bench"))
        yield bench, scenario
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
        os.environ.pop("FLYTESEC_BENCH_FLYTE_NS", None)


def test_three_contenders_reach_the_same_end_state(cluster, bench_module, tmp_path):
    bench, scenario = bench_module
    # the collection is given the 3 namespaces rather than finding every project namespace of this (shared) cluster
    runner = bench.Bench(cluster.kubeconfig, cluster.run_dir, cluster.bin_dir, tmp_path, discover=False)
    try:
        rows, problems = bench.run_sizes(runner, [3], bench.CONTENDERS, baseline_max=3, reruns=False)
        assert problems == [], "\n\n".join(problems)
        state = [r for r in rows if r["contender"] == "end-state"][0]
        assert state["equal"] == ["baseline", "floor"]
        runs = dict((r["contender"], r["first"]) for r in rows if r["contender"] in bench.CONTENDERS)
        # each contender wrote: 3 namespaces x (4 NetworkPolicies, LimitRange, PodTemplate, ServiceAccount, labels)
        for contender, first in runs.items():
            assert first["requests"]["writes"] >= 3 * 8, (contender, first["requests"])
        assert runs["floor"]["processes"] == 1
    finally:
        scenario.delete_projects(runner.api)
        cluster.kubectl("delete", "namespace", FLYTE_NS, "--ignore-not-found", "--wait=false")
        for kind in ("clusterrolebinding", "clusterrole"):
            cluster.kubectl("delete", kind, "flytesec-%s-cluster-resources" % FLYTE_NS, "--ignore-not-found")
