# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pod Security Standards evaluator (levels ``privileged``, ``baseline``, ``restricted``; policy versions ``v1.0``..latest).

A pure-Python re-implementation of the checks in ``k8s.io/pod-security-admission/policy`` (``check_*.go``), written
against their documented behaviour (see ../shared/reference/k8s-hardening-anchors.md section 1):

* every check has an ID, a level and one implementation per policy version; a restricted check may override a
  baseline one (``restrictedVolumes`` replaces ``hostPathVolumes``, ``capabilities_restricted`` replaces
  ``capabilities_baseline`` from v1.22, ``seccompProfile_restricted`` replaces ``seccompProfile_baseline`` from v1.19,
  ``procMount_restricted`` replaces ``procMount`` from v1.35);
* checks run in the API server's order: baseline IDs sorted, then restricted IDs sorted, so ``format_warning`` gives
  the same text as the API server's warning
  ``would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (...), ...``;
* ``latest`` (and any version newer than the newest known check) evaluates the newest rules (``LATEST_MINOR``);
* "containers" are init containers, containers and ephemeral containers, in that order.

Objects are plain dicts in the API's camelCase JSON form (manifests, ``to_dict()`` of kubernetes client objects).
Like the API server, a volume without any source counts as ``emptyDir`` (API defaulting); no other defaulting is
applied, so evaluate objects as the API server would see them.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

LEVEL_PRIVILEGED = "privileged"
LEVEL_BASELINE = "baseline"
LEVEL_RESTRICTED = "restricted"
LEVELS = (LEVEL_PRIVILEGED, LEVEL_BASELINE, LEVEL_RESTRICTED)
VERSION_LATEST = "latest"

CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")

