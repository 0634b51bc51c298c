# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""k8s.install_timeout: a stalled API server (it accepts the connection and never answers) fails a request within
FLYTESEC_K8S_REQUEST_TIMEOUT instead of hanging the run; the error is a FlyteK8sError naming the request.
The real stall (kube-apiserver under SIGSTOP) is tests/integration/test_faults.py."""
from __future__ import absolute_import, division, print_function

import socket
import threading
import time

import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import client as k8s_utils

__metaclass__ = type


@pytest.fixture
def silent_server():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])   # never answered
            except socket.timeout:
                continue
    thread = threading.Thread(target=accept)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def restore_rest_client():
    from kubernetes.client import rest
    saved = rest.RESTClientObject.request
    yield
    rest.RESTClientObject.request = saved


def test_request_timeout_from_the_environment(monkeypatch):
    monkeypatch.delenv(k8s_utils.TIMEOUT_ENV, raising=False)
    assert k8s_utils.request_timeout() == k8s_utils.DEFAULT_TIMEOUT
    monkeypatch.setenv(k8s_utils.TIMEOUT_ENV, "2.5")
    assert k8s_utils.request_timeout() == 2.5
    monkeypatch.setenv(k8s_utils.TIMEOUT_ENV, "0")
    assert k8s_utils.request_timeout() is None


def test_a_stalled_api_server_fails_the_request_in_time(silent_server, restore_rest_client, monkeypatch):
    from kubernetes import client as kclient
    from kubernetes.dynamic.resource import Resource
    monkeypatch.setenv(k8s_utils.TIMEOUT_ENV, "0.5")
    k8s_utils.install_timeout()
    k8s_utils.install_timeout()   # idempotent: one wrapper
    configuration = kclient.Configuration()
    configuration.host = "http://127.0.0.1:%d" % silent_server
    configuration.retries = False
    api = kclient.ApiClient(configuration)

    class Dynamic(object):
        dry_run = False

        def __init__(self):
            self.client = api

        def resource(self, kind, api_version):
            return Resource(prefix="api", group=None, api_version="v1", kind=kind, name="configmaps", namespaced=True,
                            client=self)

        def get(self, resource, **params):
            return api.rest_client.request("GET", configuration.host + resource.path(**params))

    flyte = k8s_utils.FlyteK8sClient(None, client=Dynamic())
    started = time.monotonic()
    with pytest.raises(k8s_utils.FlyteK8sError) as raised:
        flyte.get("v1", "ConfigMap", "x", "flyte")
    assert time.monotonic() - started < 5
    assert "get ConfigMap flyte/x failed: the API server did not answer within 0.5s" in str(raised.value)
    assert k8s_utils.TIMEOUT_ENV in str(raised.value)
