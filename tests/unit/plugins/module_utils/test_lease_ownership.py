# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run lock's Lease logic and the ownership detection."""
import datetime

import upstream_manifests as um
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import lease as lk
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import ownership

NOW = datetime.datetime(2026, 11, 24, 12, 0, 0, tzinfo=datetime.timezone.utc)


def _lease(holder, renewed_ago, duration=60):
    return {"metadata": {"name": lk.LEASE_NAME, "namespace": "flyte", "resourceVersion": "7"},
            "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration,
                     "renewTime": lk.format_time(NOW - datetime.timedelta(seconds=renewed_ago)), "leaseTransitions": 2}}


def test_states():
    assert lk.state(None, "me", NOW) == "free"
    assert lk.state(_lease(None, 0), "me", NOW) == "free"
    assert lk.state(_lease("me", 0), "me", NOW) == "ours"
    assert lk.state(_lease("other", 10), "me", NOW) == "held"
    assert lk.state(_lease("other", 61), "me", NOW) == "expired"


def test_acquire_create_and_takeover_bodies():
    created = lk.acquire_body(None, "flyte", "me", 900, NOW)
    assert created["spec"]["holderIdentity"] == "me" and created["spec"]["leaseTransitions"] == 0
    assert "resourceVersion" not in created["metadata"]
    taken = lk.acquire_body(_lease("crashed", 3600), "flyte", "me", 900, NOW)
    assert taken["metadata"]["resourceVersion"] == "7"  # optimistic concurrency: only one racer wins
    assert taken["spec"]["leaseTransitions"] == 3
    assert lk.parse_time(taken["spec"]["renewTime"]) == NOW


def test_release_keeps_resource_version_and_frees():
    body = lk.release_body(_lease("me", 0))
    assert body["spec"]["holderIdentity"] is None and body["metadata"]["resourceVersion"] == "7"
    assert lk.state(body, "other", NOW) == "free"


def test_upstream_flyte_core_is_helm_managed():
    docs = um.load(um.CORE)
    summary = ownership.summarize([d for d in docs if d.get("kind") in ("Deployment", "ConfigMap")])
    assert "Deployment/flyteadmin" in summary["helm"]
    assert "helm" in ownership.warning(summary)
    assert ownership.warning({}) is None


def test_argocd_and_flux_and_field_managers():
    obj = {"kind": "ConfigMap", "metadata": {
        "name": "x", "annotations": {ownership.ARGO_TRACKING: "flyte-app:/ConfigMap:flyte/x"},
        "labels": {ownership.FLUX_KUSTOMIZATION: "flyte"},
        "managedFields": [{"manager": "argocd-controller"}, {"manager": "flytesec.hardening"}]}}
    tools = [o["tool"] for o in ownership.owners(obj)]
    assert tools == ["argocd", "flux-kustomization"]
    assert ownership.owners(obj)[0]["name"] == "flyte-app"
    assert ownership.field_managers(obj) == ["argocd-controller"]
