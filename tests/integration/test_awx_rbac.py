# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 22: least privilege for the job's identity, shipped and proven, on the real local cluster.

- The role awx_rbac (playbooks/awx-rbac.yml) grants a ServiceAccount, user or group exactly awx/rbac/: check mode
  writes nothing, a run makes the Roles (Flyte and state namespace), the ClusterRole and the bindings, a second run
  and a check run change nothing, ``awx_rbac_state=absent`` takes them back.
- Every rule is needed: with any one rule of awx/rbac/role.yml or clusterrole.yml taken away (the whole rule), the
  harden job run as that ServiceAccount fails at its preflight (SelfSubjectAccessReview), naming exactly the
  permissions of that rule, and the audit log shows no write by it (dry runs aside).
- A restore needs exactly what it asks: with any one of the permissions restore.yml asks for taken away, the restore
  run as that ServiceAccount fails naming it, before any write and before any request it was refused; with all of
  them it puts the run back.
"""
from __future__ import absolute_import, division, print_function

import json
import time
import uuid
from pathlib import Path

import pytest
import yaml

from conftest import install_flyte, rolled_out, wait_for
from playbook import run_playbook

__metaclass__ = type

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AWX_RBAC = ROOT / "playbooks" / "awx-rbac.yml"
HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
RESTORE = ROOT / "playbooks" / "restore.yml"
ROLE = yaml.safe_load((ROOT / "awx" / "rbac" / "role.yml").read_text())
CLUSTER_ROLE = yaml.safe_load((ROOT / "awx" / "rbac" / "clusterrole.yml").read_text())
NS = "rbac-flyte"
STATE_NS = "rbac-state"
SA_NS = "rbac-jobs"
SA = "rbac-job"
SA_USER = "system:serviceaccount:%s:%s" % (SA_NS, SA)
ADMIN = "flytesec-admin"
NAME = "flytesec-rbac-test"   # the Role, ClusterRole and bindings of these tests (not the shipped name: no clash)
RBAC_VARS = {"awx_rbac_namespace": NS, "awx_rbac_subject_namespace": SA_NS, "awx_rbac_subject_name": SA,
             "awx_rbac_role_name": NAME, "awx_rbac_binding_name": NAME}
TEMPLATE = {"flytesec_namespace": NS, "flytesec_state_store": "cluster", "flytesec_check_access": True,
            "cors_admin_url": "https://flyte-api.example.test", "cors_console_origins": ["https://flyte.example.test"],
            "auth_public_url": "https://flyte-api.example.test", "auth_server": "internal",
            "auth_oidc": {"base_url": "https://idp.example.test/realms/flyte", "client_id": "flyteadmin"},
            "auth_oidc_client_secret": "oidc-%s" % uuid.uuid4().hex,
            "auth_propeller_client_secret": "propeller-%s" % uuid.uuid4().hex}


def _describe(group, resource, verb, namespace):
    """As module_utils/k8s/access.describe names a permission."""
    return "%s %s%s %s" % (verb, resource, "." + group if group else "", "in namespace %s" % namespace if namespace else "cluster-wide")


def _permissions(rule, namespace):
    return [_describe(g, r, v, namespace) for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]]


def _apply_rules(cluster, role_rules, cluster_rules):
    """The test's Role (in NS) and ClusterRole, with these rules."""
    role = dict(ROLE, metadata={"name": NAME, "namespace": NS}, rules=role_rules)
    cluster_role = dict(CLUSTER_ROLE, metadata={"name": NAME}, rules=cluster_rules)
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([role, cluster_role]))


def _allowed(kube, verb, resource, group, namespace):
    """SubjectAccessReview for the job's ServiceAccount (asked by the admin): what its own review will answer."""
    from kubernetes import client
    attributes = dict((k, v) for k, v in (("verb", verb), ("resource", resource), ("group", group), ("namespace", namespace)) if v)
    review = client.AuthorizationV1Api(kube).create_subject_access_review(client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(user=SA_USER, groups=["system:serviceaccounts", "system:authenticated"],
                                              resource_attributes=client.V1ResourceAttributes(**attributes))))
    return review.status.allowed


def _settled(kube, denied, granted):
    """Wait until the authorizer answers with the rules just applied (its caches follow the API within moments)."""
    wait_for(lambda: not any(_allowed(kube, *p) for p in denied) and all(_allowed(kube, *p) for p in granted),
             timeout=30, interval=0.2, message="RBAC to deny %s and grant %s" % (denied, granted))


