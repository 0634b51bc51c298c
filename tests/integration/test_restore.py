# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 18: playbooks/restore.yml undoes every write of a run, on both layouts, with every area on: Pod Security
(securityContexts and the namespace labels), RBAC, network policies, CORS, and on flyte-core authentication with the
clients registered in a real Keycloak. Every object of the namespace (and Flyte's ClusterRoles) must equal its state
before the run; what the run created is gone, the run's Lease too; the restored workloads roll out, none refused."""
from __future__ import absolute_import, division, print_function

import json
import uuid
from pathlib import Path

import pytest

from conftest import install_flyte, rolled_out, wait_for
from flyte_live import keycloak_env
from playbook import run_playbook

__metaclass__ = type

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HARDEN = ROOT / "playbooks" / "harden-flyte.yml"
RESTORE = ROOT / "playbooks" / "restore.yml"
KINDS = ("configmaps,secrets,deployments,networkpolicies,leases,serviceaccounts,roles,rolebindings,services,ingresses,"
         "podtemplates,limitranges")
# what the API server (not the run) moves: revision counters and the like
VOLATILE_ANNOTATIONS = ("deployment.kubernetes.io/revision",)


def _comparable(item):
    meta = item["metadata"]
    annotations = dict((k, v) for k, v in (meta.get("annotations") or {}).items() if k not in VOLATILE_ANNOTATIONS)
    body = dict((k, v) for k, v in item.items() if k not in ("metadata", "status"))
    return {"labels": meta.get("labels") or {}, "annotations": annotations, "body": body}


def _state(cluster, namespace):
    """Every object of the kinds a run writes in ``namespace``, the namespace's labels and Flyte's ClusterRoles."""
    out = json.loads(cluster.kubectl("-n", namespace, "get", KINDS, "-o", "json").stdout)
    state = dict(("%s/%s" % (i["kind"], i["metadata"]["name"]), _comparable(i)) for i in out["items"]
                 if not i["metadata"]["name"].startswith("kube-root-ca"))
    ns = json.loads(cluster.kubectl("get", "namespace", namespace, "-o", "json").stdout)
    state["Namespace/%s" % namespace] = ns["metadata"].get("labels") or {}
    # Flyte's ClusterRoles: those bound to the namespace's service accounts (the run narrows them), and any the run
    # created for the namespace (restore deletes them)
    bindings = json.loads(cluster.kubectl("get", "clusterrolebindings", "-o", "json").stdout)["items"]
    bound = set(b["roleRef"]["name"] for b in bindings
                if any(s.get("namespace") == namespace for s in b.get("subjects") or []))
    roles = json.loads(cluster.kubectl("get", "clusterroles", "-o", "json").stdout)["items"]
    for role in roles:
        name = role["metadata"]["name"]
        if name in bound or name.startswith("flytesec-%s-" % namespace):
            state["ClusterRole/%s" % name] = role.get("rules")
    return state


def _refused(kube, namespace, since):
    events = client.CoreV1Api(kube).list_namespaced_event(namespace).items
    return ["%s: %s" % (e.involved_object.name, e.message) for e in events
            if e.reason == "FailedCreate" and e.last_timestamp and e.last_timestamp >= since]


@pytest.mark.parametrize("layout", ["flyte-core", "flyte-binary"])
def test_restore_undoes_every_write(cluster, kube, keycloak, tmp_path, layout):
    import datetime
    namespace = "restore-%s" % layout.split("-")[1]
    install_flyte(cluster, layout, namespace)
    wait_for(rolled_out(kube, namespace), timeout=180, message="rollouts")
    before = _state(cluster, namespace)
    values = {"flytesec_namespace": namespace, "flytesec_state_root": str(tmp_path / "state"),
              "flytesec_rbac": True, "flytesec_network_policies": True, "flytesec_projects": True,
              "cors_admin_url": "https://flyte-api.example.test",
              "cors_console_origins": ["https://flyte.example.test"]}
    if layout == "flyte-core":   # the sandbox flyte-binary mounts no auth Secret: auth needs the chart's auth values
        values.update({"idp_registration_url": keycloak.url, "idp_registration_realm": "restore-%s" % uuid.uuid4().hex[:6],
                       "idp_registration_create_realm": True, "idp_registration_external_auth_server": False,
                       "idp_registration_public_url": "https://flyte-api.example.test",
                       "auth_public_url": "https://flyte-api.example.test", "auth_server": "internal"})
    run = run_playbook(HARDEN, cluster.kubeconfig, values, env=keycloak_env(keycloak))
    assert run.rc == 0, run.stdout[-4000:]
    run_id = run.result("Fix one run id")["ansible_facts"]["flytesec_run_id"]
    wait_for(rolled_out(kube, namespace), timeout=180, message="rollouts after the run")
    hardened = _state(cluster, namespace)
    assert hardened["Namespace/%s" % namespace].get("pod-security.kubernetes.io/enforce") == "restricted"
    assert [k for k in hardened if k.startswith("NetworkPolicy/")]
    assert [k for k in hardened if k.startswith("Lease/")]
    assert "PodTemplate/flytesec-restricted" in hardened and "ClusterRole/flytesec-%s-cluster-resources" % namespace in hardened
    # on flyte-core the run narrows Flyte's cluster-scoped RBAC (flyte-binary's ClusterRole has no wildcard to narrow),
    # so restore has ClusterRoles to put back, not only namespaced objects
    if layout == "flyte-core":
        assert [k for k in before if k.startswith("ClusterRole/") and hardened.get(k) != before[k]], \
            sorted(k for k in before if k.startswith("ClusterRole/"))

    since = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    # no namespace filter: everything the run wrote goes back (project namespaces too, when any exist)
    restored = run_playbook(RESTORE, cluster.kubeconfig, {"flytesec_run_id": run_id,
                                                          "flytesec_state_root": str(tmp_path / "state")})
    assert restored.rc == 0, restored.stdout[-4000:]
    result = restored.result("Restore every object")
    assert "Namespace/-/%s" % namespace in result["restored"]
    assert any(d.startswith("NetworkPolicy/") for d in result["deleted"]), result["deleted"]
    assert "Lease/%s/flytesec-hardening" % namespace in result["deleted"]
    # the unhardened pod templates roll out: the namespace no longer enforces restricted when they are created
    wait_for(rolled_out(kube, namespace), timeout=180, message="rollouts after restore")
    assert _refused(kube, namespace, since) == []
    after = _state(cluster, namespace)
    differ = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert differ == [], dict((k, (before.get(k), after.get(k))) for k in differ[:3])
