# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s.parallel (flyte_projects' write pool) and FlyteK8sClient.dry_run_patches: results in order, the first error
raised and what has not started cancelled, each dry run's own warnings, the client switched back after them."""
from __future__ import absolute_import, division, print_function

import threading
import time

import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s

__metaclass__ = type


def test_results_keep_the_order_of_the_items():
    def slow_first(i):
        time.sleep(0.02 * (5 - i))
        return i * 10
    assert k8s.parallel(slow_first, range(5), 4) == [0, 10, 20, 30, 40]
    assert k8s.parallel(slow_first, range(5), 1) == [0, 10, 20, 30, 40]
    assert k8s.parallel(slow_first, [], 8) == []


def test_runs_at_most_workers_at_a_time():
    lock, running, peak = threading.Lock(), [0], [0]

    def work(_i):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
    k8s.parallel(work, range(40), 3)
    assert 1 < peak[0] <= 3


def test_one_worker_runs_in_this_thread():
    assert k8s.parallel(lambda _i: threading.current_thread().name, range(3), 1) == [threading.current_thread().name] * 3


def test_the_first_error_is_raised_and_what_has_not_started_is_cancelled():
    started = []

    def work(i):
        started.append(i)
        if i == 1:
            raise k8s.FlyteK8sError("create NetworkPolicy ns-1/x failed: Forbidden", 403, "Forbidden")
        time.sleep(0.05)
        return i
    with pytest.raises(k8s.FlyteK8sError) as raised:
        k8s.parallel(work, range(200), 2)
    assert raised.value.status == 403
    assert len(started) < 200


class _Response(object):
    def __init__(self, warnings):
        self.headers = _Headers(['299 - "%s"' % w for w in warnings])
        self.data = b"{}"


class _Headers(object):
    def __init__(self, values):
        self.values = values

    def getlist(self, name):
        return self.values if name == "Warning" else []


class _Inner(object):
    """kubernetes.core's K8SClient, as far as FlyteK8sClient uses it: dry_run, resource, patch."""

    def __init__(self):
        self.dry_run = False
        self.seen = []

    def resource(self, kind, api_version):
        return (api_version, kind)

    def patch(self, resource, body, name=None, namespace=None, content_type=None, serialize=None):
        self.seen.append((name, self.dry_run, content_type))
        time.sleep(0.01)
        return _Response(["would violate PodSecurity: pod %s-a" % name] if name.endswith("bad") else [])


def test_dry_run_patches_answer_each_requests_own_warnings_and_switch_back():
    inner = _Inner()
    client = k8s.FlyteK8sClient(module=None, client=inner)
    names = ["ns-%d%s" % (i, "-bad" if i % 3 == 0 else "") for i in range(12)]
    body = {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    answers = client.dry_run_patches([("v1", "Namespace", n, None, body) for n in names], workers=4)
    assert answers == [["would violate PodSecurity: pod %s-a" % n] if n.endswith("bad") else [] for n in names]
    assert all(dry for _n, dry, _c in inner.seen) and len(inner.seen) == 12
    assert set(c for _n, _d, c in inner.seen) == {"application/merge-patch+json"}
    assert inner.dry_run is False
    assert len(client.warnings) == 4 and len(client.writes) == 12
