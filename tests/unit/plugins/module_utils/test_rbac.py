# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rbac: the upstream flyte-core roles have the wildcard rules the module removes."""
import pytest

import upstream_manifests as um
from ansible_collections.flytesec.hardening.plugins.module_utils import rbac


def test_upstream_propeller_and_admin_findings():
    docs = um.load(um.CORE)
    bindings = [d for d in docs if d.get("kind") in ("ClusterRoleBinding", "RoleBinding")]
    roles = dict(((d["kind"], d["metadata"]["name"]), d) for d in docs if d.get("kind") in ("ClusterRole", "Role"))
    by_sa = {}
    for sa in ("flytepropeller", "flyteadmin"):
        by_sa[sa] = [roles[(k, n)] for k, n, _b in rbac.bound_roles(bindings, "flyte", sa) if (k, n) in roles]
    found = rbac.findings(by_sa)
    assert any(f["service_account"] == "flytepropeller" and rbac.is_wildcard(f["rule"]) for f in found)
    assert any(f["service_account"] == "flyteadmin" and "*" in f["rule"]["verbs"] for f in found)
    narrowed = rbac.narrow_verbs(by_sa["flyteadmin"][0]["rules"])
    assert all("*" not in r["verbs"] for r in narrowed)


def test_plugin_rules_and_normalized():
    assert rbac.plugin_rules(["spark"])[0]["resources"] == ["sparkapplications"]
    with pytest.raises(rbac.RbacError, match="task_plugins"):
        rbac.plugin_rules(["nope"])
    assert rbac.normalized([{"verbs": ["get", "list"], "resources": ["a"]}]) == \
        rbac.normalized([{"resources": ["a"], "verbs": ["list", "get"]}])
