# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""netpol builders: nothing opened that is not asked for."""
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import netpol


def test_core_policies_without_peers_open_no_egress_to_outside():
    policies = dict((p["metadata"]["name"], p) for p in netpol.build("flyte", "flyte-core"))
    assert policies["flytesec-default-deny"]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert policies["flytesec-flyteadmin"]["spec"]["egress"] == []  # no database/object store/API peer given
    assert policies["flytesec-flyte-pod-webhook"]["spec"]["ingress"] == []  # no API server CIDR given


def test_binary_and_projects():
    policies = netpol.build("flyte", "flyte-binary", {"database_cidrs": ["10.0.0.0/24"]}, "flyte-flyte-binary")
    binary = [p for p in policies if p["metadata"]["name"] == "flytesec-flyte-flyte-binary"][0]
    assert binary["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]
    names = [p["metadata"]["name"] for p in netpol.project_policies("p-d")]
    assert names == ["flytesec-default-deny", "flytesec-allow-dns", "flytesec-object-store"]


def test_comparable_ignores_empty_lists():
    assert netpol.comparable({"ingress": [], "podSelector": {}}) == netpol.comparable({})