def _items(rule, namespace):
    return [(v, r, g, namespace) for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]]


def _writes(audit, start, user):
    return [(e["verb"], e.get("objectRef")) for e in audit.events(since=start, user=user, writes=True, dry_run=False)]


@pytest.fixture(scope="module")
def flyte_ns(cluster, kube):
    install_flyte(cluster, "flyte-core", NS)
    wait_for(rolled_out(kube, NS), timeout=180, message="rollouts")
    yield NS
    cluster.kubectl("delete", "namespace", NS, STATE_NS, "--ignore-not-found", "--wait=false", check=False)


@pytest.fixture(scope="module")
def job(cluster, flyte_ns, tmp_path_factory):
    """The job's ServiceAccount, granted the shipped rules by awx-rbac.yml; its token kubeconfig. Taken back after."""
    granted = run_playbook(AWX_RBAC, cluster.kubeconfig, RBAC_VARS)
    assert granted.rc == 0, granted.stdout[-3000:]
    yield cluster.token_kubeconfig(SA_NS, SA, tmp_path_factory.mktemp("job") / "job.kubeconfig")
    taken = run_playbook(AWX_RBAC, cluster.kubeconfig, dict(RBAC_VARS, awx_rbac_state="absent"))
    assert taken.rc == 0, taken.stdout[-3000:]
    cluster.kubectl("delete", "namespace", SA_NS, "--ignore-not-found", "--wait=false", check=False)


def _objects(cluster, name):
    found = {}
    for kind, namespaces in (("role,rolebinding", (NS, STATE_NS)), ("clusterrole,clusterrolebinding", (None,))):
        for namespace in namespaces:
            args = ["get", kind, "--field-selector", "metadata.name=%s" % name, "-o", "json"]
            items = json.loads(cluster.kubectl(*(args + (["-n", namespace] if namespace else []))).stdout)["items"]
            for item in items:
                found["%s/%s" % (item["kind"], item["metadata"].get("namespace", "-"))] = item
    return found


def test_role_grants_the_shipped_rules_idempotently(cluster, kube, audit):
    """awx-rbac.yml with a state namespace of its own and a Group subject, then a ServiceAccount: check mode writes
    nothing, the run makes every object from the shipped files, a second run and a check run change nothing, absent
    takes them back."""
    name = "flytesec-rbac-role-test"
    cluster.kubectl("create", "namespace", STATE_NS, check=False)
    cluster.kubectl("create", "namespace", NS, check=False)
    variables = dict(RBAC_VARS, awx_rbac_state_namespace=STATE_NS, awx_rbac_role_name=name, awx_rbac_binding_name=name,
                     awx_rbac_subject_kind="Group", awx_rbac_subject_name="flytesec-jobs")
    try:
        start = audit.mark()
        checked = run_playbook(AWX_RBAC, cluster.kubeconfig, variables, check=True, diff=True)
        assert checked.rc == 0 and checked.changed() == 1, checked.stdout[-3000:]
        assert _writes(audit, start, ADMIN) == [] and _objects(cluster, name) == {}

        done = run_playbook(AWX_RBAC, cluster.kubeconfig, variables)
        assert done.rc == 0 and done.changed() == 1, done.stdout[-3000:]
        made = _objects(cluster, name)
        assert sorted(made) == ["ClusterRole/-", "ClusterRoleBinding/-", "Role/%s" % NS, "Role/%s" % STATE_NS,
                                "RoleBinding/%s" % NS, "RoleBinding/%s" % STATE_NS], sorted(made)
        for key, shipped in (("Role/%s" % NS, ROLE), ("Role/%s" % STATE_NS, ROLE), ("ClusterRole/-", CLUSTER_ROLE)):
            assert made[key]["rules"] == shipped["rules"], key
        for key in ("RoleBinding/%s" % NS, "RoleBinding/%s" % STATE_NS, "ClusterRoleBinding/-"):
            assert made[key]["subjects"] == [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "flytesec-jobs"}]
            assert made[key]["roleRef"]["name"] == name
        assert all(o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "flytesec.hardening" for o in made.values())

        start = audit.mark()
        again = run_playbook(AWX_RBAC, cluster.kubeconfig, variables)
        assert again.rc == 0 and again.changed() == 0, [t for t, r in again.tasks() if r.get("changed")]
        rechecked = run_playbook(AWX_RBAC, cluster.kubeconfig, variables, check=True)
        assert rechecked.rc == 0 and rechecked.changed() == 0
        unchanged = _objects(cluster, name)
        assert dict((k, o["metadata"]["resourceVersion"]) for k, o in unchanged.items()) == \
            dict((k, o["metadata"]["resourceVersion"]) for k, o in made.items())

        # the same objects for a ServiceAccount the role creates: the bindings' subject changes, nothing else
        sa_vars = dict(variables, awx_rbac_subject_kind="ServiceAccount", awx_rbac_subject_name="rbac-role-job")
        switched = run_playbook(AWX_RBAC, cluster.kubeconfig, sa_vars)
        assert switched.rc == 0, switched.stdout[-3000:]
        subjects = [o["subjects"] for o in _objects(cluster, name).values() if "subjects" in o]
        assert subjects == [[{"kind": "ServiceAccount", "name": "rbac-role-job", "namespace": SA_NS}]] * 3, subjects
        assert cluster.kubectl("-n", SA_NS, "get", "serviceaccount", "rbac-role-job").returncode == 0
        assert cluster.kubectl("auth", "can-i", "update", "leases.coordination.k8s.io", "-n", STATE_NS,
                               "--as", "system:serviceaccount:%s:rbac-role-job" % SA_NS).stdout.strip() == "yes"

        gone = run_playbook(AWX_RBAC, cluster.kubeconfig, dict(sa_vars, awx_rbac_state="absent"))
        assert gone.rc == 0 and gone.changed() == 1 and _objects(cluster, name) == {}
        assert cluster.kubectl("-n", SA_NS, "get", "serviceaccount", "rbac-role-job", check=False).returncode != 0
        assert run_playbook(AWX_RBAC, cluster.kubeconfig, dict(sa_vars, awx_rbac_state="absent")).changed() == 0
    finally:
        run_playbook(AWX_RBAC, cluster.kubeconfig, dict(variables, awx_rbac_state="absent"))


