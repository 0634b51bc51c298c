# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkPolicies for a Flyte namespace: default deny, DNS, then one policy per component (pure builders).

NetworkPolicy matches pod ports after Service translation, so the ports here are the containers' (flyteadmin
8088/8089, datacatalog 8089, flyteconsole 8080, the pod webhook 9443; flyte-binary 8088/8089/9443). Every
peer is a parameter; nothing is opened wider than asked: an empty peer list opens nothing.

flyte_network_policies writes them through module_utils/k8s/objects.py (``EXACT``: a policy's spec is compared whole).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress

from ansible_collections.flytesec.hardening.plugins.module_utils import inputs

from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import objects

LABEL = "app.kubernetes.io/name"
MANAGED = {"app.kubernetes.io/managed-by": "flytesec.hardening"}
# Fields compared whole when a live policy is checked against the built one (objects.plan's ``exact``).
EXACT = ("spec",)
DEFAULTS = {
    "ingress_namespace_labels": {"kubernetes.io/metadata.name": "ingress-nginx"},
    "monitoring_namespace_labels": None,
    "apiserver_cidrs": [],
    "database_cidrs": [],
    "database_port": 5432,
    "object_store_cidrs": [],
    "object_store_ports": [443],
    "in_cluster_object_store": None,   # {"namespace_labels": {...}, "pod_labels": {...}, "port": 9000}
    "idp_cidrs": [],
    "dns_namespace_labels": {"kubernetes.io/metadata.name": "kube-system"},
    "dns_pod_labels": {"k8s-app": "kube-dns"},
    # task pods in project namespaces
    "allow_same_namespace": False,
    "allow_internet": False,
}


def check_peers(peers):
    """Why ``peers`` (the module option) is wrong, as a message naming it, or None: CIDRs must parse (the API server
    refuses a NetworkPolicy with a bad ipBlock half way through a run), ports must be 1-65535, labels dicts."""
    if not isinstance(peers, dict):
        return "peers: must be a dict, got %s" % type(peers).__name__
    unknown = sorted(set(peers) - set(DEFAULTS))
    if unknown:
        return "peers: unknown key(s) %s; valid: %s" % (", ".join(unknown), ", ".join(sorted(DEFAULTS)))
    for key, value in sorted(peers.items()):
        if key.endswith("_cidrs"):
            if not isinstance(value, list):
                return "peers.%s: must be a list of CIDRs" % key
            for cidr in value:
                try:
                    ipaddress.ip_network(u"%s" % cidr, strict=False)
                    if "/" not in str(cidr):
                        raise ValueError("no prefix length")
                except ValueError as exc:
                    return "peers.%s: %s is not a CIDR (%s)" % (key, inputs.show(cidr), exc)
        elif key.endswith("_port") or key.endswith("_ports"):
            for port in value if isinstance(value, list) else [value]:
                if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                    return "peers.%s: %s is not a port (1-65535)" % (key, inputs.show(port))
        elif key.endswith("_labels") and value is not None and not isinstance(value, dict):
            return "peers.%s: must be a dict of labels" % key
    return None


def _pods(name):
    return {"podSelector": {"matchLabels": {LABEL: name}}}


def _ports(ports, protocol="TCP"):
    return [{"protocol": protocol, "port": p} for p in ports]


def _cidrs(cidrs):
    return [{"ipBlock": {"cidr": c}} for c in cidrs]


def _policy(namespace, name, selector, ingress=None, egress=None):
    types = []
    spec = {"podSelector": selector}
    if ingress is not None:
        types.append("Ingress")
        spec["ingress"] = ingress
    if egress is not None:
        types.append("Egress")
        spec["egress"] = egress
    spec["policyTypes"] = types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(MANAGED)}, "spec": spec}


def options(params):
    opts = dict(DEFAULTS)
    opts.update(dict((k, v) for k, v in (params or {}).items() if v is not None))
    return opts


