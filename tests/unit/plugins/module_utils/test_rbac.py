# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""rbac: the upstream flyte-core roles have the wildcard rules the module removes."""
import pytest

import upstream_manifests as um
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import rbac


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


# ---- the role plan of flyte_rbac ----
def _roles_by_sa(docs=None, service_accounts=("flytepropeller", "flyteadmin", "flyte-pod-webhook", "datacatalog",
                                              "flytescheduler")):
    docs = docs or um.load(um.CORE)
    bindings = [d for d in docs if d.get("kind") in ("ClusterRoleBinding", "RoleBinding")]
    roles = dict(((d["kind"], d["metadata"]["name"]), d) for d in docs if d.get("kind") in ("ClusterRole", "Role"))
    return dict((sa, [roles[(k, n)] for k, n, _b in rbac.bound_roles(bindings, "flyte", sa) if (k, n) in roles])
                for sa in service_accounts)


OTHERS = ["flyte-pod-webhook", "datacatalog", "flytescheduler"]


def test_plan_roles_on_upstream_flyte_core():
    import copy
    by_sa = _roles_by_sa()
    before = copy.deepcopy(by_sa)
    plans = rbac.plan_roles(by_sa, "flytepropeller", "flyteadmin", OTHERS, rbac.propeller_rules(["spark"]))
    assert ["%s/%s" % (p.kind, p.name) for p in plans] == [
        "ClusterRole/flyte-flytepropeller", "ClusterRole/flyte-flyte-pod-webhook", "ClusterRole/flyte-flyteadmin"]
    propeller, webhook, admin = plans
    assert not any(rbac.is_wildcard(r) for r in propeller.rules)
    assert {"apiGroups": ["sparkoperator.k8s.io"], "resources": ["sparkapplications"], "verbs": rbac.PLUGIN_VERBS} in propeller.rules
    assert all("*" not in (r.get("apiGroups") or []) for r in webhook.rules)
    assert all("*" not in r["verbs"] for r in admin.rules)
    assert by_sa == before   # pure: the roles as read are not changed
    after = rbac.roles_after(by_sa, plans)
    assert rbac.findings(after) == [] and by_sa == before
    assert rbac.diff(admin)["before"]["rules"] == admin.role["rules"] and rbac.diff(admin)["after"]["rules"] == admin.rules


def test_plan_roles_leaves_out_what_already_holds_the_rules_and_plans_a_shared_role_once():
    by_sa = _roles_by_sa()
    plans = rbac.plan_roles(by_sa, "flytepropeller", "flyteadmin", OTHERS)
    again = rbac.plan_roles(rbac.roles_after(by_sa, plans), "flytepropeller", "flyteadmin", OTHERS)
    assert again == []
    assert [p.name for p in rbac.plan_roles(by_sa, "flytepropeller", "flyteadmin", OTHERS, narrow_admin=False)] == [
        "flyte-flytepropeller", "flyte-flyte-pod-webhook"]
    # propeller's role also bound to flyteadmin: planned once, by propeller's rules
    shared = dict(by_sa, flyteadmin=by_sa["flytepropeller"])
    plans = rbac.plan_roles(shared, "flytepropeller", "flyteadmin", [])
    assert [p.name for p in plans] == ["flyte-flytepropeller"]


@pytest.mark.parametrize("rule,message", [
    ({"resources": ["pods"]}, "extra_rules[0]: a rule needs verbs and resources"),
    ({"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]}, "extra_rules[0]: wildcard apiGroups/resources"),
])
def test_propeller_rules_validate_extra_rules(rule, message):
    with pytest.raises(rbac.RbacError, match=message.replace("[", r"\[").replace("]", r"\]")):
        rbac.propeller_rules([], [rule])
    extra = {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get"]}
    assert rbac.propeller_rules([], [extra])[-1] == extra