def _rules_without():
    """(label, role rules, cluster role rules, the rule taken away) for every rule of the shipped files."""
    cases = []
    for index, rule in enumerate(ROLE["rules"]):
        cases.append(("role.yml rule %d (%s)" % (index, ",".join(rule["resources"])),
                      ROLE["rules"][:index] + ROLE["rules"][index + 1:], CLUSTER_ROLE["rules"], rule, NS))
    for index, rule in enumerate(CLUSTER_ROLE["rules"]):
        cases.append(("clusterrole.yml rule %d (%s)" % (index, ",".join(rule["resources"])),
                      ROLE["rules"], CLUSTER_ROLE["rules"][:index] + CLUSTER_ROLE["rules"][index + 1:], rule, None))
    return cases


def test_every_rule_is_needed_by_the_preflight(cluster, kube, audit, job):
    """One rule taken away at a time: the harden job as the job's ServiceAccount fails at the preflight naming exactly
    the permissions of that rule (asked with SelfSubjectAccessReview), and writes nothing."""
    total = len(ROLE["rules"]) + len(CLUSTER_ROLE["rules"])
    cases = _rules_without()
    assert len(cases) == total
    previous = []
    timings = []
    try:
        for label, role_rules, cluster_rules, removed, namespace in cases:
            _apply_rules(cluster, role_rules, cluster_rules)
            _settled(kube, _items(removed, namespace), previous)
            previous = _items(removed, namespace)
            start = audit.mark()
            began = time.monotonic()
            run = run_playbook(HARDEN, job, TEMPLATE)
            timings.append(time.monotonic() - began)
            assert run.rc != 0, "%s: the harden job passed without it" % label
            preflight = run.result("Preflight")
            wanted = _permissions(removed, namespace)
            assert preflight.get("failed") and sorted(preflight["access_denied"]) == sorted(wanted), (label, preflight.get("msg"))
            assert "SelfSubjectAccessReview" in preflight["msg"], preflight["msg"]
            assert all("cannot %s" % p in preflight["msg"] for p in wanted), (label, preflight["msg"])
            assert _writes(audit, start, SA_USER) == [], (label, _writes(audit, start, SA_USER))
            reviews = audit.events(since=start, user=SA_USER, resource="selfsubjectaccessreviews")
            assert reviews and all("dryRun=All" in e["requestURI"] for e in reviews), label
            print("%s: refused at the preflight naming %s" % (label, ", ".join(wanted)))
    finally:
        _apply_rules(cluster, ROLE["rules"], CLUSTER_ROLE["rules"])
    print("%d rules, each needed: one harden run per rule, %.1f s on average" % (total, sum(timings) / len(timings)))