def build(namespace, layout, params=None, fullname=None, apiserver_endpoints=None):
    """The NetworkPolicies of a Flyte namespace, sorted by name."""
    o = options(params)
    policies = [
        _policy(namespace, "flytesec-default-deny", {}, ingress=[], egress=[]),
        _policy(namespace, "flytesec-allow-dns", {}, egress=[{
            "to": [{"namespaceSelector": {"matchLabels": o["dns_namespace_labels"]},
                    "podSelector": {"matchLabels": o["dns_pod_labels"]}}],
            "ports": _ports([53], "UDP") + _ports([53])}]),
    ]
    ingress_peer = [{"namespaceSelector": {"matchLabels": o["ingress_namespace_labels"]}}] if o["ingress_namespace_labels"] else []
    api_peers = _cidrs(o["apiserver_cidrs"] or ["%s/32" % ip for ip, _p in apiserver_endpoints or []])
    api_ports = sorted(set([443] + [p for _ip, p in apiserver_endpoints or []]))
    store = _cidrs(o["object_store_cidrs"])
    store_rules = [{"to": store, "ports": _ports(o["object_store_ports"])}] if store else []
    in_cluster = o["in_cluster_object_store"]
    if in_cluster:
        store_rules.append({"to": [{"namespaceSelector": {"matchLabels": in_cluster["namespace_labels"]},
                                    "podSelector": {"matchLabels": in_cluster["pod_labels"]}}],
                            "ports": _ports([in_cluster.get("port", 9000)])})
    db_rules = [{"to": _cidrs(o["database_cidrs"]), "ports": _ports([o["database_port"]])}] if o["database_cidrs"] else []
    api_rules = [{"to": api_peers, "ports": _ports(api_ports)}] if api_peers else []
    idp_rules = [{"to": _cidrs(o["idp_cidrs"]), "ports": _ports([443])}] if o["idp_cidrs"] else []
    webhook_from = [{"from": _cidrs(o["apiserver_cidrs"]), "ports": _ports([9443])}] if o["apiserver_cidrs"] else []
    metrics_from = []
    if o["monitoring_namespace_labels"]:
        metrics_from = [{"from": [{"namespaceSelector": {"matchLabels": o["monitoring_namespace_labels"]}}],
                         "ports": _ports([10254])}]

    if layout == "flyte-binary":
        name = fullname or "flyte-flyte-binary"
        selector = {"matchLabels": {LABEL: "flyte-binary"}}
        ingress = ([{"from": ingress_peer, "ports": _ports([8088, 8089])}] if ingress_peer else []) + webhook_from + metrics_from
        # The binary talks to itself (propeller -> admin, datacatalog) over localhost: no policy needed.
        policies.append(_policy(namespace, "flytesec-%s" % name, selector, ingress=ingress,
                                egress=db_rules + store_rules + api_rules + idp_rules))
        return sorted(policies, key=lambda p: p["metadata"]["name"])

    admin_clients = [_pods("flytepropeller"), _pods("flytescheduler"), _pods("syncresources")]
    policies += [
        _policy(namespace, "flytesec-flyteadmin", _pods("flyteadmin")["podSelector"],
                ingress=([{"from": ingress_peer, "ports": _ports([8088, 8089])}] if ingress_peer else []) +
                [{"from": admin_clients, "ports": _ports([8089])}] + metrics_from,
                egress=db_rules + store_rules + api_rules + idp_rules),
        _policy(namespace, "flytesec-datacatalog", _pods("datacatalog")["podSelector"],
                ingress=[{"from": [_pods("flytepropeller")], "ports": _ports([8089])}] + metrics_from,
                egress=db_rules + store_rules),
        _policy(namespace, "flytesec-flyteconsole", _pods("flyteconsole")["podSelector"],
                ingress=[{"from": ingress_peer, "ports": _ports([8080])}] if ingress_peer else [], egress=[]),
        _policy(namespace, "flytesec-flytepropeller", _pods("flytepropeller")["podSelector"],
                ingress=list(metrics_from),
                egress=[{"to": [_pods("flyteadmin"), _pods("datacatalog")], "ports": _ports([8089])}] +
                store_rules + api_rules),
        _policy(namespace, "flytesec-flytescheduler", _pods("flytescheduler")["podSelector"],
                ingress=list(metrics_from),
                egress=[{"to": [_pods("flyteadmin")], "ports": _ports([8089])}] + db_rules),
        _policy(namespace, "flytesec-syncresources", _pods("syncresources")["podSelector"],
                ingress=list(metrics_from), egress=[{"to": [_pods("flyteadmin")], "ports": _ports([8089])}] + db_rules + api_rules),
        _policy(namespace, "flytesec-flyte-pod-webhook", _pods("flyte-pod-webhook")["podSelector"],
                ingress=webhook_from + metrics_from, egress=api_rules),
    ]
    return sorted(policies, key=lambda p: p["metadata"]["name"])


def project_policies(namespace, params=None):
    """Task pods in a project namespace: default deny, DNS, the object store; then, as asked, Flyte's services
    (``flyte_namespace``: flyteadmin and datacatalog, or flyte-binary), pods of the same namespace
    (``allow_same_namespace``: distributed tasks) and the internet (``allow_internet``: public addresses only; private
    ranges and the link-local metadata address stay closed)."""
    o = options(params)
    store = _cidrs(o["object_store_cidrs"])
    rules = [{"to": store, "ports": _ports(o["object_store_ports"])}] if store else []
    if o["in_cluster_object_store"]:
        s = o["in_cluster_object_store"]
        rules.append({"to": [{"namespaceSelector": {"matchLabels": s["namespace_labels"]},
                              "podSelector": {"matchLabels": s["pod_labels"]}}], "ports": _ports([s.get("port", 9000)])})
    policies = [
        _policy(namespace, "flytesec-default-deny", {}, ingress=[], egress=[]),
        _policy(namespace, "flytesec-allow-dns", {}, egress=[{
            "to": [{"namespaceSelector": {"matchLabels": o["dns_namespace_labels"]},
                    "podSelector": {"matchLabels": o["dns_pod_labels"]}}],
            "ports": _ports([53], "UDP") + _ports([53])}]),
        _policy(namespace, "flytesec-object-store", {}, egress=rules),
    ]
    flyte_ns = o.get("flyte_namespace")
    if flyte_ns:
        in_flyte = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": flyte_ns}}}
        if o.get("flyte_layout") == "flyte-binary":
            to = [{"to": [dict(in_flyte, podSelector={"matchLabels": {LABEL: "flyte-binary"}})], "ports": _ports([8088, 8089])}]
        else:
            to = [{"to": [dict(in_flyte, podSelector={"matchLabels": {LABEL: "flyteadmin"}})], "ports": _ports([8088, 8089])},
                  {"to": [dict(in_flyte, podSelector={"matchLabels": {LABEL: "datacatalog"}})], "ports": _ports([8089])}]
        policies.append(_policy(namespace, "flytesec-allow-flyte", {}, egress=to))
    if o.get("allow_same_namespace"):
        policies.append(_policy(namespace, "flytesec-allow-same-namespace", {}, ingress=[{"from": [{"podSelector": {}}]}],
                                egress=[{"to": [{"podSelector": {}}]}]))
    if o.get("allow_internet"):
        policies.append(_policy(namespace, "flytesec-allow-internet", {}, egress=[{"to": [{"ipBlock": {
            "cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]}}]}]))
    return policies


def comparable(value):
    """``value`` without empty lists and mappings (the API server drops some of them), for comparison."""
    return objects.without_empty(value)
