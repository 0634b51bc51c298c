# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/policy/pod_security.py (Pod Security Standards evaluator).

Upstream manifests are read in place from ../shared/fixtures (never copied). Expected texts follow the API
server's messages (k8s.io/pod-security-admission/policy).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps

import upstream_manifests as um

SPC_T_WORKLOADS = ("flyteadmin", "datacatalog", "flyteconsole", "flytescheduler", "flyte-pod-webhook")


def _pod(*containers, **pod):
    """A pod spec with the given containers (name strings or dicts) and pod-level fields."""
    spec = {"containers": [c if isinstance(c, dict) else {"name": c, "image": "x"} for c in containers]}
    spec.update(pod)
    return spec


def _ok_container(name, **sc):
    base = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    base.update(sc)
    return {"name": name, "image": "x", "securityContext": base}


def _restricted_pod(*containers, **pod):
    """A pod that passes restricted unless the arguments break it."""
    spec = _pod(*(containers or (_ok_container("app"),)))
    spec["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    spec.update(pod)
    return spec


def _ids(violations):
    return [v.check_id for v in violations]


def _one(violations, check_id):
    found = [v for v in violations if v.check_id == check_id]
    assert len(found) == 1, violations
    return found[0]


# --------------------------------------------------------------------------- upstream manifests

@pytest.fixture(scope="module")
def core():
    return dict((d["metadata"]["name"], d) for d in um.of_kind(um.load(um.CORE), "Deployment"))


@pytest.fixture(scope="module")
def binary():
    return um.of_kind(um.load(um.BINARY), "Deployment")[0]


def test_core_has_the_documented_workloads(core):
    assert set(core) == {"flyteadmin", "flytepropeller", "datacatalog", "flyteconsole", "flytescheduler", "syncresources",
                         "flyte-pod-webhook"}


@pytest.mark.parametrize("name", SPC_T_WORKLOADS)
def test_spc_t_fails_baseline(core, name):
    violations = ps.evaluate_object(core[name], "baseline")
    assert _ids(violations) == ["seLinuxOptions"]
    assert violations[0].message == 'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t")'
    assert violations[0].pod is True
    assert violations[0].fields == ["spec.securityContext.seLinuxOptions"]
    assert ps.highest_level_passed(*reversed(ps.pod_template(core[name]))) == "privileged"


@pytest.mark.parametrize("name", ("flytepropeller", "syncresources"))
def test_propeller_and_syncresources_pass_baseline(core, name):
    assert ps.evaluate_object(core[name], "baseline") == []
    metadata, spec = ps.pod_template(core[name])
    assert ps.highest_level_passed(spec, metadata) == "baseline"


def test_every_workload_fails_restricted(core, binary):
    for obj in list(core.values()) + [binary]:
        violations = ps.evaluate_object(obj, "restricted")
        assert "seccompProfile_restricted" in _ids(violations), obj["metadata"]["name"]


@pytest.mark.parametrize("name", SPC_T_WORKLOADS)
def test_spc_t_workloads_restricted(core, name):
    # chart containers set allowPrivilegeEscalation=false and drop ALL, pods set runAsNonRoot: only SELinux and seccomp
    assert _ids(ps.evaluate_object(core[name], "restricted")) == ["seLinuxOptions", "seccompProfile_restricted"]


def test_flytepropeller_restricted_warning_is_the_api_servers(core):
    violations = ps.evaluate_object(core["flytepropeller"], "restricted")
    assert _ids(violations) == ["allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot", "seccompProfile_restricted"]
    assert ps.format_warning("restricted", "latest", violations) == (
        'would violate PodSecurity "restricted:latest": '
        'allowPrivilegeEscalation != false (container "flytepropeller" must set securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "flytepropeller" must set securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "flytepropeller" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "flytepropeller" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
    # runAsUser 1001 is set, so runAsUser=0 is not a finding
    assert "runAsUser" not in _ids(violations)


def test_syncresources_has_no_security_context(core):
    violations = ps.evaluate_object(core["syncresources"], "restricted")
    assert _ids(violations) == ["allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot", "seccompProfile_restricted"]
    assert _one(violations, "runAsNonRoot").containers == ["sync-cluster-resources"]


def test_flyteadmin_names_every_container_in_order(core):
    seccomp = _one(ps.evaluate_object(core["flyteadmin"], "restricted"), "seccompProfile_restricted")
    assert seccomp.containers == ["run-migrations", "seed-projects", "sync-cluster-resources", "generate-secrets", "flyteadmin"]
    assert seccomp.detail.startswith('pod or containers "run-migrations", "seed-projects"')


def test_flyte_binary_runs_as_root(binary):
    metadata, spec = ps.pod_template(binary)
    assert "securityContext" not in spec or not spec["securityContext"]  # pod runs as the image user: root
    violations = ps.evaluate(spec, metadata, "restricted")
    assert _ids(violations) == ["allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot", "seccompProfile_restricted"]
    assert _one(violations, "runAsNonRoot").containers == ["wait-for-db", "flyte"]
    assert ps.highest_level_passed(spec, metadata) == "baseline"


# --------------------------------------------------------------------------- API

def test_levels_and_versions():
    assert ps.parse_version("latest") == ps.LATEST_MINOR == 37
    assert ps.parse_version("v1.30") == 30
    assert ps.parse_version("v1.99") == ps.LATEST_MINOR
    assert ps.parse_version(None) == ps.LATEST_MINOR
    for bad in ("1.30", "v2.1", "v1.01", "v1.", "newest"):
        with pytest.raises(ps.PodSecurityError, match='must be "latest" or "v1.x"'):
            ps.parse_version(bad)
    with pytest.raises(ps.PodSecurityError, match="level must be one of privileged, baseline, restricted"):
        ps.evaluate({}, None, "strict")
    assert ps.evaluate(_pod("a", hostNetwork=True), None, "privileged") == []


def test_check_order_and_overrides():
    assert ps.checks_for("privileged") == []
    assert ps.checks_for("baseline") == [
        "appArmorProfile", "capabilities_baseline", "hostNamespaces", "hostPathVolumes", "hostPorts", "hostProbesAndHostLifecycle",
        "privileged", "procMount", "seLinuxOptions", "seccompProfile_baseline", "sysctls", "windowsHostProcess"]
    assert ps.checks_for("restricted") == [
        "appArmorProfile", "hostNamespaces", "hostPorts", "hostProbesAndHostLifecycle", "privileged", "seLinuxOptions", "sysctls",
        "windowsHostProcess", "allowPrivilegeEscalation", "capabilities_restricted", "procMount_restricted", "restrictedVolumes",
        "runAsNonRoot", "runAsUser", "seccompProfile_restricted"]
    old = ps.checks_for("restricted", "v1.7")
    assert "allowPrivilegeEscalation" not in old and "runAsUser" not in old and "capabilities_restricted" not in old
    assert "capabilities_baseline" in old and "seccompProfile_baseline" in old and "procMount" in old
    assert "hostPathVolumes" not in old and "restrictedVolumes" in old
    assert "capabilities_baseline" in ps.checks_for("restricted", "v1.21")
    assert "capabilities_baseline" not in ps.checks_for("restricted", "v1.22")
    assert "seccompProfile_baseline" in ps.checks_for("restricted", "v1.18")
    assert "seccompProfile_restricted" in ps.checks_for("restricted", "v1.19")
    assert "procMount" in ps.checks_for("restricted", "v1.34") and "procMount_restricted" not in ps.checks_for("restricted", "v1.34")
    assert "procMount" not in ps.checks_for("restricted", "v1.35") and "procMount_restricted" in ps.checks_for("restricted", "v1.35")
    assert "hostProbesAndHostLifecycle" not in ps.checks_for("baseline", "v1.33")


def test_format_helpers():
    violations = ps.evaluate(_pod("a", hostNetwork=True, hostPID=True, hostIPC=True), None, "baseline", "v1.30")
    assert ps.format_reason(violations) == "host namespaces"
    assert ps.format_warning("baseline", "v1.30", violations) == \
        'would violate PodSecurity "baseline:v1.30": host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)'
    assert ps.format_error("baseline", "v1.30", violations).startswith('violates PodSecurity "baseline:v1.30": host namespaces (')
    assert ps.format_warning("restricted", "latest", []) is None
    item = violations[0].to_dict()
    assert item == {"check": "hostNamespaces", "level": "baseline", "reason": "host namespaces",
                    "detail": "hostNetwork=true, hostPID=true, hostIPC=true",
                    "message": "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)", "containers": [], "pod": True,
                    "fields": ["spec.hostNetwork", "spec.hostPID", "spec.hostIPC"]}


def test_restricted_pod_passes():
    spec = _restricted_pod()
    assert ps.evaluate(spec) == []
    assert ps.highest_level_passed(spec) == "restricted"


@pytest.mark.parametrize("obj,path", [
    ({"kind": "Pod", "metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [{"name": "p"}]}}, None),
    ({"kind": "Deployment", "spec": {"template": {"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [{"name": "p"}]}}}}, None),
    ({"kind": "StatefulSet", "spec": {"template": {"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [{"name": "p"}]}}}}, None),
    ({"kind": "DaemonSet", "spec": {"template": {"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [{"name": "p"}]}}}}, None),
    ({"kind": "ReplicaSet", "spec": {"template": {"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [{"name": "p"}]}}}}, None),
    ({"kind": "Job", "spec": {"template": {"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [{"name": "p"}]}}}}, None),
    ({"kind": "PodTemplate", "template": {"metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [{"name": "p"}]}}}, None),
    ({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {
        "metadata": {"annotations": {"a": "b"}}, "spec": {"containers": [{"name": "p"}]}}}}}}, None),
])
def test_pod_template_of_every_kind(obj, path):
    metadata, spec = ps.pod_template(obj)
    assert metadata == {"annotations": {"a": "b"}}
    assert spec == {"containers": [{"name": "p"}]}
    assert ps.pod_template_spec(obj) is spec
    assert ps.template_path(obj["kind"]) == ps.POD_TEMPLATE_PATHS.get(obj["kind"], ())


def test_pod_template_errors():
    with pytest.raises(ps.PodSecurityError, match="kind 'Service' has no pod template"):
        ps.pod_template({"kind": "Service", "spec": {}})
    with pytest.raises(ps.PodSecurityError):
        ps.pod_template(["not", "a", "dict"])
    assert ps.pod_template({"kind": "Deployment"}) == ({}, {})


def test_ephemeral_and_init_containers_are_checked_in_order():
    spec = _restricted_pod(_ok_container("main"))
    spec["initContainers"] = [{"name": "init", "image": "x"}]
    spec["ephemeralContainers"] = [{"name": "debug", "image": "x"}]
    violation = _one(ps.evaluate(spec), "allowPrivilegeEscalation")
    assert violation.containers == ["init", "debug"]
    assert violation.detail == 'containers "init", "debug" must set securityContext.allowPrivilegeEscalation=false'
    assert violation.fields == ["spec.initContainers[0].securityContext.allowPrivilegeEscalation",
                                "spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation"]


# --------------------------------------------------------------------------- baseline checks, one by one

def test_app_armor_profile():
    spec = _restricted_pod(_ok_container("foo", appArmorProfile={"type": "Unconfined"}), _ok_container("ok", appArmorProfile={"type": "Localhost"}))
    spec["securityContext"]["appArmorProfile"] = {"type": "Unconfined"}
    violation = _one(ps.evaluate(spec, None, "baseline"), "appArmorProfile")
    assert violation.reason == "forbidden AppArmor profile"
    assert violation.detail == 'pod and container "foo" must not set AppArmor profile type to "Unconfined"'
    meta = {"annotations": {
        "container.apparmor.security.beta.kubernetes.io/": "bogus",
        "container.apparmor.security.beta.kubernetes.io/a": "",
        "container.apparmor.security.beta.kubernetes.io/b": "runtime/default",
        "container.apparmor.security.beta.kubernetes.io/c": "localhost/",
        "container.apparmor.security.beta.kubernetes.io/e": "unconfined",
        "container.apparmor.security.beta.kubernetes.io/f": "unknown"}}
    violation = _one(ps.evaluate(_restricted_pod(), meta, "baseline"), "appArmorProfile")
    assert violation.reason == "forbidden AppArmor profiles"
    assert violation.detail == ('annotations must not set AppArmor profile type to '
                                '"container.apparmor.security.beta.kubernetes.io/="bogus"", '
                                '"container.apparmor.security.beta.kubernetes.io/e="unconfined"", '
                                '"container.apparmor.security.beta.kubernetes.io/f="unknown""')
    assert violation.pod is True  # annotations naming no container of the pod
    meta = {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}}
    violation = _one(ps.evaluate(_restricted_pod(), meta, "baseline"), "appArmorProfile")
    assert violation.containers == ["app"] and violation.pod is False
    assert ps.evaluate(_restricted_pod(_ok_container("x", appArmorProfile={"type": "RuntimeDefault"}))) == []


def test_capabilities_baseline():
    spec = _pod({"name": "a", "securityContext": {"capabilities": {"add": ["NET_RAW", "CHOWN", "SYS_ADMIN"]}}},
                {"name": "b", "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "KILL"]}}})
    violation = _one(ps.evaluate(spec, None, "baseline"), "capabilities_baseline")
    assert violation.message == 'non-default capabilities (container "a" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)'
    # restricted from v1.22 replaces it with capabilities_restricted, older restricted keeps it
    assert "capabilities_baseline" not in _ids(ps.evaluate(spec, None, "restricted"))
    assert "capabilities_baseline" in _ids(ps.evaluate(spec, None, "restricted", "v1.21"))


def test_host_namespaces():
    violation = _one(ps.evaluate(_pod("a", hostPID=True, hostNetwork=False), None, "baseline"), "hostNamespaces")
    assert violation.message == "host namespaces (hostPID=true)"
    assert ps.evaluate(_pod("a", hostNetwork=False, hostPID=False, hostIPC=False), None, "baseline") == []


def test_host_path_volumes_and_restricted_volumes():
    spec = _restricted_pod(volumes=[{"name": "h", "hostPath": {"path": "/"}}, {"name": "n", "nfs": {"server": "s", "path": "/"}},
                                    {"name": "g", "gitRepo": {"repository": "r"}}, {"name": "e", "emptyDir": {}},
                                    {"name": "d"}, {"name": "x", "someFutureSource": {}},
                                    {"name": "p", "projected": {"sources": []}}, {"name": "i", "image": {"reference": "r"}}])
    baseline = ps.evaluate(spec, None, "baseline")
    assert [v.message for v in baseline] == ['hostPath volumes (volume "h")']
    restricted = ps.evaluate(spec, None, "restricted")
    assert _ids(restricted) == ["restrictedVolumes"]
    assert restricted[0].message == ('restricted volume types (volumes "h", "n", "g", "x" use restricted volume types '
                                     '"gitRepo", "hostPath", "nfs", "unknown")')
    assert restricted[0].pod is True and restricted[0].containers == []
    one = ps.evaluate(_restricted_pod(volumes=[{"name": "aws", "awsElasticBlockStore": {"volumeID": "v"}}]))
    assert one[0].detail == 'volume "aws" uses restricted volume type "awsElasticBlockStore"'


def test_host_ports():
    spec = _pod({"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 0}]},
                {"name": "b", "ports": [{"containerPort": 80, "hostPort": 20}, {"containerPort": 80, "hostPort": 10}]},
                {"name": "c", "ports": [{"containerPort": 80, "hostPort": 30}]})
    violation = _one(ps.evaluate(spec, None, "baseline"), "hostPorts")
    assert violation.message == 'hostPort (containers "b", "c" use hostPorts 10, 20, 30)'
    violation = _one(ps.evaluate(_pod({"name": "b", "ports": [{"hostPort": 20}]}), None, "baseline"), "hostPorts")
    assert violation.detail == 'container "b" uses hostPort 20'


def test_host_probes_and_lifecycle_from_1_34():
    container = {"name": "a", "livenessProbe": {"httpGet": {"host": "localhost", "port": 1}},
                 "readinessProbe": {"tcpSocket": {"host": "127.0.0.1", "port": 1}},
                 "startupProbe": {"httpGet": {"host": "", "port": 1}},
                 "lifecycle": {"preStop": {"httpGet": {"host": "::1", "port": 1}}}}
    spec = _pod(container, {"name": "b", "lifecycle": {"postStart": {"tcpSocket": {"host": "invalid.host", "port": 1}}}})
    violation = _one(ps.evaluate(spec, None, "baseline", "v1.34"), "hostProbesAndHostLifecycle")
    assert violation.message == ('probe or lifecycle host (containers "a", "b" use probe or lifecycle hosts '
                                 '"127.0.0.1", "::1", "invalid.host", "localhost")')
    assert ps.evaluate(spec, None, "baseline", "v1.33") == []
    single = _pod({"name": "a", "readinessProbe": {"httpGet": {"host": "invalid.host"}}})
    assert _one(ps.evaluate(single, None, "baseline"), "hostProbesAndHostLifecycle").detail == \
        'container "a" uses probe or lifecycle host "invalid.host"'


def test_privileged():
    spec = _pod({"name": "a", "securityContext": {"privileged": True}}, {"name": "b", "securityContext": {"privileged": False}})
    assert _one(ps.evaluate(spec, None, "baseline"), "privileged").message == \
        'privileged (container "a" must not set securityContext.privileged=true)'


def test_proc_mount_and_user_namespaces():
    spec = _restricted_pod(_ok_container("a", procMount="Unmasked"), _ok_container("b", procMount="Default"))
    violation = _one(ps.evaluate(spec, None, "baseline"), "procMount")
    assert violation.message == 'procMount (container "a" must not set securityContext.procMount to "Unmasked")'
    spec["hostUsers"] = False
    assert ps.evaluate(spec, None, "baseline", "v1.35") == []          # relaxed for user namespaces from 1.35
    assert _ids(ps.evaluate(spec, None, "baseline", "v1.34")) == ["procMount"]
    # restricted keeps the unconditional rule under its own ID from 1.35
    assert _ids(ps.evaluate(spec, None, "restricted", "v1.35")) == ["procMount_restricted"]
    assert _ids(ps.evaluate(spec, None, "restricted", "v1.34")) == ["procMount"]


def test_selinux_options():
    spec = _restricted_pod(_ok_container("e", seLinuxOptions={"type": "bar"}), _ok_container("f", seLinuxOptions={"user": "u"}),
                           _ok_container("g", seLinuxOptions={"role": "r", "level": "s0"}), _ok_container("ok", seLinuxOptions={"type": "container_t"}))
    spec["securityContext"]["seLinuxOptions"] = {"type": "foo", "level": "s0:c1"}
    violation = _one(ps.evaluate(spec, None, "baseline"), "seLinuxOptions")
    assert violation.detail == ('pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: '
                                'types "bar", "foo"; user may not be set; role may not be set')
    assert violation.pod is True and violation.containers == ["e", "f", "g"]
    engine = _restricted_pod(securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
                                              "seLinuxOptions": {"type": "container_engine_t"}})
    assert ps.evaluate(engine, None, "baseline", "v1.31") == []
    assert _one(ps.evaluate(engine, None, "baseline", "v1.30"), "seLinuxOptions").detail == \
        'pod set forbidden securityContext.seLinuxOptions: type "container_engine_t"'
    for allowed in ("", "container_t", "container_init_t", "container_kvm_t"):
        spec = _restricted_pod(securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"},
                                                "seLinuxOptions": {"type": allowed, "level": "s0"}})
        assert ps.evaluate(spec, None, "restricted", "v1.0") == []


def test_seccomp_baseline_fields_and_annotations():
    spec = _pod({"name": "c", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
                {"name": "d", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
                securityContext={"seccompProfile": {"type": "Unconfined"}})
    violation = _one(ps.evaluate(spec, None, "baseline"), "seccompProfile_baseline")
    assert violation.message == 'seccompProfile (pod and containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined")'
    assert ps.evaluate(_pod("a"), None, "baseline") == []  # undefined is fine at baseline
    meta = {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined",
                            "container.seccomp.security.alpha.kubernetes.io/a": "unconfined",
                            "container.seccomp.security.alpha.kubernetes.io/b": "unknown",
                            "container.seccomp.security.alpha.kubernetes.io/c": "docker/default"}}
    old = _one(ps.evaluate(_pod("a", "b", "c"), meta, "baseline", "v1.18"), "seccompProfile_baseline")
    assert old.detail == ('forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined", '
                          'container.seccomp.security.alpha.kubernetes.io/b="unknown", seccomp.security.alpha.kubernetes.io/pod="unconfined"')
    assert ps.evaluate(_pod("a", "b", "c"), meta, "baseline", "v1.19") == []  # from 1.19 only the fields count


def test_sysctls_per_version():
    def check(name, version):
        return ps.evaluate(_pod("a", securityContext={"sysctls": [{"name": name, "value": "1"}]}), None, "baseline", version)

    assert check("kernel.shm_rmid_forced", "v1.0") == []
    assert _ids(check("net.ipv4.ip_local_reserved_ports", "v1.26")) == ["sysctls"]
    assert check("net.ipv4.ip_local_reserved_ports", "v1.27") == []
    assert _ids(check("net.ipv4.tcp_keepalive_time", "v1.28")) == ["sysctls"]
    assert check("net.ipv4.tcp_fin_timeout", "v1.29") == []
    assert _ids(check("net.ipv4.tcp_rmem", "v1.31")) == ["sysctls"]
    assert check("net.ipv4.tcp_wmem", "v1.32") == []
    assert _ids(check("net.ipv4.tcp_notsent_lowat", "v1.36")) == ["sysctls"]
    assert check("net.ipv4.tcp_slow_start_after_idle", "v1.37") == []
    assert check("net.ipv4.tcp_slow_start_after_idle", "latest") == []
    spec = _pod("a", securityContext={"sysctls": [{"name": "a"}, {"name": "kernel.shm_rmid_forced"}, {"name": "b"}]})
    assert _one(ps.evaluate(spec, None, "baseline"), "sysctls").message == "forbidden sysctls (a, b)"


def test_windows_host_process():
    spec = _pod({"name": "a", "securityContext": {"windowsOptions": {"hostProcess": True}}},
                securityContext={"windowsOptions": {"hostProcess": True}})
    assert _one(ps.evaluate(spec, None, "baseline"), "windowsHostProcess").message == \
        'hostProcess (pod and container "a" must not set securityContext.windowsOptions.hostProcess=true)'


# --------------------------------------------------------------------------- restricted checks, one by one

def test_allow_privilege_escalation():
    spec = _restricted_pod(_ok_container("a", allowPrivilegeEscalation=True), {"name": "b"}, _ok_container("c"))
    violation = _one(ps.evaluate(spec), "allowPrivilegeEscalation")
    assert violation.message == 'allowPrivilegeEscalation != false (containers "a", "b" must set securityContext.allowPrivilegeEscalation=false)'
    assert "allowPrivilegeEscalation" not in _ids(ps.evaluate(spec, None, "restricted", "v1.7"))


def test_windows_pods_are_exempt_from_1_25():
    spec = _pod("win", os={"name": "windows"}, securityContext={"runAsNonRoot": True})
    assert ps.evaluate(spec, None, "restricted", "v1.25") == []
    assert _ids(ps.evaluate(spec, None, "restricted", "v1.24")) == [
        "allowPrivilegeEscalation", "capabilities_restricted", "seccompProfile_restricted"]
    assert ps.is_windows(spec) and not ps.is_windows(_pod("linux", os={"name": "linux"}))


def test_capabilities_restricted():
    spec = _restricted_pod({"name": "a", "securityContext": {"allowPrivilegeEscalation": False}},
                           _ok_container("b", capabilities={"drop": ["NET_RAW"]}),
                           _ok_container("c", capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}),
                           _ok_container("d", capabilities={"drop": ["ALL"], "add": ["SYS_TIME", "CHOWN", "NET_BIND_SERVICE"]}))
    violation = _one(ps.evaluate(spec), "capabilities_restricted")
    assert violation.message == ('unrestricted capabilities (containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; '
                                 'container "d" must not include "CHOWN", "SYS_TIME" in securityContext.capabilities.add)')
    assert violation.containers == ["a", "b", "d"]
    assert "capabilities_restricted" not in _ids(ps.evaluate(spec, None, "restricted", "v1.21"))


def test_run_as_non_root():
    assert ps.evaluate(_restricted_pod()) == []
    spec = _restricted_pod(_ok_container("a", runAsNonRoot=True), _ok_container("b"), securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    violation = _one(ps.evaluate(spec), "runAsNonRoot")
    assert violation.message == 'runAsNonRoot != true (pod or container "b" must set securityContext.runAsNonRoot=true)'
    spec = _restricted_pod(_ok_container("a", runAsNonRoot=False), _ok_container("b"),
                           securityContext={"runAsNonRoot": False, "seccompProfile": {"type": "RuntimeDefault"}})
    violation = _one(ps.evaluate(spec), "runAsNonRoot")
    assert violation.detail == 'pod and container "a" must not set securityContext.runAsNonRoot=false'
    assert violation.pod is True and violation.containers == ["a", "b"]
    every = _restricted_pod(_ok_container("a", runAsNonRoot=True), securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
    assert ps.evaluate(every) == []


def test_run_as_user():
    spec = _restricted_pod(_ok_container("a", runAsUser=0), _ok_container("b", runAsUser=1000),
                           securityContext={"runAsNonRoot": True, "runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}})
    violation = _one(ps.evaluate(spec), "runAsUser")
    assert violation.message == 'runAsUser=0 (pod and container "a" must not set runAsUser=0)'
    assert "runAsUser" not in _ids(ps.evaluate(spec, None, "restricted", "v1.22"))


def test_user_namespace_relaxations_from_1_35():
    spec = _restricted_pod(_ok_container("a", runAsUser=0, runAsNonRoot=False), hostUsers=False)
    assert ps.evaluate(spec, None, "restricted", "v1.35") == []
    assert _ids(ps.evaluate(spec, None, "restricted", "v1.34")) == ["runAsNonRoot", "runAsUser"]
    spec["hostUsers"] = True
    assert _ids(ps.evaluate(spec, None, "restricted", "latest")) == ["runAsNonRoot", "runAsUser"]


def test_seccomp_restricted():
    spec = _restricted_pod(_ok_container("a", seccompProfile={"type": "Unconfined"}), _ok_container("b"))
    violation = _one(ps.evaluate(spec), "seccompProfile_restricted")
    assert violation.message == 'seccompProfile (container "a" must not set securityContext.seccompProfile.type to "Unconfined")'
    per_container = _restricted_pod(_ok_container("a", seccompProfile={"type": "Localhost", "localhostProfile": "p.json"}),
                                    _ok_container("b", seccompProfile={"type": "RuntimeDefault"}),
                                    securityContext={"runAsNonRoot": True})
    assert ps.evaluate(per_container) == []
    partly = _restricted_pod(_ok_container("a", seccompProfile={"type": "RuntimeDefault"}), _ok_container("b"), _ok_container("c"),
                             securityContext={"runAsNonRoot": True})
    assert _one(ps.evaluate(partly), "seccompProfile_restricted").detail == \
        'pod or containers "b", "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"'
    # before 1.19 the fields were not checked (the baseline annotation check applies)
    assert _ids(ps.evaluate(partly, None, "restricted", "v1.18")) == []


def test_api_server_order_for_a_bad_pod():
    spec = _pod({"name": "x", "securityContext": {"privileged": True, "seLinuxOptions": {"type": "spc_t"}}}, hostNetwork=True)
    warning = ps.format_warning("restricted", "latest", ps.evaluate(spec))
    assert warning == (
        'would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true), '
        'privileged (container "x" must not set securityContext.privileged=true), '
        'seLinuxOptions (container "x" set forbidden securityContext.seLinuxOptions: type "spc_t"), '
        'allowPrivilegeEscalation != false (container "x" must set securityContext.allowPrivilegeEscalation=false), '
        'unrestricted capabilities (container "x" must set securityContext.capabilities.drop=["ALL"]), '
        'runAsNonRoot != true (pod or container "x" must set securityContext.runAsNonRoot=true), '
        'seccompProfile (pod or container "x" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
