# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An independent reading of NetworkPolicy semantics, for tests that read the policies back from the API server.

The analyzer the issues name (np-guard's netpol-analyzer) is not served by the Go module proxy here
("github.com/np-guard/netpol-analyzer: ... This module version is not available"), so the allowed connections are
computed here, separately from the collection's builders: a pod selected by no policy of a direction is open in
that direction; otherwise a connection needs a matching rule both as egress of the source and as ingress of the
destination. TCP and UDP ports; named ports and endPort are not used by the policies under test.
"""
from __future__ import absolute_import, division, print_function

import ipaddress

__metaclass__ = type


class PolicyEvaluator:
    """``pods``: name -> (namespace, pod labels, namespace labels); ``ips``: name -> address of a non-pod endpoint."""

    def __init__(self, policies, pods, ips=None):
        self.policies, self.pods, self.ips = policies, pods, ips or {}

    @staticmethod
    def _labels_match(selector, labels):
        if selector is None:
            return False
        for key, value in (selector.get("matchLabels") or {}).items():
            if labels.get(key) != value:
                return False
        return not selector.get("matchExpressions")

    def _selecting(self, endpoint, direction):
        if endpoint not in self.pods:
            return []
        ns, labels, _nsl = self.pods[endpoint]
        return [p for p in self.policies if p["metadata"]["namespace"] == ns
                and direction in p["spec"].get("policyTypes", []) and self._labels_match(p["spec"].get("podSelector") or {}, labels)]

    def _in_block(self, block, endpoint):
        if endpoint not in self.ips:
            return False
        address = ipaddress.ip_address(self.ips[endpoint])
        if address not in ipaddress.ip_network(block["cidr"], strict=False):
            return False
        return not any(address in ipaddress.ip_network(e, strict=False) for e in block.get("except") or [])

    def _peer_match(self, peer, endpoint, policy_ns):
        if "ipBlock" in peer:
            return self._in_block(peer["ipBlock"], endpoint)
        if endpoint not in self.pods:
            return False
        ns, labels, ns_labels = self.pods[endpoint]
        if "namespaceSelector" in peer:
            if not self._labels_match(peer["namespaceSelector"], ns_labels):
                return False
        elif ns != policy_ns:
            return False
        return "podSelector" not in peer or self._labels_match(peer["podSelector"], labels)

    def _rule_allows(self, rule, key, other, port, protocol, policy_ns):
        ports = rule.get("ports")
        if ports and not any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports):
            return False
        peers = rule.get(key)
        return not peers or any(self._peer_match(peer, other, policy_ns) for peer in peers)

    def allowed(self, src, dst, port, protocol="TCP"):
        egress = self._selecting(src, "Egress")
        if egress and not any(self._rule_allows(r, "to", dst, port, protocol, p["metadata"]["namespace"])
                              for p in egress for r in p["spec"].get("egress") or []):
            return False
        ingress = self._selecting(dst, "Ingress")
        if ingress and not any(self._rule_allows(r, "from", src, port, protocol, p["metadata"]["namespace"])
                               for p in ingress for r in p["spec"].get("ingress") or []):
            return False
        return True
