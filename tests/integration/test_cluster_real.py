# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local cluster is a real Kubernetes control plane, not a mock.

Real kube-apiserver admission (PodSecurity), RBAC, static-token and ServiceAccount authentication,
real Deployment/ReplicaSet controllers and scheduler (pods on kwok's fake nodes become Running),
and an audit log that shows what a test did.
"""
from __future__ import absolute_import, division, print_function

import datetime
import json
import time
import uuid

import pytest
import yaml
from k8s_audit import is_dry_run, summary

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402

pytestmark = pytest.mark.integration

ADMIN = "flytesec-admin"  # CN of the admin client certificate (group system:masters)
DEV = "dev"               # static token user without rights of its own


def _pod(name, compliant):
    container = client.V1Container(name="app", image="busybox:1.36", command=["sleep", "3600"])
    spec = client.V1PodSpec(containers=[container])
    if compliant:
        spec.security_context = client.V1PodSecurityContext(
            run_as_non_root=True, run_as_user=1000, seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"))
        container.security_context = client.V1SecurityContext(
            allow_privilege_escalation=False, capabilities=client.V1Capabilities(drop=["ALL"]))
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=spec)


def wait_for(predicate, timeout=60.0, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out after %ss waiting for %s" % (timeout, message)
        time.sleep(0.5)


def _token_client(kubeconfig, token):
    """An ApiClient for the cluster of ``kubeconfig`` that authenticates with a bearer ``token``."""
    with open(str(kubeconfig)) as handle:
        cluster = yaml.safe_load(handle)["clusters"][0]["cluster"]
    conf = client.Configuration()
    conf.host = cluster["server"]
    conf.ssl_ca_cert = cluster["certificate-authority"]
    conf.api_key = {"authorization": "Bearer " + token}
    return client.ApiClient(conf)


def _whoami(api):
    review = client.AuthenticationV1Api(api).create_self_subject_review(
        client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview"))
    return review.status.user_info.username


def _ts(value):
    """An audit timestamp (RFC 3339, UTC, microseconds) as an aware datetime."""
    return datetime.datetime.strptime(value.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)


def _status(call):
    try:
        call()
    except ApiException as exc:
        return exc.status
    return 200


def test_real_apiserver_and_nodes(cluster, kube):
    version = client.VersionApi(kube).get_code()
    assert version.git_version.startswith("v1.34."), version.git_version
    assert cluster.server.startswith("https://127.0.0.1:")
    nodes = client.CoreV1Api(kube).list_node().items
    assert nodes, "no nodes"
    for node in nodes:
        ready = [c for c in node.status.conditions if c.type == "Ready"]
        assert ready and ready[0].status == "True", node.metadata.name
        assert not node.spec.taints, "node %s is tainted: %s" % (node.metadata.name, node.spec.taints)
    assert _whoami(kube) == ADMIN


def test_pod_security_restricted_rejects_and_admits(kube, scratch_namespace, audit):
    core = client.CoreV1Api(kube)
    ns = scratch_namespace
    core.patch_namespace(ns, {"metadata": {"labels": {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest"}}})

    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod(ns, _pod("bad", compliant=False))
    assert err.value.status == 403
    message = json.loads(err.value.body)["message"]
    assert 'violates PodSecurity "restricted:latest"' in message
    for reason in ("allowPrivilegeEscalation", "runAsNonRoot", "seccompProfile"):
        assert reason in message
    assert _status(lambda: core.read_namespaced_pod("bad", ns)) == 404

    core.create_namespaced_pod(ns, _pod("good", compliant=True))

    def running():
        pod = core.read_namespaced_pod("good", ns)
        ready = [c for c in (pod.status.conditions or []) if c.type == "Ready" and c.status == "True"]
        return pod if pod.status.phase == "Running" and ready else None
    pod = wait_for(running, timeout=90, message="pod good Running/Ready")
    assert pod.spec.node_name.startswith("kwok-node-")  # placed by kube-scheduler
    assert pod.spec.service_account_name == "default"   # ServiceAccount admission

    rejected = audit.wait(verbs="create", resource="pods", subresource="", namespace=ns, name="bad", user=ADMIN)
    assert [e["responseStatus"]["code"] for e in rejected] == [403], summary(rejected)
    admitted = audit.wait(verbs="create", resource="pods", subresource="", namespace=ns, name="good", user=ADMIN)
    assert [e["responseStatus"]["code"] for e in admitted] == [201], summary(admitted)
    # The scheduler bound it, under its own identity.
    bound = audit.wait(verbs="create", resource="pods/binding", namespace=ns, name="good")
    assert [e["user"]["username"] for e in bound] == ["system:kube-scheduler"], summary(bound)


def test_rollout_restart_creates_new_replicaset_and_completes(cluster, kube, flyte, audit):
    apps = client.AppsV1Api(kube)
    ns = flyte.core_ns

    def replicasets():
        return {rs.metadata.name: rs for rs in apps.list_namespaced_replica_set(ns).items
                if any(o.kind == "Deployment" and o.name == "flyteadmin" for o in rs.metadata.owner_references or [])}
    before = replicasets()
    assert before, "flyteadmin has no ReplicaSet"

    cluster.kubectl("rollout", "restart", "deployment/flyteadmin", "-n", ns)
    cluster.kubectl("rollout", "status", "deployment/flyteadmin", "-n", ns, "--timeout=180s")

    after = replicasets()
    new = [rs for name, rs in after.items() if name not in before]
    assert len(new) == 1, "expected one new ReplicaSet, got %s" % sorted(after)
    new = new[0]
    dep = apps.read_namespaced_deployment("flyteadmin", ns)
    assert "kubectl.kubernetes.io/restartedAt" in (dep.spec.template.metadata.annotations or {})
    assert dep.status.observed_generation >= dep.metadata.generation
    assert dep.status.updated_replicas == dep.spec.replicas == dep.status.available_replicas
    assert new.status.ready_replicas == dep.spec.replicas
    for name, rs in after.items():
        if name != new.metadata.name:
            assert rs.spec.replicas == 0, "old ReplicaSet %s still has %s replicas" % (name, rs.spec.replicas)
    pods = client.CoreV1Api(kube).list_namespaced_pod(
        ns, label_selector="pod-template-hash=%s" % new.metadata.labels["pod-template-hash"]).items
    assert len(pods) == dep.spec.replicas and all(p.status.phase == "Running" for p in pods)

    patch = audit.wait(verbs="patch", resource="deployments", namespace=ns, name="flyteadmin", user=ADMIN)
    assert patch and not any(is_dry_run(e) for e in patch), summary(patch)
    created = audit.wait(verbs="create", resource="replicasets", namespace=ns,
                         user="system:serviceaccount:kube-system:deployment-controller")
    assert any(e["responseStatus"]["code"] == 201 for e in created), summary(created)


def test_narrow_role_gets_403_outside_it(cluster, kube, scratch_namespace):
    core = client.CoreV1Api(kube)
    rbac = client.RbacAuthorizationV1Api(kube)
    ns = scratch_namespace
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="narrow")))
    rbac.create_namespaced_role(ns, client.V1Role(
        metadata=client.V1ObjectMeta(name="narrow"),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get", "list"])]))
    rbac.create_namespaced_role_binding(ns, client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name="narrow"),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="narrow"),
        subjects=[client.RbacV1Subject(kind="User", name=DEV, api_group="rbac.authorization.k8s.io"),
                  client.RbacV1Subject(kind="ServiceAccount", name="narrow", namespace=ns)]))

    token = core.create_namespaced_service_account_token(
        "narrow", ns, client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=600))).status.token
    identities = [(DEV, cluster.api_client(cluster.dev_kubeconfig)),
                  ("system:serviceaccount:%s:narrow" % ns, _token_client(cluster.kubeconfig, token))]
    try:
        for user, api in identities:
            assert _whoami(api) == user
            as_user = client.CoreV1Api(api)
            # RBAC is evaluated per request; the binding may take a moment to reach the authorizer's cache.
            wait_for(lambda: _status(lambda: as_user.list_namespaced_config_map(ns)) == 200,
                     timeout=30, message="%s can list configmaps in %s" % (user, ns))
            assert as_user.read_namespaced_config_map("kube-root-ca.crt", ns).data["ca.crt"]
            assert _status(lambda: as_user.list_namespaced_config_map("default")) == 403
            assert _status(lambda: as_user.list_namespaced_secret(ns)) == 403
            assert _status(lambda: as_user.list_namespaced_pod("kube-system")) == 403
            assert _status(lambda: as_user.create_namespaced_config_map(
                ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="nope")))) == 403
    finally:
        for dummy, api in identities:
            api.close()
    # kubectl, too, with the dev kubeconfig
    proc = cluster.kubectl("get", "configmaps", "-n", "default", kubeconfig=cluster.dev_kubeconfig, check=False)
    assert proc.returncode != 0 and "Forbidden" in proc.stderr, proc.stderr


def test_audit_log_shows_the_requests_of_a_test(cluster, kube, scratch_namespace, audit):
    core = client.CoreV1Api(kube)
    ns = scratch_namespace
    name = "audit-%s" % uuid.uuid4().hex[:8]
    marked = datetime.datetime.now(datetime.timezone.utc)
    start = audit.mark()
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data={"a": "1"}))
    core.read_namespaced_config_map(name, ns)
    core.patch_namespaced_config_map(name, ns, {"data": {"a": "2"}}, dry_run="All")
    assert core.read_namespaced_config_map(name, ns).data["a"] == "1"  # dry run changed nothing
    core.patch_namespaced_config_map(name, ns, {"data": {"a": "3"}})
    cluster.kubectl("get", "configmap", name, "-n", ns)
    dev_api = cluster.api_client(cluster.dev_kubeconfig)
    try:
        assert _status(lambda: client.CoreV1Api(dev_api).read_namespaced_config_map(name, ns)) == 403
    finally:
        dev_api.close()
    core.delete_namespaced_config_map(name, ns)

    writes = audit.wait(since=start, count=4, writes=True, namespace=ns, name=name)
    assert [(e["verb"], is_dry_run(e)) for e in writes] == [
        ("create", False), ("patch", True), ("patch", False), ("delete", False)], summary(writes)
    assert all(e["user"]["username"] == ADMIN and e["level"] == "Metadata" for e in writes)
    assert [e["responseStatus"]["code"] for e in writes] == [201, 200, 200, 200], summary(writes)
    real = audit.events(since=start, writes=True, dry_run=False, namespace=ns, name=name)
    assert len(real) == 3

    reads = audit.events(since=start, verbs="get", resource="configmaps", namespace=ns, name=name, user=ADMIN)
    assert len(reads) == 3, summary(reads)  # two from the Python client, one from kubectl
    assert any(e.get("userAgent", "").startswith("kubectl") for e in reads), summary(reads)
    denied = audit.wait(since=start, user=DEV, name=name, code=403)
    assert [e["verb"] for e in denied] == ["get"], summary(denied)
    # Only what happened after the mark: every event's last stage is no older than the mark.
    for event in audit.events(since=start, stage=None):
        assert _ts(event["stageTimestamp"]) >= marked - datetime.timedelta(seconds=1), summary([event])
