# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_network_policies on the real API server, and the connections the stored policies allow (issue 10).

The allowed connections are computed by netpol_eval.PolicyEvaluator (an independent reading of the NetworkPolicy
semantics; see there why not np-guard's analyzer), from the policies read back from the API server, not from the
module's output.
"""
from __future__ import absolute_import, division, print_function

import json
from pathlib import Path

import pytest

from conftest import install_flyte
from netpol_eval import PolicyEvaluator
from playbook import run_playbook

__metaclass__ = type

pytestmark = pytest.mark.integration
PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "network_policies.yml"
ADMIN = "flytesec-admin"
NS = "netpol-core"
APISERVER = "10.0.0.10"

# name: (namespace, pod labels, namespace labels); "apiserver" and "db" are IPs.
PODS = {
    "ingress": ("ingress-nginx", {"app": "ingress-nginx"}, {"kubernetes.io/metadata.name": "ingress-nginx"}),
    "flyteadmin": (NS, {"app.kubernetes.io/name": "flyteadmin"}, {"kubernetes.io/metadata.name": NS}),
    "datacatalog": (NS, {"app.kubernetes.io/name": "datacatalog"}, {"kubernetes.io/metadata.name": NS}),
    "flyteconsole": (NS, {"app.kubernetes.io/name": "flyteconsole"}, {"kubernetes.io/metadata.name": NS}),
    "flytepropeller": (NS, {"app.kubernetes.io/name": "flytepropeller"}, {"kubernetes.io/metadata.name": NS}),
    "flytescheduler": (NS, {"app.kubernetes.io/name": "flytescheduler"}, {"kubernetes.io/metadata.name": NS}),
    "webhook": (NS, {"app.kubernetes.io/name": "flyte-pod-webhook"}, {"kubernetes.io/metadata.name": NS}),
    "other": ("default", {"app": "random"}, {"kubernetes.io/metadata.name": "default"}),
}
IPS = {"apiserver": APISERVER, "db": "10.1.0.5"}

# The intended matrix: every (source, destination, port) that must be allowed; all other pairs on these ports are denied.
INTENDED = {
    ("ingress", "flyteadmin", 8088), ("ingress", "flyteadmin", 8089), ("ingress", "flyteconsole", 8080),
    ("flytepropeller", "flyteadmin", 8089), ("flytescheduler", "flyteadmin", 8089),
    ("flytepropeller", "datacatalog", 8089), ("apiserver", "webhook", 9443),
    ("flyteadmin", "db", 5432), ("datacatalog", "db", 5432), ("flytescheduler", "db", 5432),
    ("flytepropeller", "apiserver", 443), ("flyteadmin", "apiserver", 443), ("webhook", "apiserver", 443),
}
PORTS = (8080, 8088, 8089, 9443, 5432, 443)


def _stored(cluster):
    out = json.loads(cluster.kubectl("get", "networkpolicies", "-A", "-o", "json").stdout)
    return [p for p in out["items"] if p["metadata"]["name"].startswith("flytesec-") and p["metadata"]["namespace"] == NS]


def test_matrix_rerun_and_check_mode(cluster, audit):
    install_flyte(cluster, "flyte-core", NS)
    extra = {"network_policies_namespace": NS,
             "network_policies_peers": {"apiserver_cidrs": ["%s/32" % APISERVER], "database_cidrs": ["10.1.0.0/24"]}}
    start = audit.mark()
    checked = run_playbook(PLAYBOOK, cluster.kubeconfig, extra, check=True)
    assert checked.rc == 0, checked.stdout[-3000:]
    assert checked.result("Default-deny NetworkPolicies")["changed"] is True
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []
    assert _stored(cluster) == []

    applied = run_playbook(PLAYBOOK, cluster.kubeconfig, extra)
    assert applied.rc == 0, applied.stdout[-3000:]
    policies = _stored(cluster)
    assert len(policies) == 9
    evaluator = PolicyEvaluator(policies, PODS, IPS)
    endpoints = list(PODS) + list(IPS)
    flows = set()
    for s in endpoints:
        for d in endpoints:
            for port in PORTS:
                # only flows that touch the Flyte namespace are the policies' business
                touches = (s in PODS and PODS[s][0] == NS) or (d in PODS and PODS[d][0] == NS)
                if s != d and touches and evaluator.allowed(s, d, port):
                    flows.add((s, d, port))
    assert flows == INTENDED, {"unexpected": sorted(flows - INTENDED), "missing": sorted(INTENDED - flows)}

    start = audit.mark()
    again = run_playbook(PLAYBOOK, cluster.kubeconfig, extra)
    assert again.rc == 0 and again.changed() == 0
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []


def test_bad_peer_key(cluster):
    install_flyte(cluster, "flyte-core", NS, fresh=False)
    bad = run_playbook(PLAYBOOK, cluster.kubeconfig, {"network_policies_namespace": NS, "network_policies_peers": {"dbcidrs": []}})
    assert bad.rc != 0 and "peers: unknown key(s) dbcidrs" in bad.result("Default-deny NetworkPolicies")["msg"]
