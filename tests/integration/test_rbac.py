# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""flyte_rbac on the real API server, judged by SubjectAccessReview (issue 10)."""
from __future__ import absolute_import, division, print_function

from pathlib import Path

import pytest

from conftest import install_flyte
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration
PLAYBOOK = Path(__file__).resolve().parent / "playbooks" / "rbac.yml"
ADMIN = "flytesec-admin"
NS = "rbac-core"
PROJECT = "flytesnacks-development"


def allowed(kube, user, verb, resource, namespace=None, group="", subresource=""):
    review = client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
        user=user, groups=["system:serviceaccounts", "system:serviceaccounts:%s" % NS, "system:authenticated"],
        resource_attributes=client.V1ResourceAttributes(verb=verb, resource=resource, namespace=namespace, group=group,
                                                        subresource=subresource)))
    return client.AuthorizationV1Api(kube).create_subject_access_review(review).status.allowed


def test_propeller_least_privilege(cluster, kube, audit):
    install_flyte(cluster, "flyte-core", NS)
    propeller = "system:serviceaccount:%s:flytepropeller" % NS
    admin = "system:serviceaccount:%s:flyteadmin" % NS
    # Upstream: the wildcard rule reads Secrets anywhere.
    assert allowed(kube, propeller, "get", "secrets", "kube-system")
    result = run_playbook(PLAYBOOK, cluster.kubeconfig, {"rbac_namespace": NS})
    assert result.rc == 0, result.stdout[-3000:]
    assert result.result("Least-privilege RBAC")["changed_roles"] == ["ClusterRole/flyte-flytepropeller", "ClusterRole/flyte-flyte-pod-webhook",
                                                                      "ClusterRole/flyte-flyteadmin"]
    # What propeller needs, still allowed.
    assert allowed(kube, propeller, "create", "pods", PROJECT)
    assert allowed(kube, propeller, "create", "events", PROJECT)
    assert allowed(kube, propeller, "update", "flyteworkflows", PROJECT, group="flyte.lyft.com")
    assert allowed(kube, propeller, "list", "namespaces")
    # What it must not do.
    assert not allowed(kube, propeller, "get", "secrets", "kube-system")
    assert not allowed(kube, propeller, "create", "clusterrolebindings", group="rbac.authorization.k8s.io")
    assert not allowed(kube, propeller, "update", "rolebindings", "kube-system", group="rbac.authorization.k8s.io")
    # flyteadmin keeps its CRUD but loses escalate and bind.
    assert allowed(kube, admin, "create", "rolebindings", PROJECT, group="rbac.authorization.k8s.io")
    assert not allowed(kube, admin, "escalate", "roles", PROJECT, group="rbac.authorization.k8s.io")
    assert not allowed(kube, admin, "bind", "roles", PROJECT, group="rbac.authorization.k8s.io")

    start = audit.mark()
    again = run_playbook(PLAYBOOK, cluster.kubeconfig, {"rbac_namespace": NS})
    assert again.rc == 0 and again.changed() == 0
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []


def test_check_mode_and_bad_input(cluster, kube, audit):
    install_flyte(cluster, "flyte-core", NS)
    start = audit.mark()
    checked = run_playbook(PLAYBOOK, cluster.kubeconfig, {"rbac_namespace": NS}, check=True, diff=True)
    assert checked.rc == 0 and checked.result("Least-privilege RBAC")["changed"] is True
    assert audit.events(since=start, writes=True, dry_run=False, user=ADMIN) == []
    assert allowed(kube, "system:serviceaccount:%s:flytepropeller" % NS, "get", "secrets", "kube-system")
    bad = run_playbook(PLAYBOOK, cluster.kubeconfig, {"rbac_namespace": NS, "rbac_task_plugins": ["sparkz"]})
    assert bad.rc != 0 and "task_plugins: unknown plugin 'sparkz'" in bad.result("Least-privilege RBAC")["msg"]