# Where the pod template lives in each kind the API server's PodSpecExtractor knows.
POD_TEMPLATE_PATHS = {
    "PodTemplate": ("template",),
    "ReplicationController": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Deployment": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}

CAPABILITIES_BASELINE_ALLOWED = frozenset((
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"))
SELINUX_TYPES_1_0 = frozenset(("", "container_t", "container_init_t", "container_kvm_t"))
SELINUX_TYPES_1_31 = SELINUX_TYPES_1_0 | frozenset(("container_engine_t",))
SYSCTLS_1_0 = frozenset(("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
                         "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"))
SYSCTLS_1_27 = SYSCTLS_1_0 | frozenset(("net.ipv4.ip_local_reserved_ports",))
SYSCTLS_1_29 = SYSCTLS_1_27 | frozenset(("net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                                         "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"))
SYSCTLS_1_32 = SYSCTLS_1_29 | frozenset(("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"))
SYSCTLS_1_37 = SYSCTLS_1_32 | frozenset(("net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"))
RESTRICTED_VOLUME_SOURCES = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim",
                             "projected", "secret")
# Forbidden volume sources in the order check_restrictedVolumes.go names them (JSON field names).
OTHER_VOLUME_SOURCES = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs",
                        "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte",
                        "azureDisk", "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos")

APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"
VALID_SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
VALID_APPARMOR_TYPES = ("RuntimeDefault", "Localhost")

_VERSION_RE = re.compile(r"^v1\.([0-9]|[1-9][0-9]*)$")


class PodSecurityError(ValueError):
    """Invalid level, version or object."""


class Violation(object):
    """One failed check, as the API server reports it.

    ``check_id``: the check's ID (e.g. ``runAsNonRoot``); ``level``: the level the check belongs to;
    ``reason``/``detail``: the API server's ForbiddenReason/ForbiddenDetail; ``containers``: every container the check
    objects to (also those the detail leaves out, e.g. containers with an unset value when another sets a bad one);
    ``pod``: the check objects to pod-level fields or to the pod as a whole (such a violation can not be blamed on
    containers); ``fields``: field paths relative to the pod (``spec.containers[0].securityContext.privileged``).
    """

    __slots__ = ("check_id", "level", "reason", "detail", "containers", "pod", "fields")

    def __init__(self, check_id, level, reason, detail="", containers=None, pod=False, fields=None):
        self.check_id = check_id
        self.level = level
        self.reason = reason
        self.detail = detail or ""
        self.containers = list(containers or [])
        self.pod = bool(pod)
        self.fields = list(fields or [])

    @property
    def message(self):
        """``reason (detail)``, the way the API server prints one check."""
        return "%s (%s)" % (self.reason, self.detail) if self.detail else self.reason

    def to_dict(self):
        """JSON-friendly form for module results."""
        return {"check": self.check_id, "level": self.level, "reason": self.reason, "detail": self.detail,
                "message": self.message, "containers": list(self.containers), "pod": self.pod, "fields": list(self.fields)}

    def __eq__(self, other):
        return isinstance(other, Violation) and self.to_dict() == other.to_dict()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self.check_id, self.reason, self.detail))

    def __repr__(self):
        return "Violation(%r, %r)" % (self.check_id, self.message)


# --------------------------------------------------------------------------- helpers mirroring policy/helpers.go

def join_quote(items):
    """``"a", "b"`` (policy/helpers.go joinQuote)."""
    items = list(items)
    if not items:
        return ""
    return '"' + '", "'.join(items) + '"'


def pluralize(singular, plural, count):
    """policy/helpers.go pluralize."""
    return singular if count == 1 else plural


def _go_quote(value):
    """Go's ``%q`` for the strings that appear in annotations (close enough: JSON string escaping)."""
    return json.dumps(value, ensure_ascii=False)


def is_true(value):
    """A JSON/YAML boolean that is true (also the string ``true``)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def is_false(value):
    """A JSON/YAML boolean that is false (also the string ``false``); unset is neither."""
    if isinstance(value, str):
        return value.strip().lower() == "false"
    return value is False


def _int(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def iter_containers(pod_spec):
    """Yield ``(group, index, container)`` for init containers, containers and ephemeral containers (visitor.go)."""
    for group in CONTAINER_GROUPS:
        for index, container in enumerate(_list((pod_spec or {}).get(group))):
            if isinstance(container, dict):
                yield group, index, container


def _sc(container):
    return _dict(container.get("securityContext"))


def _pod_sc(pod_spec):
    return _dict(pod_spec.get("securityContext"))


def _cpath(group, index, *rest):
    return ".".join(("spec.%s[%d]" % (group, index),) + rest)


def relax_for_user_namespace(pod_spec):
    """policy/helpers.go relaxPolicyForUserNamespacePod: ``hostUsers: false``."""
    return is_false(pod_spec.get("hostUsers"))


def is_windows(pod_spec):
    """``spec.os.name: windows``."""
    return _dict(pod_spec.get("os")).get("name") == "windows"


def _setters(pod_bad, containers):
    parts = ["pod"] if pod_bad else []
    if containers:
        parts.append("%s %s" % (pluralize("container", "containers", len(containers)), join_quote(containers)))
    return " and ".join(parts)


# --------------------------------------------------------------------------- baseline checks

def _check_apparmor(spec, meta):
    bad_setters = []
    bad_values = set()
    fields = []
    pod_bad = False
    profile = _pod_sc(spec).get("appArmorProfile")
    if isinstance(profile, dict) and profile.get("type") not in VALID_APPARMOR_TYPES:
        pod_bad = True
        bad_setters.append("pod")
        bad_values.add(str(profile.get("type") or ""))
        fields.append("spec.securityContext.appArmorProfile.type")
    containers = []
    for group, index, container in iter_containers(spec):
        profile = _sc(container).get("appArmorProfile")
        if isinstance(profile, dict) and profile.get("type") not in VALID_APPARMOR_TYPES:
            containers.append(container.get("name"))
            bad_values.add(str(profile.get("type") or ""))
            fields.append(_cpath(group, index, "securityContext.appArmorProfile.type"))
    if containers:
        bad_setters.append("%s %s" % (pluralize("container", "containers", len(containers)), join_quote(containers)))
    forbidden_annotations = []
    names = [entry[2].get("name") for entry in iter_containers(spec)]
    annotated = []
    for key, value in _dict(meta.get("annotations")).items():
        if not key.startswith(APPARMOR_ANNOTATION_PREFIX):
            continue
        value = "" if value is None else str(value)
        if value == "" or value == "runtime/default" or value.startswith("localhost/"):
            continue
        forbidden_annotations.append("%s=%s" % (key, _go_quote(value)))
        fields.append("metadata.annotations[%s]" % key)
        target = key[len(APPARMOR_ANNOTATION_PREFIX):]
        if target in names:
            annotated.append(target)
        else:
            pod_bad = True
    values = sorted(bad_values)
    if forbidden_annotations:
        forbidden_annotations.sort()
        values.extend(forbidden_annotations)
        bad_setters.append(pluralize("annotation", "annotations", len(forbidden_annotations)))
    if not bad_setters:
        return None
    return ("appArmorProfile", pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
            "%s must not set AppArmor profile type to %s" % (" and ".join(bad_setters), join_quote(values)),
            _unique(containers + annotated), pod_bad, fields)


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def _check_capabilities_baseline(spec, meta):
    containers = []
    forbidden = set()
    fields = []
    for group, index, container in iter_containers(spec):
        caps = _sc(container).get("capabilities")
        if not isinstance(caps, dict):
            continue
        bad = [str(c) for c in _list(caps.get("add")) if c not in CAPABILITIES_BASELINE_ALLOWED]
        if bad:
            forbidden.update(bad)
            containers.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.capabilities.add"))
    if not containers:
        return None
    return ("capabilities_baseline", "non-default capabilities",
            "%s %s must not include %s in securityContext.capabilities.add" % (
                pluralize("container", "containers", len(containers)), join_quote(containers), join_quote(sorted(forbidden))),
            containers, False, fields)


def _check_host_namespaces(spec, meta):
    found = []
    fields = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if is_true(spec.get(field)):
            found.append("%s=true" % field)
            fields.append("spec.%s" % field)
    if not found:
        return None
    return ("hostNamespaces", "host namespaces", ", ".join(found), [], True, fields)


def _check_host_path_volumes(spec, meta):
    names = []
    fields = []
    for index, volume in enumerate(_list(spec.get("volumes"))):
        if isinstance(volume, dict) and volume.get("hostPath") is not None:
            names.append(volume.get("name"))
            fields.append("spec.volumes[%d].hostPath" % index)
    if not names:
        return None
    return ("hostPathVolumes", "hostPath volumes", "%s %s" % (pluralize("volume", "volumes", len(names)), join_quote(names)),
            [], True, fields)


def _check_host_ports(spec, meta):
    containers = []
    ports = set()
    fields = []
    for group, index, container in iter_containers(spec):
        valid = True
        for pindex, port in enumerate(_list(container.get("ports"))):
            host_port = _int(_dict(port).get("hostPort"))
            if host_port:
                valid = False
                ports.add(str(host_port))
                fields.append(_cpath(group, index, "ports[%d].hostPort" % pindex))
        if not valid:
            containers.append(container.get("name"))
    if not containers:
        return None
    return ("hostPorts", "hostPort", "%s %s %s %s %s" % (
        pluralize("container", "containers", len(containers)), join_quote(containers),
        pluralize("uses", "use", len(containers)), pluralize("hostPort", "hostPorts", len(ports)),
        ", ".join(sorted(ports))), containers, False, fields)


def _handler_hosts(handler):
    hosts = []
    handler = _dict(handler)
    for kind in ("httpGet", "tcpSocket"):
        action = handler.get(kind)
        if isinstance(action, dict) and action.get("host"):
            hosts.append(str(action["host"]))
    return hosts


def _check_host_probes(spec, meta):
    containers = set()
    hosts = set()
    fields = []
    for group, index, container in iter_containers(spec):
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            found = _handler_hosts(container.get(probe))
            if found:
                containers.add(container.get("name"))
                hosts.update(found)
                fields.append(_cpath(group, index, probe))
        lifecycle = _dict(container.get("lifecycle"))
        for hook in ("postStart", "preStop"):
            found = _handler_hosts(lifecycle.get(hook))
            if found:
                containers.add(container.get("name"))
                hosts.update(found)
                fields.append(_cpath(group, index, "lifecycle", hook))
    if not containers:
        return None
    names = sorted(containers)
    return ("hostProbesAndHostLifecycle", "probe or lifecycle host", "%s %s %s %s %s" % (
        pluralize("container", "containers", len(names)), join_quote(names), pluralize("uses", "use", len(names)),
        pluralize("probe or lifecycle host", "probe or lifecycle hosts", len(hosts)), join_quote(sorted(hosts))),
        names, False, fields)


def _check_privileged(spec, meta):
    containers = []
    fields = []
    for group, index, container in iter_containers(spec):
        if is_true(_sc(container).get("privileged")):
            containers.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.privileged"))
    if not containers:
        return None
    return ("privileged", "privileged", "%s %s must not set securityContext.privileged=true" % (
        pluralize("container", "containers", len(containers)), join_quote(containers)), containers, False, fields)


def _proc_mount(check_id):
    def check(spec, meta):
        containers = []
        types = set()
        fields = []
        for group, index, container in iter_containers(spec):
            value = _sc(container).get("procMount")
            if value is not None and value != "Default":
                containers.append(container.get("name"))
                types.add(str(value))
                fields.append(_cpath(group, index, "securityContext.procMount"))
        if not containers:
            return None
        return (check_id, "procMount", "%s %s must not set securityContext.procMount to %s" % (
            pluralize("container", "containers", len(containers)), join_quote(containers), join_quote(sorted(types))),
            containers, False, fields)
    return check


def _proc_mount_baseline_1_35(spec, meta):
    if relax_for_user_namespace(spec):
        return None
    return _proc_mount("procMount")(spec, meta)


def _selinux(allowed):
    def check(spec, meta):
        state = {"types": set(), "user": False, "role": False}

        def valid(opts):
            ok = True
            selinux_type = opts.get("type") or ""
            if selinux_type not in allowed:
                ok = False
                state["types"].add(selinux_type)
            if opts.get("user"):
                ok = False
                state["user"] = True
            if opts.get("role"):
                ok = False
                state["role"] = True
            return ok

        pod_bad = False
        fields = []
        opts = _pod_sc(spec).get("seLinuxOptions")
        if isinstance(opts, dict) and not valid(opts):
            pod_bad = True
            fields.append("spec.securityContext.seLinuxOptions")
        containers = []
        for group, index, container in iter_containers(spec):
            opts = _sc(container).get("seLinuxOptions")
            if isinstance(opts, dict) and not valid(opts):
                containers.append(container.get("name"))
                fields.append(_cpath(group, index, "securityContext.seLinuxOptions"))
        if not pod_bad and not containers:
            return None
        data = []
        if state["types"]:
            types = sorted(state["types"])
            data.append("%s %s" % (pluralize("type", "types", len(types)), join_quote(types)))
        if state["user"]:
            data.append("user may not be set")
        if state["role"]:
            data.append("role may not be set")
        return ("seLinuxOptions", "seLinuxOptions", "%s set forbidden securityContext.seLinuxOptions: %s" % (
            _setters(pod_bad, containers), "; ".join(data)), containers, pod_bad, fields)
    return check


def _valid_seccomp_annotation(value):
    return value in ("runtime/default", "docker/default") or value.startswith("localhost/")


def _seccomp_baseline_1_0(spec, meta):
    annotations = _dict(meta.get("annotations"))
    forbidden = set()
    containers = []
    pod_bad = False
    fields = []
    if SECCOMP_POD_ANNOTATION in annotations:
        value = "" if annotations[SECCOMP_POD_ANNOTATION] is None else str(annotations[SECCOMP_POD_ANNOTATION])
        if not _valid_seccomp_annotation(value):
            forbidden.add("%s=%s" % (SECCOMP_POD_ANNOTATION, _go_quote(value)))
            pod_bad = True
            fields.append("metadata.annotations[%s]" % SECCOMP_POD_ANNOTATION)
    for _group, _index, container in iter_containers(spec):
        key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + str(container.get("name"))
        if key in annotations:
            value = "" if annotations[key] is None else str(annotations[key])
            if not _valid_seccomp_annotation(value):
                forbidden.add("%s=%s" % (key, _go_quote(value)))
                containers.append(container.get("name"))
                fields.append("metadata.annotations[%s]" % key)
    if not forbidden:
        return None
    return ("seccompProfile_baseline", "seccompProfile", "forbidden %s %s" % (
        pluralize("annotation", "annotations", len(forbidden)), ", ".join(sorted(forbidden))), containers, pod_bad, fields)


def _seccomp_fields(spec, restricted):
    """Shared part of seccompProfile_baseline (1.19) and seccompProfile_restricted (1.19)."""
    bad_values = set()
    pod_bad = False
    pod_set = False
    fields = []
    profile = _pod_sc(spec).get("seccompProfile")
    if isinstance(profile, dict):
        if profile.get("type") not in VALID_SECCOMP_TYPES:
            pod_bad = True
            bad_values.add(str(profile.get("type") or ""))
            fields.append("spec.securityContext.seccompProfile.type")
        else:
            pod_set = True
    explicit = []
    implicit = []
    for group, index, container in iter_containers(spec):
        profile = _sc(container).get("seccompProfile")
        if isinstance(profile, dict):
            if profile.get("type") not in VALID_SECCOMP_TYPES:
                explicit.append(container.get("name"))
                bad_values.add(str(profile.get("type") or ""))
                fields.append(_cpath(group, index, "securityContext.seccompProfile.type"))
        elif restricted and not pod_set:
            implicit.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.seccompProfile.type"))
    check_id = "seccompProfile_restricted" if restricted else "seccompProfile_baseline"
    if pod_bad or explicit:
        return (check_id, "seccompProfile", "%s must not set securityContext.seccompProfile.type to %s" % (
            _setters(pod_bad, explicit), join_quote(sorted(bad_values))), explicit + implicit, pod_bad, fields)
    if implicit:
        return (check_id, "seccompProfile", 'pod or %s %s must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"' % (
            pluralize("container", "containers", len(implicit)), join_quote(implicit)), implicit, False, fields)
    return None


def _seccomp_baseline_1_19(spec, meta):
    return _seccomp_fields(spec, False)


def _sysctls(allowed):
    def check(spec, meta):
        bad = []
        fields = []
        for index, sysctl in enumerate(_list(_pod_sc(spec).get("sysctls"))):
            name = str(_dict(sysctl).get("name") or "")
            if name not in allowed:
                bad.append(name)
                fields.append("spec.securityContext.sysctls[%d].name" % index)
        if not bad:
            return None
        return ("sysctls", "forbidden sysctls", ", ".join(bad), [], True, fields)
    return check


def _check_windows_host_process(spec, meta):
    containers = []
    fields = []
    for group, index, container in iter_containers(spec):
        if is_true(_dict(_sc(container).get("windowsOptions")).get("hostProcess")):
            containers.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.windowsOptions.hostProcess"))
    pod_bad = is_true(_dict(_pod_sc(spec).get("windowsOptions")).get("hostProcess"))
    if pod_bad:
        fields.insert(0, "spec.securityContext.windowsOptions.hostProcess")
    if not pod_bad and not containers:
        return None
    return ("windowsHostProcess", "hostProcess", "%s must not set securityContext.windowsOptions.hostProcess=true" % (
        _setters(pod_bad, containers)), containers, pod_bad, fields)


# --------------------------------------------------------------------------- restricted checks

def _allow_privilege_escalation_1_8(spec, meta):
    containers = []
    fields = []
    for group, index, container in iter_containers(spec):
        if not is_false(_sc(container).get("allowPrivilegeEscalation")):
            containers.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.allowPrivilegeEscalation"))
    if not containers:
        return None
    return ("allowPrivilegeEscalation", "allowPrivilegeEscalation != false",
            "%s %s must set securityContext.allowPrivilegeEscalation=false" % (
                pluralize("container", "containers", len(containers)), join_quote(containers)), containers, False, fields)


def _windows_exempt(check):
    def wrapped(spec, meta):
        if is_windows(spec):
            return None
        return check(spec, meta)
    return wrapped


def _capabilities_restricted_1_22(spec, meta):
    missing_drop = []
    adding = []
    forbidden = set()
    fields = []
    for group, index, container in iter_containers(spec):
        caps = _sc(container).get("capabilities")
        if not isinstance(caps, dict):
            missing_drop.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.capabilities.drop"))
            continue
        if "ALL" not in _list(caps.get("drop")):
            missing_drop.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.capabilities.drop"))
        bad = [str(c) for c in _list(caps.get("add")) if c != "NET_BIND_SERVICE"]
        if bad:
            forbidden.update(bad)
            adding.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.capabilities.add"))
    details = []
    if missing_drop:
        details.append('%s %s must set securityContext.capabilities.drop=["ALL"]' % (
            pluralize("container", "containers", len(missing_drop)), join_quote(missing_drop)))
    if adding:
        details.append("%s %s must not include %s in securityContext.capabilities.add" % (
            pluralize("container", "containers", len(adding)), join_quote(adding), join_quote(sorted(forbidden))))
    if not details:
        return None
    return ("capabilities_restricted", "unrestricted capabilities", "; ".join(details), _unique(missing_drop + adding), False, fields)


def _restricted_volumes(spec, meta):
    names = []
    types = set()
    fields = []
    for index, volume in enumerate(_list(spec.get("volumes"))):
        volume = _dict(volume)
        if any(volume.get(source) is not None for source in RESTRICTED_VOLUME_SOURCES):
            continue
        present = [key for key, value in volume.items() if key != "name" and value is not None]
        if not present:
            continue  # API defaulting turns a volume without a source into an emptyDir
        names.append(volume.get("name"))
        fields.append("spec.volumes[%d]" % index)
        for source in OTHER_VOLUME_SOURCES:
            if volume.get(source) is not None:
                types.add(source)
                break
        else:
            types.add("unknown")
    if not names:
        return None
    return ("restrictedVolumes", "restricted volume types", "%s %s %s %s %s" % (
        pluralize("volume", "volumes", len(names)), join_quote(names), pluralize("uses", "use", len(names)),
        pluralize("restricted volume type", "restricted volume types", len(types)), join_quote(sorted(types))),
        [], True, fields)


def _run_as_non_root_1_0(spec, meta):
    pod_bad = False
    pod_true = False
    fields = []
    value = _pod_sc(spec).get("runAsNonRoot")
    if value is not None:
        if is_true(value):
            pod_true = True
        else:
            pod_bad = True
            fields.append("spec.securityContext.runAsNonRoot")
    explicit = []
    implicit = []
    for group, index, container in iter_containers(spec):
        value = _sc(container).get("runAsNonRoot")
        if value is not None:
            if not is_true(value):
                explicit.append(container.get("name"))
                fields.append(_cpath(group, index, "securityContext.runAsNonRoot"))
        elif not pod_true:
            implicit.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.runAsNonRoot"))
    if pod_bad or explicit:
        return ("runAsNonRoot", "runAsNonRoot != true", "%s must not set securityContext.runAsNonRoot=false" % (
            _setters(pod_bad, explicit)), explicit + implicit, pod_bad, fields)
    if implicit:
        return ("runAsNonRoot", "runAsNonRoot != true", "pod or %s %s must set securityContext.runAsNonRoot=true" % (
            pluralize("container", "containers", len(implicit)), join_quote(implicit)), implicit, False, fields)
    return None


def _user_namespace_relaxed(check):
    def wrapped(spec, meta):
        if relax_for_user_namespace(spec):
            return None
        return check(spec, meta)
    return wrapped


def _run_as_user_1_23(spec, meta):
    pod_bad = _int(_pod_sc(spec).get("runAsUser")) == 0
    fields = ["spec.securityContext.runAsUser"] if pod_bad else []
    containers = []
    for group, index, container in iter_containers(spec):
        if _int(_sc(container).get("runAsUser")) == 0:
            containers.append(container.get("name"))
            fields.append(_cpath(group, index, "securityContext.runAsUser"))
    if not pod_bad and not containers:
        return None
    return ("runAsUser", "runAsUser=0", "%s must not set runAsUser=0" % _setters(pod_bad, containers), containers, pod_bad, fields)


def _seccomp_restricted_1_19(spec, meta):
    return _seccomp_fields(spec, True)


# --------------------------------------------------------------------------- registry (policy/registry.go)

class _Check(object):
    __slots__ = ("check_id", "level", "versions")

    def __init__(self, check_id, level, versions):
        self.check_id = check_id
        self.level = level
        # (minimum minor version, function, overridden baseline IDs), strictly increasing
        self.versions = versions

    def at(self, minor):
        """The implementation in force at policy version v1.<minor>, or None."""
        current = None
        for minimum, function, overrides in self.versions:
            if minimum <= minor:
                current = (function, overrides)
        return current


CHECKS = (
    _Check("appArmorProfile", LEVEL_BASELINE, [(0, _check_apparmor, ())]),
    _Check("capabilities_baseline", LEVEL_BASELINE, [(0, _check_capabilities_baseline, ())]),
    _Check("hostNamespaces", LEVEL_BASELINE, [(0, _check_host_namespaces, ())]),
    _Check("hostPathVolumes", LEVEL_BASELINE, [(0, _check_host_path_volumes, ())]),
    _Check("hostPorts", LEVEL_BASELINE, [(0, _check_host_ports, ())]),
    _Check("hostProbesAndHostLifecycle", LEVEL_BASELINE, [(34, _check_host_probes, ())]),
    _Check("privileged", LEVEL_BASELINE, [(0, _check_privileged, ())]),
    _Check("procMount", LEVEL_BASELINE, [(0, _proc_mount("procMount"), ()), (35, _proc_mount_baseline_1_35, ())]),
    _Check("seLinuxOptions", LEVEL_BASELINE, [(0, _selinux(SELINUX_TYPES_1_0), ()), (31, _selinux(SELINUX_TYPES_1_31), ())]),
    _Check("seccompProfile_baseline", LEVEL_BASELINE, [(0, _seccomp_baseline_1_0, ()), (19, _seccomp_baseline_1_19, ())]),
    _Check("sysctls", LEVEL_BASELINE, [(0, _sysctls(SYSCTLS_1_0), ()), (27, _sysctls(SYSCTLS_1_27), ()), (29, _sysctls(SYSCTLS_1_29), ()),
                                       (32, _sysctls(SYSCTLS_1_32), ()), (37, _sysctls(SYSCTLS_1_37), ())]),
    _Check("windowsHostProcess", LEVEL_BASELINE, [(0, _check_windows_host_process, ())]),
    _Check("allowPrivilegeEscalation", LEVEL_RESTRICTED, [(8, _allow_privilege_escalation_1_8, ()),
                                                          (25, _windows_exempt(_allow_privilege_escalation_1_8), ())]),
    _Check("capabilities_restricted", LEVEL_RESTRICTED, [(22, _capabilities_restricted_1_22, ("capabilities_baseline",)),
                                                         (25, _windows_exempt(_capabilities_restricted_1_22), ("capabilities_baseline",))]),
    _Check("procMount_restricted", LEVEL_RESTRICTED, [(35, _proc_mount("procMount_restricted"), ("procMount",))]),
    _Check("restrictedVolumes", LEVEL_RESTRICTED, [(0, _restricted_volumes, ("hostPathVolumes",))]),
    _Check("runAsNonRoot", LEVEL_RESTRICTED, [(0, _run_as_non_root_1_0, ()), (35, _user_namespace_relaxed(_run_as_non_root_1_0), ())]),
    _Check("runAsUser", LEVEL_RESTRICTED, [(23, _run_as_user_1_23, ()), (35, _user_namespace_relaxed(_run_as_user_1_23), ())]),
    _Check("seccompProfile_restricted", LEVEL_RESTRICTED, [(19, _seccomp_restricted_1_19, ("seccompProfile_baseline",)),
                                                           (25, _windows_exempt(_seccomp_restricted_1_19), ("seccompProfile_baseline",))]),
)
BASELINE_CHECK_IDS = tuple(sorted(c.check_id for c in CHECKS if c.level == LEVEL_BASELINE))
RESTRICTED_CHECK_IDS = tuple(sorted(c.check_id for c in CHECKS if c.level == LEVEL_RESTRICTED))
# Baseline IDs first, then restricted IDs, each sorted: the order of the API server's messages.
CHECK_IDS = BASELINE_CHECK_IDS + RESTRICTED_CHECK_IDS
# The newest policy version any check knows; "latest" and newer versions evaluate these rules.
LATEST_MINOR = max(version[0] for check in CHECKS for version in check.versions)
_BY_ID = dict((c.check_id, c) for c in CHECKS)


def parse_level(level):
    """Return the level, or raise PodSecurityError (``privileged``, ``baseline``, ``restricted``)."""
    if level not in LEVELS:
        raise PodSecurityError("level must be one of %s, got %r" % (", ".join(LEVELS), level))
    return level


def parse_version(version):
    """Return the minor version whose rules apply (``latest`` and newer versions -> ``LATEST_MINOR``).

    ``version`` is ``latest`` or ``v1.<minor>`` like the ``pod-security.kubernetes.io/*-version`` labels.
    """
    if version is None or version == VERSION_LATEST:
        return LATEST_MINOR
    match = _VERSION_RE.match(str(version))
    if not match:
        raise PodSecurityError('version must be "latest" or "v1.x", got %r' % (version,))
    return min(int(match.group(1)), LATEST_MINOR)


def checks_for(level, version=VERSION_LATEST):
    """IDs of the checks evaluated for ``level`` at ``version``, in the API server's order."""
    level = parse_level(level)
    minor = parse_version(version)
    if level == LEVEL_PRIVILEGED:
        return []
    active = {}
    overridden = set()
    for check in CHECKS:
        if check.level == LEVEL_RESTRICTED and level != LEVEL_RESTRICTED:
            continue
        implementation = check.at(minor)
        if implementation is None:
            continue
        active[check.check_id] = implementation[0]
        if check.level == LEVEL_RESTRICTED:
            overridden.update(implementation[1])
    return [cid for cid in CHECK_IDS if cid in active and cid not in overridden]


def evaluate(pod_spec, pod_metadata=None, level=LEVEL_RESTRICTED, version=VERSION_LATEST):
    """Violations of ``level`` at policy ``version`` by a pod spec (and its metadata: annotations), as ``Violation``s.

    An empty list means the pod is allowed. ``privileged`` allows everything.
    """
    if pod_spec is not None and not isinstance(pod_spec, dict):
        raise PodSecurityError("pod_spec must be a dict, got %s" % type(pod_spec).__name__)
    spec = pod_spec or {}
    meta = pod_metadata if isinstance(pod_metadata, dict) else {}
    minor = parse_version(version)
    violations = []
    for check_id in checks_for(level, version):
        check = _BY_ID[check_id]
        result = check.at(minor)[0](spec, meta)
        if result is None:
            continue
        cid, reason, detail, containers, pod, fields = result
        violations.append(Violation(cid, check.level, reason, detail, containers, pod, fields))
    return violations


def format_reason(violations):
    """``reason, reason`` (AggregateCheckResult.ForbiddenReason)."""
    return ", ".join(v.reason for v in violations)


def format_detail(violations):
    """``reason (detail), reason (detail)`` (AggregateCheckResult.ForbiddenDetail)."""
    return ", ".join(v.message for v in violations)


def format_warning(level, version, violations):
    """The API server's warning for a pod (or pod template) that violates ``level:version``, or None when none.

    ``would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "x" must ...), ...``.
    The version is printed as given (``latest``, ``v1.34``), as the namespace label says.
    """
    if not violations:
        return None
    return 'would violate PodSecurity "%s:%s": %s' % (level, version or VERSION_LATEST, format_detail(violations))


def format_error(level, version, violations):
    """The API server's rejection text (enforce mode): ``violates PodSecurity "level:version": ...``, or None."""
    if not violations:
        return None
    return 'violates PodSecurity "%s:%s": %s' % (level, version or VERSION_LATEST, format_detail(violations))


def highest_level_passed(pod_spec, pod_metadata=None, version=VERSION_LATEST):
    """``restricted``, ``baseline`` or ``privileged``: the strictest level the pod passes."""
    if not evaluate(pod_spec, pod_metadata, LEVEL_RESTRICTED, version):
        return LEVEL_RESTRICTED
    if not evaluate(pod_spec, pod_metadata, LEVEL_BASELINE, version):
        return LEVEL_BASELINE
    return LEVEL_PRIVILEGED


# --------------------------------------------------------------------------- objects

def template_path(kind):
    """Keys leading from an object of ``kind`` to its pod template (``()`` for a Pod), or raise PodSecurityError."""
    if kind == "Pod":
        return ()
    try:
        return POD_TEMPLATE_PATHS[kind]
    except KeyError:
        raise PodSecurityError("kind %r has no pod template (supported: Pod, %s)" % (kind, ", ".join(sorted(POD_TEMPLATE_PATHS))))


def pod_template(obj):
    """``(metadata, spec)`` of the pod an object runs: a Pod itself, or the pod template of a PodTemplate,
    ReplicationController, ReplicaSet, Deployment, DaemonSet, StatefulSet, Job or CronJob.

    Missing parts come back as empty dicts (the objects themselves, not copies).
    """
    if not isinstance(obj, dict):
        raise PodSecurityError("expected an object dict, got %s" % type(obj).__name__)
    kind = obj.get("kind") or "Pod"
    node = obj
    for key in template_path(kind):
        node = _dict(node.get(key))
    return _dict(node.get("metadata")), _dict(node.get("spec"))


def pod_template_spec(obj):
    """The pod spec of ``pod_template(obj)``."""
    return pod_template(obj)[1]


def evaluate_object(obj, level=LEVEL_RESTRICTED, version=VERSION_LATEST):
    """``evaluate`` on the pod (template) of a Pod or workload object."""
    metadata, spec = pod_template(obj)
    return evaluate(spec, metadata, level, version)
