# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/policy/securitycontext.py (the flyte_securitycontext planner).

Upstream manifests are read in place from ../shared/fixtures (never copied).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps
from ansible_collections.flytesec.hardening.plugins.module_utils.policy import securitycontext as sc

import upstream_manifests as um


def _core():
    return dict((d["metadata"]["name"], d) for d in um.of_kind(um.load(um.CORE), "Deployment"))


def _binary():
    return um.of_kind(um.load(um.BINARY), "Deployment")[0]


def _all_workloads():
    return list(_core().values()) + [_binary()]


def _spec(obj):
    return ps.pod_template(obj)[1]


def _container(obj, name):
    spec = _spec(obj)
    return next(c for c in (spec.get("initContainers") or []) + spec["containers"] if c["name"] == name)


def _apply(obj, plan):
    return sc.strategic_merge(obj, plan["patch"])


def _workload(kind="Deployment", containers=None, init=None, pod_sc=None, name="app", volumes=None, **spec_fields):
    spec = {"containers": containers or [{"name": "app", "image": "example.org/app:1"}]}
    if init:
        spec["initContainers"] = init
    if pod_sc is not None:
        spec["securityContext"] = pod_sc
    if volumes is not None:
        spec["volumes"] = volumes
    spec.update(spec_fields)
    template = {"metadata": {"labels": {"app": name}}, "spec": spec}
    obj = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "flyte"}}
    if kind == "CronJob":
        obj["spec"] = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        obj["spec"] = {"template": template}
    return obj


# --------------------------------------------------------------------------- upstream manifests

@pytest.mark.parametrize("obj", _all_workloads(), ids=lambda o: o["metadata"]["name"])
def test_every_upstream_workload_passes_restricted_after_planning(obj):
    plan = sc.plan_workload(obj)
    assert plan["changed"] is True
    assert plan["error"] is None, plan["error"]
    assert plan["violations_before"] and plan["warning_before"].startswith('would violate PodSecurity "restricted:latest": ')
    assert plan["violations_after"] == [] and plan["warning_after"] is None
    assert plan["level_after"] == "restricted"
    after = _apply(obj, plan)
    assert ps.evaluate_object(after, "restricted") == []
    assert ps.evaluate_object(after, "restricted", "v1.25") == []
    # the desired state the plan reports is what the patch produces
    assert plan["pod_security_context"] == _spec(after)["securityContext"]
    for name, desired in plan["container_security_contexts"].items():
        assert _container(after, name)["securityContext"] == desired


@pytest.mark.parametrize("obj", _all_workloads(), ids=lambda o: o["metadata"]["name"])
def test_planning_twice_is_a_no_op(obj):
    after = _apply(obj, sc.plan_workload(obj))
    again = sc.plan_workload(after)
    assert again["changed"] is False
    assert again["patch"] == {}
    assert again["violations_before"] == [] and again["error"] is None
    assert again["diff"]["before"] == again["diff"]["after"]


@pytest.mark.parametrize("obj", _all_workloads(), ids=lambda o: o["metadata"]["name"])
def test_baseline_profile_passes_baseline_and_is_idempotent(obj):
    plan = sc.plan_workload(obj, {"profile": "baseline"})
    assert plan["error"] is None
    after = _apply(obj, plan)
    assert ps.evaluate_object(after, "baseline") == []
    assert sc.plan_workload(after, {"profile": "baseline"})["changed"] is False


def test_baseline_profile_only_removes_spc_t():
    core = _core()
    plan = sc.plan_workload(core["flyteadmin"], {"profile": "baseline"})
    assert plan["patch"] == {"spec": {"template": {"spec": {"securityContext": {"seLinuxOptions": None}}}}}
    assert plan["violations_before"][0]["check"] == "seLinuxOptions"
    for name in ("flytepropeller", "syncresources"):
        assert sc.plan_workload(core[name], {"profile": "baseline"})["changed"] is False
    assert sc.plan_workload(_binary(), {"profile": "baseline"})["changed"] is False