def _role_without(permission):
    """The shipped Role's rules without the one ``(verb, resource, group)`` of ``permission``."""
    verb, resource, group = permission
    rules = []
    for rule in ROLE["rules"]:
        if group not in rule["apiGroups"] or resource not in rule["resources"] or verb not in rule["verbs"]:
            rules.append(rule)
            continue
        others = [r for r in rule["resources"] if r != resource]
        if others:
            rules.append(dict(rule, resources=others))
        verbs = [v for v in rule["verbs"] if v != verb]
        if verbs:
            rules.append(dict(rule, resources=[resource], verbs=verbs))
    return rules


def _parse(text):
    """``verb resource.group in namespace NS`` -> (verb, resource, group, namespace)."""
    verb, what, rest = text.split(" ", 2)
    resource, _dot, group = what.partition(".")
    return verb, resource, group, rest[len("in namespace "):] if rest.startswith("in namespace ") else None


def test_restore_fails_naming_each_permission_it_lacks_before_any_write(cluster, kube, audit, job):
    """A run hardened by the admin, with its backups in the cluster; restore.yml as the job's ServiceAccount with one
    of the permissions the restore asks for taken away: it fails naming that one, with no write and no request
    refused; with all of them, it puts the run back."""
    run_id = "rbac-%s" % uuid.uuid4().hex[:8]
    hardened = run_playbook(HARDEN, cluster.kubeconfig, dict(TEMPLATE, flytesec_run_id=run_id))
    assert hardened.rc == 0, hardened.stdout[-3000:]
    wait_for(rolled_out(kube, NS), timeout=180, message="rollouts after the harden run")
    restore_vars = {"flytesec_run_id": run_id, "flytesec_state_store": "cluster", "flytesec_namespace": NS}

    planned = run_playbook(RESTORE, cluster.kubeconfig, restore_vars, check=True)
    assert planned.rc == 0, planned.stdout[-3000:]
    asked = planned.result("Restore every object")["permissions"]
    for needed in ("list secrets", "get namespaces", "patch namespaces", "patch configmaps", "patch deployments.apps",
                   "delete leases.coordination.k8s.io"):
        assert "%s in namespace %s" % (needed, NS) in asked, asked
    previous = []
    try:
        for permission in asked:
            verb, resource, group, namespace = _parse(permission)
            assert namespace == NS, permission
            _apply_rules(cluster, _role_without((verb, resource, group)), CLUSTER_ROLE["rules"])
            _settled(kube, [(verb, resource, group, NS)], previous)
            previous = [(verb, resource, group, NS)]
            start = audit.mark()
            denied = run_playbook(RESTORE, job, restore_vars)
            assert denied.rc != 0, "restore passed without %s" % permission
            result = denied.result("Restore every object")
            assert result["access_denied"] == [permission], (permission, result.get("msg"))
            assert "restore preflight" in result["msg"] and "cannot %s" % permission in result["msg"], result["msg"]
            assert "SelfSubjectAccessReview" in result["msg"] and result["restored"] == [] and result["deleted"] == []
            assert _writes(audit, start, SA_USER) == [], (permission, _writes(audit, start, SA_USER))
            refused = audit.events(since=start, user=SA_USER, code=403)
            assert refused == [], (permission, [(e["verb"], e.get("objectRef")) for e in refused])
            print("restore without %s: refused at its preflight" % permission)
        _apply_rules(cluster, ROLE["rules"], CLUSTER_ROLE["rules"])
        _settled(kube, [], previous)
        start = audit.mark()
        restored = run_playbook(RESTORE, job, restore_vars)
        assert restored.rc == 0, restored.stdout[-3000:]
        result = restored.result("Restore every object")
        assert result["permissions"] == asked and result["restored"], result
        assert "Lease/%s/flytesec-hardening" % NS in result["deleted"], result
        assert audit.events(since=start, user=SA_USER, code=403) == []
        assert _writes(audit, start, SA_USER)
    finally:
        _apply_rules(cluster, ROLE["rules"], CLUSTER_ROLE["rules"])
    print("restore of run %s: %d permissions asked, each needed" % (run_id, len(asked)))