def test_spc_t_is_removed_from_every_chart_workload():
    core = _core()
    for name in ("flyteadmin", "datacatalog", "flyteconsole", "flytescheduler", "flyte-pod-webhook"):
        plan = sc.plan_workload(core[name])
        assert plan["patch"]["spec"]["template"]["spec"]["securityContext"]["seLinuxOptions"] is None
        assert "seLinuxOptions" not in plan["pod_security_context"]
        assert plan["level_before"] == "privileged"


def test_flytepropeller_patch_is_minimal():
    plan = sc.plan_workload(_core()["flytepropeller"])
    assert plan["patch"] == {"spec": {"template": {"spec": {
        "securityContext": {"runAsGroup": 1001, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "flytepropeller",
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                            "privileged": False, "readOnlyRootFilesystem": True},
                        "volumeMounts": [{"name": "flytesec-tmp", "mountPath": "/tmp"}]}],
        "volumes": [{"name": "flytesec-tmp", "emptyDir": {}}]}}}}
    assert plan["patch_type"] == "strategic"
    assert plan["template_path"] == ["spec", "template"]
    # kept: the chart's runAsUser 1001, fsGroup 65534 and fsGroupChangePolicy
    assert plan["pod_security_context"] == {"fsGroup": 65534, "fsGroupChangePolicy": "Always", "runAsGroup": 1001, "runAsNonRoot": True,
                                            "runAsUser": 1001, "seccompProfile": {"type": "RuntimeDefault"}}
    assert [v["check"] for v in plan["violations_before"]] == [
        "allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot", "seccompProfile_restricted"]
    assert plan["added_volumes"] == [{"name": "flytesec-tmp", "emptyDir": {}}]
    assert plan["added_volume_mounts"] == {"flytepropeller": [{"name": "flytesec-tmp", "mountPath": "/tmp"}]}


def test_ids_kept_or_defaulted_per_image():
    core = _core()
    assert sc.plan_workload(core["flyteadmin"])["pod_security_context"]["runAsUser"] == 1001
    assert sc.plan_workload(core["datacatalog"])["pod_security_context"]["fsGroup"] == 1001
    console = sc.plan_workload(core["flyteconsole"])["pod_security_context"]
    assert (console["runAsUser"], console["runAsGroup"], console["fsGroup"]) == (1000, 1000, 1000)
    sync = sc.plan_workload(core["syncresources"])
    assert (sync["pod_security_context"]["runAsUser"], sync["pod_security_context"]["runAsGroup"]) == (1001, 1001)
    assert "runAsUser 1001: flyte-core image sets USER flyte by name" in sync["notes"]
    binary = sc.plan_workload(_binary())
    pod = binary["pod_security_context"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"], pod["runAsNonRoot"]) == (65534, 65534, 65534, True)
    assert binary["level_before"] == "baseline"


def test_id_options_fill_gaps_and_override_only_when_asked():
    core = _core()
    options = {"run_as_user": 2000, "run_as_group": 3000, "fs_group": 4000}
    pod = sc.plan_workload(core["flyteadmin"], options)["pod_security_context"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (1001, 3000, 65534)  # existing non-zero ids stay
    pod = sc.plan_workload(core["flyteadmin"], dict(options, override_ids=True))["pod_security_context"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (2000, 3000, 4000)
    pod = sc.plan_workload(_binary(), {"run_as_user": 2000})["pod_security_context"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (2000, 2000, 2000)
    root = _workload(pod_sc={"runAsUser": 0, "runAsGroup": 0, "fsGroup": 0})
    pod = sc.plan_workload(root)["pod_security_context"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (65534, 65534, 65534)


def test_unmanaged_fields_survive():
    obj = _core()["flyteadmin"]
    spec = _spec(obj)
    spec["securityContext"]["supplementalGroups"] = [4242]
    spec["securityContext"]["seLinuxOptions"]["level"] = "s0:c1,c2"
    spec["securityContext"]["sysctls"] = [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]
    admin = _container(obj, "flyteadmin")
    admin["securityContext"]["capabilities"]["drop"] = ["ALL", "NET_RAW"]
    admin["securityContext"]["seccompProfile"] = {"type": "Localhost", "localhostProfile": "flyte.json"}
    before = copy.deepcopy(obj)
    plan = sc.plan_workload(obj)
    assert obj == before  # the input is not changed
    after = _apply(obj, plan)
    pod = _spec(after)["securityContext"]
    assert pod["supplementalGroups"] == [4242]
    assert pod["seLinuxOptions"] == {"level": "s0:c1,c2"}  # spc_t gone, level kept
    assert pod["sysctls"] == [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]
    assert pod["fsGroupChangePolicy"] == "Always"
    admin_after = _container(after, "flyteadmin")
    assert admin_after["securityContext"]["capabilities"] == {"drop": ["ALL", "NET_RAW"]}
    assert admin_after["securityContext"]["seccompProfile"] == {"type": "Localhost", "localhostProfile": "flyte.json"}
    for key in ("image", "command", "args", "ports", "env", "resources", "livenessProbe", "readinessProbe"):
        assert admin_after.get(key) == admin.get(key)
    assert admin_after["volumeMounts"][:-1] == admin["volumeMounts"]
    assert [v["name"] for v in _spec(after)["volumes"]] == [v["name"] for v in spec["volumes"]] + ["flytesec-tmp"]
    assert after["metadata"] == obj["metadata"] and after["spec"]["selector"] == obj["spec"]["selector"]
    assert sc.plan_workload(after)["changed"] is False


def test_diff_shows_before_and_after_security_contexts():
    plan = sc.plan_workload(_core()["flytepropeller"])
    before, after = plan["diff"]["before"], plan["diff"]["after"]
    assert before["containers"]["flytepropeller"] == {}
    assert after["containers"]["flytepropeller"]["readOnlyRootFilesystem"] is True
    assert "runAsNonRoot" not in before["securityContext"] and after["securityContext"]["runAsNonRoot"] is True
    assert after["volumeMounts"]["flytepropeller"][-1] == "/tmp"


# --------------------------------------------------------------------------- writable paths

def test_gen_admin_auth_secret_gets_a_writable_tmp():
    obj = _binary()
    spec = _spec(obj)
    spec["initContainers"].append({"name": "gen-admin-auth-secret", "image": "cr.flyte.org/flyteorg/flyte-binary:latest",
                                   "command": ["sh", "-c", "flyte secrets init --localPath /tmp/admin-auth-secret"]})
    plan = sc.plan_workload(obj)
    assert plan["added_volume_mounts"]["gen-admin-auth-secret"] == [{"name": "flytesec-tmp", "mountPath": "/tmp"}]
    assert plan["added_volumes"] == [{"name": "flytesec-tmp", "emptyDir": {}}]  # one volume shared by all containers
    assert plan["container_security_contexts"]["gen-admin-auth-secret"]["readOnlyRootFilesystem"] is True


def test_no_duplicate_mount_paths_and_existing_volume_reused():
    obj = _workload(containers=[{"name": "app", "image": "x", "volumeMounts": [{"name": "scratch", "mountPath": "/tmp/"}]},
                                {"name": "side", "image": "x"}],
                    volumes=[{"name": "scratch", "emptyDir": {}}, {"name": "flytesec-tmp", "emptyDir": {"medium": "Memory"}}])
    plan = sc.plan_workload(obj)
    assert plan["added_volume_mounts"] == {"side": [{"name": "flytesec-tmp", "mountPath": "/tmp"}]}
    assert plan["added_volumes"] == []
    assert "volumes" not in plan["patch"]["spec"]["template"]["spec"]


def test_conflicting_volume_name_is_an_error():
    obj = _workload(volumes=[{"name": "flytesec-tmp", "configMap": {"name": "x"}}])
    with pytest.raises(sc.SecurityContextError, match="volume 'flytesec-tmp' exists and is not an emptyDir") as err:
        sc.plan_workload(obj)
    assert err.value.option == "writable_paths"


def test_custom_writable_paths_and_volume_names():
    obj = _workload(containers=[{"name": "app", "image": "x"}, {"name": "nginx", "image": "x"}])
    plan = sc.plan_workload(obj, {"writable_paths": {"*": ["/tmp"], "nginx": ["/var/cache/nginx", "/var/run/"]}})
    assert plan["added_volume_mounts"]["nginx"] == [{"name": "flytesec-tmp", "mountPath": "/tmp"},
                                                    {"name": "flytesec-var-cache-nginx", "mountPath": "/var/cache/nginx"},
                                                    {"name": "flytesec-var-run", "mountPath": "/var/run"}]
    assert plan["added_volume_mounts"]["app"] == [{"name": "flytesec-tmp", "mountPath": "/tmp"}]
    long_name = sc.volume_name("/" + "a" * 80)
    assert len(long_name) <= 63 and long_name.startswith("flytesec-") and long_name == sc.volume_name("/" + "a" * 80)
    none = sc.plan_workload(obj, {"writable_paths": []})
    assert none["added_volumes"] == [] and none["container_security_contexts"]["app"]["readOnlyRootFilesystem"] is True


def test_read_only_root_filesystem_can_be_turned_off():
    plan = sc.plan_workload(_core()["flytepropeller"], {"read_only_root_filesystem": False})
    assert "readOnlyRootFilesystem" not in plan["container_security_contexts"]["flytepropeller"]
    assert plan["added_volumes"] == [] and plan["error"] is None


# --------------------------------------------------------------------------- SELinux, capabilities, seccomp

def test_keep_selinux_type_replaces_a_forbidden_type():
    plan = sc.plan_workload(_core()["flyteadmin"], {"keep_selinux_type": "container_t"})
    assert plan["pod_security_context"]["seLinuxOptions"] == {"type": "container_t"}
    assert plan["error"] is None
    with pytest.raises(sc.SecurityContextError, match="keep_selinux_type must be a type Pod Security baseline") as err:
        sc.normalize_options({"keep_selinux_type": "spc_t"})
    assert err.value.option == "keep_selinux_type"
    assert sc.normalize_options({"keep_selinux_type": "container_engine_t"})["keep_selinux_type"] == "container_engine_t"
    with pytest.raises(sc.SecurityContextError):
        sc.normalize_options({"keep_selinux_type": "container_engine_t", "version": "v1.30"})


def test_container_selinux_user_and_role_are_removed():
    obj = _workload(containers=[{"name": "app", "image": "x", "securityContext": {"seLinuxOptions": {"user": "u", "role": "r", "level": "s0"}}}])
    plan = sc.plan_workload(obj)
    assert plan["container_security_contexts"]["app"]["seLinuxOptions"] == {"level": "s0"}
    assert plan["error"] is None


def test_allow_net_bind_service():
    plan = sc.plan_workload(_core()["flytepropeller"], {"allow_net_bind_service": True})
    assert plan["container_security_contexts"]["flytepropeller"]["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    assert plan["error"] is None
    obj = _workload(containers=[{"name": "app", "image": "x", "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_BIND_SERVICE"]}}}])
    assert sc.plan_workload(obj)["container_security_contexts"]["app"]["capabilities"] == {"drop": ["ALL"]}


def test_baseline_filters_capabilities_and_fixes_unconfined():
    obj = _workload(containers=[{"name": "app", "image": "x", "securityContext": {
        "capabilities": {"add": ["NET_ADMIN", "CHOWN"]}, "privileged": True, "procMount": "Unmasked",
        "seccompProfile": {"type": "Unconfined"}, "appArmorProfile": {"type": "Unconfined"}}}],
        pod_sc={"seccompProfile": {"type": "Unconfined"}})
    obj["spec"]["template"]["metadata"]["annotations"] = {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}
    plan = sc.plan_workload(obj, {"profile": "baseline"})
    assert plan["container_security_contexts"]["app"] == {"capabilities": {"add": ["CHOWN"]}, "privileged": False,
                                                          "seccompProfile": {"type": "RuntimeDefault"}}
    assert plan["pod_security_context"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    assert plan["patch"]["spec"]["template"]["metadata"] == {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}}
    assert plan["error"] is None and plan["level_after"] == "baseline"


def test_restricted_removes_forbidden_container_values():
    obj = _workload(containers=[{"name": "app", "image": "x", "securityContext": {
        "runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": False, "procMount": "Unmasked", "allowPrivilegeEscalation": True,
        "seccompProfile": {"type": "Unconfined"}, "readOnlyRootFilesystem": False, "privileged": True}}])
    plan = sc.plan_workload(obj)
    assert plan["container_security_contexts"]["app"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "privileged": False, "readOnlyRootFilesystem": True,
        "seccompProfile": {"type": "RuntimeDefault"}}
    container_patch = plan["patch"]["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert container_patch["runAsUser"] is None and container_patch["procMount"] is None and container_patch["runAsNonRoot"] is None
    assert plan["error"] is None


def test_seccomp_localhost_option():
    plan = sc.plan_workload(_workload(), {"seccomp_profile": "Localhost", "seccomp_localhost_profile": "profiles/flyte.json"})
    assert plan["pod_security_context"]["seccompProfile"] == {"type": "Localhost", "localhostProfile": "profiles/flyte.json"}
    assert plan["error"] is None


# --------------------------------------------------------------------------- OpenShift, wait-for-db, exemptions

def test_openshift_leaves_ids_to_the_scc():
    core = _core()
    plan = sc.plan_workload(core["flyteadmin"], {"openshift": True})
    pod = plan["pod_security_context"]
    assert "runAsUser" not in pod and "runAsGroup" not in pod and "fsGroup" not in pod and pod["runAsNonRoot"] is True
    assert plan["patch"]["spec"]["template"]["spec"]["securityContext"]["runAsUser"] is None
    assert plan["error"] is None
    assert any("SCC" in note for note in plan["notes"])
    binary = sc.plan_workload(_binary(), {"openshift": True})
    assert "runAsUser" not in binary["pod_security_context"] and binary["error"] is None
    after = _apply(core["flyteadmin"], plan)
    assert sc.plan_workload(after, {"openshift": True})["changed"] is False


def test_wait_for_db_as_postgres_uid_70():
    plan = sc.plan_workload(_binary(), {"wait_for_db_as_postgres": True})
    wait = plan["container_security_contexts"]["wait-for-db"]
    assert (wait["runAsUser"], wait["runAsGroup"]) == (70, 70)
    assert "runAsUser" not in plan["container_security_contexts"]["flyte"]
    assert plan["error"] is None
    after = _apply(_binary(), plan)
    assert sc.plan_workload(after, {"wait_for_db_as_postgres": True})["changed"] is False
    assert sc.postgres_uid("postgres:15") == 999
    # flyte-core has no wait-for-db: the option changes nothing there
    assert sc.plan_workload(_core()["flyteadmin"], {"wait_for_db_as_postgres": True})["patch"] == sc.plan_workload(_core()["flyteadmin"])["patch"]


def test_exemption_lets_wait_for_db_run_as_root():
    exemption = {"container": "wait-for-db", "justification": "pg_isready image expects root", "run_as_user": 0,
                 "checks": ["runAsNonRoot", "runAsUser"]}
    plan = sc.plan_workload(_binary(), {"exemptions": [exemption]})
    assert plan["error"] is None
    wait = plan["container_security_contexts"]["wait-for-db"]
    assert wait["runAsUser"] == 0 and wait["runAsNonRoot"] is False
    assert wait["allowPrivilegeEscalation"] is False  # other checks still apply
    assert [v["check"] for v in plan["violations_after"]] == ["runAsNonRoot", "runAsUser"]
    assert [(v["check"], v["justification"]) for v in plan["exempted_violations"]] == [
        ("runAsNonRoot", "pg_isready image expects root"), ("runAsUser", "pg_isready image expects root")]
    assert plan["exemptions"] == [{"container": "wait-for-db", "justification": "pg_isready image expects root",
                                   "checks": ["runAsNonRoot", "runAsUser"], "workload": "flyte-flyte-binary"}]
    assert plan["warning_after"].startswith('would violate PodSecurity "restricted:latest": runAsNonRoot != true (')


def test_unexempted_violation_is_an_error_before_writing():
    vpn = {"name": "vpn", "image": "x", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}
    obj = _workload(containers=[{"name": "app", "image": "x"}, vpn], hostNetwork=True)
    plan = sc.plan_workload(obj)
    assert plan["error"].startswith('Deployment/app would still violate PodSecurity "restricted:latest" after the change: host namespaces')
    assert "pod-level settings" in plan["error"]
    assert [v["check"] for v in plan["unresolved"]] == ["hostNamespaces"]
    # an exemption can not cover a pod-level check
    with pytest.raises(sc.SecurityContextError, match="pod-level check"):
        sc.plan_workload(obj, {"exemptions": [{"container": "app", "justification": "x", "checks": ["hostNamespaces"]}]})


def test_exemption_covers_only_its_container_and_checks():
    obj = _workload(containers=[{"name": "app", "image": "x"},
                                {"name": "priv", "image": "x", "securityContext": {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}}}])
    plan = sc.plan_workload(obj, {"exemptions": [{"container": "priv", "justification": "needs a FUSE mount",
                                                  "checks": ["privileged", "capabilities", "allowPrivilegeEscalation"]}]})
    assert plan["error"] is None
    priv = plan["container_security_contexts"]["priv"]
    assert priv["privileged"] is True and priv["capabilities"] == {"add": ["SYS_ADMIN"]} and "allowPrivilegeEscalation" not in priv
    assert priv["readOnlyRootFilesystem"] is True
    assert sorted(v["check"] for v in plan["exempted_violations"]) == ["allowPrivilegeEscalation", "capabilities_restricted", "privileged"]
    partial = sc.plan_workload(obj, {"exemptions": [{"container": "priv", "justification": "x", "checks": ["privileged"]}]})
    assert partial["container_security_contexts"]["priv"]["capabilities"] == {"drop": ["ALL"]}  # fixed: not exempt
    # the API refuses allowPrivilegeEscalation=false with privileged=true, so that check stays open and is reported
    assert [v["check"] for v in partial["unresolved"]] == ["allowPrivilegeEscalation"]
    assert 'container "priv" must set securityContext.allowPrivilegeEscalation=false' in partial["error"]
    assert "add an exemption with a justification" in partial["error"]
    assert any("allowPrivilegeEscalation left as is" in note for note in partial["notes"])
    other = sc.plan_workload(obj, {"exemptions": [{"container": "priv", "justification": "x", "workload": "another"}]})
    assert other["exemptions"] == [] and other["container_security_contexts"]["priv"]["privileged"] is False
    everything = sc.plan_workload(obj, {"exemptions": [{"container": "priv", "justification": "legacy"}]})
    assert everything["error"] is None
    assert everything["container_security_contexts"]["priv"] == {"privileged": True, "capabilities": {"add": ["SYS_ADMIN"]}}


def test_unmatched_exemptions():
    options = {"exemptions": [{"container": "wait-for-db", "justification": "a", "run_as_user": 0},
                              {"container": "nope", "justification": "b"}]}
    plans = [sc.plan_workload(w, options) for w in _all_workloads()]
    assert sc.unmatched_exemptions(options, plans) == [{"container": "nope", "justification": "b", "checks": list(sc.CONTAINER_CHECKS),
                                                        "workload": None}]


# --------------------------------------------------------------------------- kinds

@pytest.mark.parametrize("kind", ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"))
def test_every_supported_kind(kind):
    obj = _workload(kind=kind)
    plan = sc.plan_workload(obj)
    assert plan["error"] is None and plan["changed"] is True
    assert plan["template_immutable"] is (kind == "Job")
    after = _apply(obj, plan)
    assert ps.evaluate_object(after) == []
    if kind == "CronJob":
        assert list(plan["patch"]["spec"]) == ["jobTemplate"]
        assert plan["template_path"] == ["spec", "jobTemplate", "spec", "template"]
    assert sc.plan_workload(after)["changed"] is False


def test_unsupported_workloads():
    with pytest.raises(sc.SecurityContextError, match="kind 'Pod' is not supported"):
        sc.plan_workload({"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": []}})
    with pytest.raises(sc.SecurityContextError, match="Windows pods"):
        sc.plan_workload(_workload(os={"name": "windows"}))


# --------------------------------------------------------------------------- validation

@pytest.mark.parametrize("options,option,message", [
    ({"run_as_user": 0}, "run_as_user", "run_as_user must be a non-zero UID"),
    ({"run_as_group": 0}, "run_as_group", "run_as_group must be a non-zero GID"),
    ({"fs_group": 0}, "fs_group", "fs_group must be a non-zero GID"),
    ({"run_as_user": -5}, "run_as_user", "run_as_user must be a non-zero UID"),
    ({"run_as_user": "abc"}, "run_as_user", "run_as_user must be an integer UID"),
    ({"run_as_user": True}, "run_as_user", "run_as_user must be an integer UID"),
    ({"profile": "privileged"}, "profile", "profile must be one of restricted, baseline, got 'privileged'"),
    ({"profile": "strict"}, "profile", "profile must be one of restricted, baseline"),
    ({"version": "1.30"}, "version", 'version must be "latest" or "v1.<minor>"'),
    ({"seccomp_profile": "Unconfined"}, "seccomp_profile", "seccomp_profile must be one of RuntimeDefault, Localhost"),
    ({"seccomp_profile": "Localhost"}, "seccomp_localhost_profile", "seccomp_localhost_profile is required"),
    ({"seccomp_localhost_profile": "p.json"}, "seccomp_localhost_profile", "only valid with seccomp_profile=Localhost"),
    ({"openshift": True, "run_as_user": 1000}, "run_as_user", "run_as_user can not be combined with openshift=true"),
    ({"openshift": True, "wait_for_db_as_postgres": True}, "wait_for_db_as_postgres", "can not be combined with openshift"),
    ({"openshift": "maybe"}, "openshift", "openshift must be a boolean"),
    ({"writable_paths": ["tmp"]}, "writable_paths", "is not an absolute path"),
    ({"writable_paths": ["/"]}, "writable_paths", "can not be mounted"),
    ({"colour": "blue"}, "colour", r"unknown option\(s\) colour"),
    ({"exemptions": [{"container": "wait-for-db"}]}, "exemptions", r"exemptions\[0\].justification is required"),
    ({"exemptions": [{"container": "wait-for-db", "justification": "   "}]}, "exemptions", r"exemptions\[0\].justification is required"),
    ({"exemptions": [{"justification": "x"}]}, "exemptions", r"exemptions\[0\].container is required"),
    ({"exemptions": [{"container": "a", "justification": "x", "checks": ["noSuchCheck"]}]}, "exemptions", "unknown check 'noSuchCheck'"),
    ({"exemptions": [{"container": "a", "justification": "x", "checks": []}]}, "exemptions", "non-empty list"),
    ({"exemptions": [{"container": "a", "justification": "x", "why": "y"}]}, "exemptions", r"unknown key\(s\) why"),
    ({"exemptions": [{"container": "a", "justification": "x", "run_as_user": 0, "checks": ["runAsUser"]}]}, "exemptions",
     "must include runAsNonRoot and runAsUser"),
    ({"exemptions": "wait-for-db"}, "exemptions", "exemptions must be a list"),
    ({"wait_for_db_as_postgres": True, "exemptions": [{"container": "wait-for-db", "justification": "x", "run_as_user": 0}]},
     "wait_for_db_as_postgres", "are alternatives"),
])
def test_validation_errors_name_the_option(options, option, message):
    with pytest.raises(sc.SecurityContextError, match=message) as err:
        sc.plan_workload(_binary(), options)
    assert err.value.option == option


def test_unset_module_parameters_mean_defaults():
    obj = _core()["flyteadmin"]
    assert sc.plan_workload(obj, dict.fromkeys(sc.OPTION_NAMES)) == sc.plan_workload(obj)


def test_normalize_options_defaults_and_idempotence():
    opts = sc.normalize_options()
    assert opts["profile"] == "restricted" and opts["version"] == "latest" and opts["minor"] == ps.LATEST_MINOR
    assert opts["writable_paths"] == {"*": ["/tmp"]} and opts["exemptions"] == []
    assert sc.normalize_options(opts) == opts
    assert sc.expand_checks(["capabilities"]) == {"capabilities_baseline", "capabilities_restricted"}
    assert sc.expand_checks(["procMount"]) == {"procMount", "procMount_restricted"}
    assert sc.normalize_options({"openshift": "true"})["openshift"] is True


# --------------------------------------------------------------------------- strategic merge

def test_strategic_merge_semantics():
    target = {"spec": {"containers": [{"name": "a", "securityContext": {"x": 1, "y": {"z": 1, "w": 2}}, "volumeMounts": [{"name": "v", "mountPath": "/v"}]},
                                      {"name": "b"}],
                       "volumes": [{"name": "v", "emptyDir": {}}], "args": ["1", "2"]}}
    patch = {"spec": {"containers": [{"name": "a", "securityContext": {"x": None, "y": {"w": None}, "n": True},
                                      "volumeMounts": [{"name": "t", "mountPath": "/tmp"}]}],
                      "volumes": [{"name": "t", "emptyDir": {}}], "args": ["3"]}}
    result = sc.strategic_merge(target, patch)
    assert result == {"spec": {"containers": [{"name": "a", "securityContext": {"y": {"z": 1}, "n": True},
                                               "volumeMounts": [{"name": "v", "mountPath": "/v"}, {"name": "t", "mountPath": "/tmp"}]},
                                              {"name": "b"}],
                               "volumes": [{"name": "v", "emptyDir": {}}, {"name": "t", "emptyDir": {}}], "args": ["3"]}}
    assert target["spec"]["containers"][0]["securityContext"] == {"x": 1, "y": {"z": 1, "w": 2}}
    assert sc.map_patch({"a": 1, "b": {"c": 1}, "d": None}, {"a": 1, "b": {"c": 2}, "e": [1]}) == {"b": {"c": 2}, "e": [1]}
    assert sc.map_patch({"a": 1}, {}) == {"a": None}


# --------------------------------------------------------------------------- the module's plan

def test_plan_workloads_entries_annotations_and_blocking_errors():
    deployment, cronjob, job = _workload(name="app"), _workload(kind="CronJob", name="cj"), _workload(kind="Job", name="once")
    hashes = {"Deployment/app": {"hardening.flytesec.io/config-hash": "sha256:abc"}, "CronJob/cj": {"a": "b"}}
    plans, errors = sc.plan_workloads([deployment, cronjob, job], {"version": "v1.34"}, hashes)
    assert [entry["workload"] for _obj, _plan, entry in plans] == ["Deployment/app", "CronJob/cj", "Job/once"]
    (_o, d_plan, d_entry), (_o2, c_plan, c_entry), _job = plans
    # the rolling workload carries its annotations in the same patch; the plan's own patch is untouched
    assert d_entry["patch"]["spec"]["template"]["metadata"]["annotations"] == hashes["Deployment/app"]
    assert "metadata" not in d_plan["patch"]["spec"]["template"]
    assert c_entry["patch"] == c_plan["patch"]          # a CronJob does not roll out
    assert set(sc.RESULT_KEYS) <= set(d_entry) and d_entry["api_warnings"] == [] and d_entry["changed"]
    assert len(errors) == 1 and errors[0].startswith("Job/once: its pod template is immutable and needs a change")


def test_plan_workloads_unchanged_workload_gets_no_annotations():
    hardened = _apply(_workload(), sc.plan_workload(_workload()))
    plans, errors = sc.plan_workloads([hardened], None, {"Deployment/app": {"k": "v"}})
    assert errors == [] and plans[0][2]["patch"] == {} and not plans[0][2]["changed"]
