# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan securityContext changes that make a Flyte workload pass a Pod Security Standards profile.

``plan_workload(workload, options)`` takes a Deployment, StatefulSet, DaemonSet, Job or CronJob (a dict in the API's
camelCase JSON form) and returns the desired pod and container securityContexts, the emptyDir volumes and mounts it
adds, a minimal **strategic merge patch** (``patch_type: strategic``), the Pod Security violations before and after
(``pod_security.evaluate``), and ``changed``. ``plan_workloads`` plans every target of the flyte_securitycontext module (its result entries and the
reasons not to write). Pure functions; the module does the API calls.

Decisions (documented for the module and the role):

* **Patch, never replace.** The patch names only the fields this planner manages and whose value changes. Containers
  are merged by ``name``, volumes by ``name``, volumeMounts by ``mountPath`` (the API's strategic-merge keys), so
  other containers, volumes, mounts and securityContext fields stay as they are. A field is removed with ``null``.
  Values that are already compliant are kept (an existing ``Localhost`` seccomp profile, ``drop: [ALL, NET_RAW]``,
  an existing non-zero UID). Planning the patched workload again gives ``changed=False`` and an empty patch.
* **profile=restricted** (default). Pod: ``runAsNonRoot: true``, numeric ``runAsUser``/``runAsGroup``/``fsGroup``,
  ``seccompProfile: {type: RuntimeDefault}`` when missing or invalid. Every container (init containers included):
  ``allowPrivilegeEscalation: false``, ``capabilities: {drop: [ALL]}`` (``add: [NET_BIND_SERVICE]`` only with
  ``allow_net_bind_service``, any other ``add`` is removed), ``privileged: false``, ``readOnlyRootFilesystem: true``
  plus an emptyDir at every writable path (default ``/tmp``), and removal of values restricted forbids
  (``runAsNonRoot: false``, ``runAsUser: 0``, ``runAsGroup: 0``, ``procMount`` other than Default, Unconfined
  seccomp/AppArmor; an invalid container seccomp profile is replaced by ``seccomp_profile``).
* **profile=baseline** changes only what baseline forbids (SELinux type/user/role, ``privileged: true``, capabilities
  outside the default set, ``procMount``, Unconfined seccomp/AppArmor); ``readOnlyRootFilesystem`` only when
  ``read_only_root_filesystem: true`` is asked for. Host namespaces, hostPath volumes, host ports, probe hosts,
  sysctls and Windows hostProcess are never rewritten: they are reported as errors.
* **IDs.** A workload's existing non-zero ``runAsUser``/``runAsGroup``/``fsGroup`` are kept (``override_ids: true``
  replaces them with the options). Missing (or 0) ones get the option, else the image's default:
  ``65534`` for flyte-binary (its image has no USER, the chart's podSecurityContext uses 65534), ``1001`` for the
  flyte-core images that say ``USER flyte`` by name (the chart's UID; the kubelet refuses ``runAsNonRoot`` with a
  non-numeric image user), ``1000`` for flyteconsole (``USER 1000``), ``65534`` otherwise. ``runAsGroup`` defaults
  to the chosen UID (a private group rather than the root group a UID without a passwd entry gets) and ``fsGroup``
  to the chosen GID.
* **openshift: true** removes ``runAsUser``, ``runAsGroup`` and ``fsGroup`` (pod level, and container level outside
  exemptions) instead of setting them: the restricted-v2 SCC assigns them from the namespace's range and rejects pods
  whose explicit IDs (1001, 65534) lie outside it. ``runAsNonRoot: true`` stays (SCC UIDs are non-zero).
* **SELinux.** Types baseline forbids (``spc_t``, which the flyte-core chart sets) are removed; ``user``/``role`` are
  removed; ``level`` is kept. ``keep_selinux_type: container_t`` replaces a forbidden type by that allowed type
  instead (for admission policies that require a type to be set, the reason the chart set ``spc_t``).
* **Exemptions** ``{container, justification, checks?, workload?, run_as_user?}``: the planner does not apply the
  fixes of the named checks (default: all) to that container, and after-state violations that only concern exempt
  containers for exempt checks are accepted and listed with their justification. Pod-level settings still apply to
  an exempt container unless it overrides them; ``run_as_user`` pins its UID (``0`` also sets
  ``runAsNonRoot: false`` and needs the runAsNonRoot and runAsUser checks exempted).
* **wait_for_db_as_postgres** runs flyte-binary's ``wait-for-db`` init container as the postgres image's own user
  (UID/GID 70 in ``postgres:*-alpine``, 999 in the Debian images) instead of the pod's UID; without it pg_isready
  runs as the pod's UID, which needs no exemption either.
* ``allowPrivilegeEscalation: false`` is not set on a container that stays privileged or keeps CAP_SYS_ADMIN through
  an exemption (the API rejects that combination); the check then needs an exemption too.
* Kinds: the pod template of Deployments, StatefulSets, DaemonSets and Jobs is at ``spec.template``, of CronJobs at
  ``spec.jobTemplate.spec.template``. A Job's pod template is immutable: ``plan['template_immutable']`` says so.
* If the after-state would still violate the profile outside the exemptions, ``plan['error']`` says so and the module
  must not write. Bad options raise ``SecurityContextError`` whose ``option`` names the option.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import hashlib
import posixpath
import re

from ansible_collections.flytesec.hardening.plugins.module_utils.policy import pod_security as ps
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout as ro

PROFILES = (ps.LEVEL_RESTRICTED, ps.LEVEL_BASELINE)
SUPPORTED_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
IMMUTABLE_TEMPLATE_KINDS = ("Job",)
PATCH_TYPE = "strategic"

FLYTE_BINARY_UID = 65534
FLYTE_CORE_UID = 1001
FLYTECONSOLE_UID = 1000
FALLBACK_UID = 65534
USER_FLYTE_IMAGES = ("flyteadmin", "flytepropeller", "datacatalog", "flytescheduler")
WAIT_FOR_DB_CONTAINER = "wait-for-db"
POSTGRES_ALPINE_UID = 70
POSTGRES_DEBIAN_UID = 999
VOLUME_PREFIX = "flytesec-"
DEFAULT_WRITABLE_PATHS = ("/tmp",)
SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
RORFS_CHECK = "readOnlyRootFilesystem"

# Checks about the pod as a whole: they can not be exempted per container.
POD_LEVEL_CHECKS = ("hostNamespaces", "hostPathVolumes", "restrictedVolumes", "sysctls")
# IDs that name the same rule at the two levels: exempting one exempts both.
CHECK_FAMILIES = (
    ("capabilities_baseline", "capabilities_restricted"),
    ("seccompProfile_baseline", "seccompProfile_restricted"),
    ("procMount", "procMount_restricted"),
)
CHECK_ALIASES = {"capabilities": CHECK_FAMILIES[0], "seccompProfile": CHECK_FAMILIES[1]}
CONTAINER_CHECKS = tuple(c for c in ps.CHECK_IDS if c not in POD_LEVEL_CHECKS) + (RORFS_CHECK,)

MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
              "volumeMounts": "mountPath", "env": "name", "imagePullSecrets": "name"}

DEFAULTS = {
    "profile": ps.LEVEL_RESTRICTED,
    "version": ps.VERSION_LATEST,
    "run_as_user": None,
    "run_as_group": None,
    "fs_group": None,
    "override_ids": False,
    "seccomp_profile": "RuntimeDefault",
    "seccomp_localhost_profile": None,
    "read_only_root_filesystem": None,
    "writable_paths": None,
    "allow_net_bind_service": False,
    "keep_selinux_type": None,
    "openshift": False,
    "exemptions": None,
    "wait_for_db_as_postgres": False,
}
# The planner's options (module parameters of the same names; ``None`` means the default).
OPTION_NAMES = tuple(sorted(DEFAULTS))
EXEMPTION_KEYS = ("container", "justification", "checks", "workload", "run_as_user")


class SecurityContextError(ValueError):
    """Invalid input. ``option`` names the offending option (``None`` when the workload itself is the problem)."""

    def __init__(self, option, message):
        ValueError.__init__(self, message)
        self.option = option


# --------------------------------------------------------------------------- options

def _bool(opts, name):
    value = opts.get(name)
    if value is None:
        return DEFAULTS[name]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.strip().lower() in ("true", "yes", "on", "1")
    raise SecurityContextError(name, "%s must be a boolean, got %r" % (name, value))


def _id(value, name, what, allow_zero=False):
    if value is None:
        return None
    if isinstance(value, bool):
        raise SecurityContextError(name, "%s must be an integer %s, got %r" % (name, what, value))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SecurityContextError(name, "%s must be an integer %s, got %r" % (name, what, value))
    if number < 0 or (number == 0 and not allow_zero):
        raise SecurityContextError(name, "%s must be a non-zero %s, got %r" % (name, what, value))
    return number


def _path(value, label):
    if not isinstance(value, str) or not value.startswith("/"):
        raise SecurityContextError("writable_paths", "%s: %r is not an absolute path" % (label, value))
    normalized = posixpath.normpath(value)
    if normalized == "/" or ".." in value.split("/"):
        raise SecurityContextError("writable_paths", "%s: %r can not be mounted as a writable emptyDir" % (label, value))
    return normalized


def _writable_paths(value):
    name = "writable_paths"
    if value is None:
        return {"*": list(DEFAULT_WRITABLE_PATHS)}
    if isinstance(value, (list, tuple)):
        value = {"*": list(value)}
    if not isinstance(value, dict):
        raise SecurityContextError(name, "%s must be a list of paths or a dict of container name -> list of paths" % name)
    result = {}
    for container, paths in value.items():
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, (list, tuple)):
            raise SecurityContextError(name, "%s[%s] must be a list of paths" % (name, container))
        result[str(container)] = _dedupe(_path(p, "%s[%s]" % (name, container)) for p in paths)
    result.setdefault("*", [])
    return result


def _dedupe(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def expand_checks(checks, label="checks"):
    """Expand check IDs and aliases (``capabilities``, ``seccompProfile``) to a set of IDs; raise on unknown ones."""
    result = set()
    for check in checks:
        if check in CHECK_ALIASES:
            result.update(CHECK_ALIASES[check])
            continue
        if check in POD_LEVEL_CHECKS:
            raise SecurityContextError("exemptions", "%s: %r is a pod-level check and can not be exempted per container" % (label, check))
        if check not in CONTAINER_CHECKS:
            raise SecurityContextError("exemptions", "%s: unknown check %r; valid: %s" % (
                label, check, ", ".join(sorted(CONTAINER_CHECKS + tuple(CHECK_ALIASES)))))
        result.add(check)
        for family in CHECK_FAMILIES:
            if check in family:
                result.update(family)
    return result


def _exemptions(value):
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise SecurityContextError("exemptions", "exemptions must be a list of {container, justification, checks}")
    result = []
    for index, item in enumerate(value):
        label = "exemptions[%d]" % index
        if not isinstance(item, dict):
            raise SecurityContextError("exemptions", "%s must be a dict with container and justification" % label)
        unknown = sorted(set(item) - set(EXEMPTION_KEYS))
        if unknown:
            raise SecurityContextError("exemptions", "%s: unknown key(s) %s; valid: %s" % (label, ", ".join(unknown), ", ".join(EXEMPTION_KEYS)))
        container = item.get("container")
        if not isinstance(container, str) or not container.strip():
            raise SecurityContextError("exemptions", "%s.container is required" % label)
        justification = item.get("justification")
        if not isinstance(justification, str) or not justification.strip():
            raise SecurityContextError("exemptions", "%s.justification is required: say why container %r can not be hardened" % (label, container))
        workload = item.get("workload")
        if workload is not None and (not isinstance(workload, str) or not workload.strip()):
            raise SecurityContextError("exemptions", "%s.workload must be a workload name" % label)
        checks = item.get("checks")
        if checks is None:
            names = list(CONTAINER_CHECKS)
            expanded = set(CONTAINER_CHECKS)
        else:
            if isinstance(checks, str):
                checks = [checks]
            if not isinstance(checks, (list, tuple)) or not checks:
                raise SecurityContextError("exemptions", "%s.checks must be a non-empty list of check IDs (omit it to exempt all)" % label)
            names = list(checks)
            expanded = expand_checks(checks, "%s.checks" % label)
        run_as_user = _id(item.get("run_as_user"), "%s.run_as_user" % label, "UID", allow_zero=True)
        if run_as_user == 0 and not {"runAsNonRoot", "runAsUser"} <= expanded:
            raise SecurityContextError("exemptions", "%s.run_as_user 0 runs the container as root: its checks must include runAsNonRoot and runAsUser" % label)
        result.append({"container": container.strip(), "justification": justification.strip(), "checks": names,
                       "expanded": sorted(expanded), "workload": workload.strip() if workload else None,
                       "run_as_user": run_as_user})
    return result


def normalize_options(options=None):
    """Validate and complete the options; return a new dict. Raises ``SecurityContextError`` naming the option.

    Normalizing already normalized options gives the same result.
    """
    opts = dict(options or {})
    if opts.get("_normalized"):
        return opts
    unknown = sorted(set(opts) - set(DEFAULTS))
    if unknown:
        raise SecurityContextError(unknown[0], "unknown option(s) %s; valid: %s" % (", ".join(unknown), ", ".join(sorted(DEFAULTS))))
    out = {}
    profile = opts.get("profile") or DEFAULTS["profile"]
    if profile not in PROFILES:
        raise SecurityContextError("profile", "profile must be one of %s, got %r" % (", ".join(PROFILES), profile))
    out["profile"] = profile
    version = opts.get("version") or DEFAULTS["version"]
    try:
        minor = ps.parse_version(version)
    except ps.PodSecurityError:
        raise SecurityContextError("version", 'version must be "latest" or "v1.<minor>" (as in the pod-security labels), got %r' % (version,))
    out["version"] = version
    out["minor"] = minor
    out["run_as_user"] = _id(opts.get("run_as_user"), "run_as_user", "UID")
    out["run_as_group"] = _id(opts.get("run_as_group"), "run_as_group", "GID")
    out["fs_group"] = _id(opts.get("fs_group"), "fs_group", "GID")
    for name in ("override_ids", "allow_net_bind_service", "openshift", "wait_for_db_as_postgres"):
        out[name] = _bool(opts, name)
    rorfs = opts.get("read_only_root_filesystem")
    out["read_only_root_filesystem"] = None if rorfs is None else _bool(opts, "read_only_root_filesystem")
    seccomp = opts.get("seccomp_profile") or DEFAULTS["seccomp_profile"]
    if seccomp not in SECCOMP_TYPES:
        raise SecurityContextError("seccomp_profile", "seccomp_profile must be one of %s, got %r" % (", ".join(SECCOMP_TYPES), seccomp))
    localhost = opts.get("seccomp_localhost_profile")
    if seccomp == "Localhost" and not localhost:
        raise SecurityContextError("seccomp_localhost_profile", "seccomp_localhost_profile is required when seccomp_profile is Localhost")
    if seccomp != "Localhost" and localhost:
        raise SecurityContextError("seccomp_localhost_profile", "seccomp_localhost_profile is only valid with seccomp_profile=Localhost")
    out["seccomp_profile"] = seccomp
    out["seccomp_localhost_profile"] = localhost or None
    out["writable_paths"] = _writable_paths(opts.get("writable_paths"))
    keep = opts.get("keep_selinux_type")
    if keep is not None:
        allowed = ps.SELINUX_TYPES_1_31 if minor >= 31 else ps.SELINUX_TYPES_1_0
        if not isinstance(keep, str) or keep not in allowed or not keep:
            raise SecurityContextError("keep_selinux_type", "keep_selinux_type must be a type Pod Security baseline %s allows (%s), got %r" % (
                version, ", ".join(sorted(t for t in allowed if t)), keep))
    out["keep_selinux_type"] = keep
    out["exemptions"] = _exemptions(opts.get("exemptions"))
    if out["openshift"]:
        for name in ("run_as_user", "run_as_group", "fs_group"):
            if out[name] is not None:
                raise SecurityContextError(name, "%s can not be combined with openshift=true: the SCC assigns it" % name)
        if out["wait_for_db_as_postgres"]:
            raise SecurityContextError("wait_for_db_as_postgres", "wait_for_db_as_postgres can not be combined with openshift=true: the SCC assigns UIDs")
        for item in out["exemptions"]:
            if item["run_as_user"] is not None:
                raise SecurityContextError("exemptions", "exemptions: run_as_user of container %r can not be combined with openshift=true" % item["container"])
    if out["wait_for_db_as_postgres"]:
        for item in out["exemptions"]:
            if item["container"] == WAIT_FOR_DB_CONTAINER and item["run_as_user"] is not None:
                raise SecurityContextError("wait_for_db_as_postgres", "wait_for_db_as_postgres and an exemption with run_as_user for %s "
                                           "are alternatives; choose one" % WAIT_FOR_DB_CONTAINER)
    out["_normalized"] = True
    return out


# --------------------------------------------------------------------------- strategic merge patch

def strategic_merge(target, patch, _key=None):
    """Apply a strategic merge patch the way the API server does for the shapes the planner produces.

    Maps merge (``null`` deletes), lists keyed in ``MERGE_KEYS`` merge by that key (new items are appended),
    every other list is replaced. Returns a new object; ``target`` is not changed.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = strategic_merge(result.get(key), value, key)
        elif isinstance(value, list) and key in MERGE_KEYS and isinstance(result.get(key), list):
            merge_key = MERGE_KEYS[key]
            items = copy.deepcopy(result[key])
            for item in value:
                for index, existing in enumerate(items):
                    if isinstance(existing, dict) and isinstance(item, dict) and existing.get(merge_key) == item.get(merge_key):
                        items[index] = strategic_merge(existing, item, key)
                        break
                else:
                    items.append(copy.deepcopy(item))
            result[key] = items
        else:
            result[key] = copy.deepcopy(value)
    return result


def _clean(value):
    """Drop ``None`` values (YAML nulls) recursively from maps."""
    if isinstance(value, dict):
        return dict((k, _clean(v)) for k, v in value.items() if v is not None)
    return value


def map_patch(before, after):
    """The merge patch that turns map ``before`` into map ``after``: changed keys, nested maps recursively,
    removed keys as ``None``. Empty when they are equal."""
    before = _clean(before) or {}
    after = _clean(after) or {}
    patch = {}
    for key, value in after.items():
        if key not in before:
            patch[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(before[key], dict):
            sub = map_patch(before[key], value)
            if sub:
                patch[key] = sub
        elif before[key] != value:
            patch[key] = copy.deepcopy(value)
    for key in before:
        if key not in after:
            patch[key] = None
    return dict(sorted(patch.items()))


# --------------------------------------------------------------------------- helpers

# The evaluator's helpers: one definition of what counts as a mapping, a list, an integer.
_dict = ps._dict
_list = ps._list
_int = ps._int


def image_repository(image):
    """Last path segment of an image reference without tag or digest (``cr.flyte.org/flyteorg/flyteadmin:v1`` -> ``flyteadmin``)."""
    image = (image or "").split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def image_default_uid(pod_spec):
    """``(uid, why)``: the UID a pod of these images should run as when it declares none."""
    repos = [image_repository(c.get("image")) for c in _list(pod_spec.get("containers")) if isinstance(c, dict)]
    if any(r == "flyte-binary" or r.startswith("flyte-binary") for r in repos):
        return FLYTE_BINARY_UID, "flyte-binary image has no USER"
    if any(r in USER_FLYTE_IMAGES for r in repos):
        return FLYTE_CORE_UID, "flyte-core image sets USER flyte by name"
    if "flyteconsole" in repos:
        return FLYTECONSOLE_UID, "flyteconsole image sets USER 1000"
    return FALLBACK_UID, "no known image user"


def postgres_uid(image):
    """UID of the ``postgres`` user in the official postgres images (70 in alpine, 999 in Debian)."""
    return POSTGRES_ALPINE_UID if "alpine" in (image or "") else POSTGRES_DEBIAN_UID


def volume_name(path):
    """Deterministic emptyDir name for a writable path: ``/tmp`` -> ``flytesec-tmp``, at most 63 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower()).strip("-") or "root"
    name = VOLUME_PREFIX + slug
    if len(name) > 63:
        digest = hashlib.sha1(path.encode("utf-8")).hexdigest()[:8]
        name = (name[:54].rstrip("-") + "-" + digest)
    return name


def _seccomp(opts):
    profile = {"type": opts["seccomp_profile"]}
    if opts["seccomp_localhost_profile"]:
        profile["localhostProfile"] = opts["seccomp_localhost_profile"]
    return profile


def _allowed_selinux(opts):
    return ps.SELINUX_TYPES_1_31 if opts["minor"] >= 31 else ps.SELINUX_TYPES_1_0


def _fix_selinux(sc, opts):
    options = sc.get("seLinuxOptions")
    if not isinstance(options, dict):
        return
    options = dict(options)
    if (options.get("type") or "") not in _allowed_selinux(opts):
        if opts["keep_selinux_type"]:
            options["type"] = opts["keep_selinux_type"]
        else:
            options.pop("type", None)
    options.pop("user", None)
    options.pop("role", None)
    if options:
        sc["seLinuxOptions"] = options
    else:
        sc.pop("seLinuxOptions", None)


def _fix_apparmor(sc):
    profile = sc.get("appArmorProfile")
    if isinstance(profile, dict) and profile.get("type") not in ps.VALID_APPARMOR_TYPES:
        sc.pop("appArmorProfile", None)


def _seccomp_invalid(sc):
    profile = sc.get("seccompProfile")
    return profile is not None and _dict(profile).get("type") not in ps.VALID_SECCOMP_TYPES


def _choose_id(current, option, default, override):
    current = _int(current)
    if option is not None and (override or not current):
        return option, "option"
    if current:
        return current, "kept"
    return default, "default"


class _Exempt(object):
    """Exemptions that apply to one workload, by container name."""

    def __init__(self, exemptions, workload_name, container_names):
        self.by_container = {}
        self.applied = []
        for item in exemptions:
            if item["workload"] and item["workload"] != workload_name:
                continue
            if item["container"] not in container_names:
                continue
            entry = self.by_container.setdefault(item["container"], {"checks": set(), "justifications": [], "run_as_user": None})
            entry["checks"].update(item["expanded"])
            entry["justifications"].append(item["justification"])
            if item["run_as_user"] is not None:
                entry["run_as_user"] = item["run_as_user"]
            self.applied.append({"container": item["container"], "justification": item["justification"],
                                 "checks": list(item["checks"]), "workload": workload_name})

    def checks(self, container):
        return self.by_container.get(container, {}).get("checks", set())

    def covers(self, violation):
        """True when the violation only concerns exempt containers, each exempt from its check."""
        if violation.pod or not violation.containers:
            return False
        return all(violation.check_id in self.checks(name) for name in violation.containers)

    def justification(self, violation):
        return "; ".join(_dedupe(j for name in violation.containers for j in self.by_container[name]["justifications"]))


# --------------------------------------------------------------------------- planning

def _plan_pod(pod_sc, spec, opts, notes):
    restricted = opts["profile"] == ps.LEVEL_RESTRICTED
    _fix_selinux(pod_sc, opts)
    _fix_apparmor(pod_sc)
    if _seccomp_invalid(pod_sc) or (restricted and pod_sc.get("seccompProfile") is None):
        pod_sc["seccompProfile"] = _seccomp(opts)
    if not restricted:
        return
    pod_sc["runAsNonRoot"] = True
    if opts["openshift"]:
        for field in ("runAsUser", "runAsGroup", "fsGroup"):
            if pod_sc.pop(field, None) is not None:
                notes.append("removed pod securityContext.%s: the OpenShift SCC assigns it" % field)
        return
    default_uid, why = image_default_uid(spec)
    uid, source = _choose_id(pod_sc.get("runAsUser"), opts["run_as_user"], default_uid, opts["override_ids"])
    if source == "default":
        notes.append("runAsUser %d: %s" % (uid, why))
    gid, _source = _choose_id(pod_sc.get("runAsGroup"), opts["run_as_group"], uid, opts["override_ids"])
    fs_group, _source = _choose_id(pod_sc.get("fsGroup"), opts["fs_group"], gid, opts["override_ids"])
    pod_sc["runAsUser"] = uid
    pod_sc["runAsGroup"] = gid
    pod_sc["fsGroup"] = fs_group


def _plan_container(container, spec, opts, exempt_checks, exemption, notes):
    """Return the container's desired securityContext and whether its root filesystem is made read-only."""
    name = container.get("name")
    sc = copy.deepcopy(_clean(_dict(container.get("securityContext"))))
    restricted = opts["profile"] == ps.LEVEL_RESTRICTED

    def managed(*checks):
        return not any(check in exempt_checks for check in checks)

    if managed("seLinuxOptions"):
        _fix_selinux(sc, opts)
    if managed("appArmorProfile"):
        _fix_apparmor(sc)
    if managed("seccompProfile_baseline", "seccompProfile_restricted") and _seccomp_invalid(sc):
        sc["seccompProfile"] = _seccomp(opts)
    relaxed_proc_mount = not restricted and opts["minor"] >= 35 and ps.relax_for_user_namespace(spec)
    if managed("procMount", "procMount_restricted") and sc.get("procMount") not in (None, "Default") and not relaxed_proc_mount:
        sc.pop("procMount", None)
    if managed("privileged") and (restricted or ps.is_true(sc.get("privileged"))):
        sc["privileged"] = False
    caps = _dict(sc.get("capabilities"))
    if restricted and managed("capabilities_restricted"):
        caps = dict(caps)
        if "ALL" not in _list(caps.get("drop")):
            caps["drop"] = ["ALL"]
        if opts["allow_net_bind_service"]:
            caps["add"] = ["NET_BIND_SERVICE"]
        else:
            caps.pop("add", None)
        sc["capabilities"] = caps
    elif not restricted and managed("capabilities_baseline") and caps.get("add"):
        caps = dict(caps)
        kept = [c for c in _list(caps.get("add")) if c in ps.CAPABILITIES_BASELINE_ALLOWED]
        if kept:
            caps["add"] = kept
        else:
            caps.pop("add", None)
        if caps:
            sc["capabilities"] = caps
        else:
            sc.pop("capabilities", None)
    if restricted:
        if managed("allowPrivilegeEscalation"):
            adds = set(_list(_dict(sc.get("capabilities")).get("add")))
            if ps.is_true(sc.get("privileged")) or adds & {"SYS_ADMIN", "CAP_SYS_ADMIN"}:
                notes.append("container %s: allowPrivilegeEscalation left as is (privileged or CAP_SYS_ADMIN, exempted)" % name)
            else:
                sc["allowPrivilegeEscalation"] = False
        if managed("runAsNonRoot") and sc.get("runAsNonRoot") is not None and not ps.is_true(sc.get("runAsNonRoot")):
            sc.pop("runAsNonRoot", None)
        if managed("runAsUser"):
            for field in ("runAsUser", "runAsGroup"):
                value = _int(sc.get(field))
                if value == 0 or (opts["openshift"] and value is not None):
                    sc.pop(field, None)
    if name == WAIT_FOR_DB_CONTAINER and opts["wait_for_db_as_postgres"]:
        uid = postgres_uid(container.get("image"))
        sc["runAsUser"] = uid
        sc["runAsGroup"] = uid
    if exemption and exemption.get("run_as_user") is not None:
        sc["runAsUser"] = exemption["run_as_user"]
        if exemption["run_as_user"] == 0:
            sc["runAsNonRoot"] = False
    rorfs = opts["read_only_root_filesystem"]
    if rorfs is None:
        rorfs = restricted
    read_only = bool(rorfs) and managed(RORFS_CHECK)
    if read_only:
        sc["readOnlyRootFilesystem"] = True
    return sc, read_only


def _fix_annotations(annotations, container_names, exempt, opts):
    result = dict(_dict(annotations))
    for key, value in list(result.items()):
        if key.startswith(ps.APPARMOR_ANNOTATION_PREFIX):
            target = key[len(ps.APPARMOR_ANNOTATION_PREFIX):]
            if target in container_names and "appArmorProfile" in exempt.checks(target):
                continue
            value = "" if value is None else str(value)
            if not (value == "" or value == "runtime/default" or value.startswith("localhost/")):
                result[key] = "runtime/default"
        elif opts["minor"] < 19 and (key == ps.SECCOMP_POD_ANNOTATION or key.startswith(ps.SECCOMP_CONTAINER_ANNOTATION_PREFIX)):
            target = key[len(ps.SECCOMP_CONTAINER_ANNOTATION_PREFIX):] if key != ps.SECCOMP_POD_ANNOTATION else None
            if target and "seccompProfile_baseline" in exempt.checks(target):
                continue
            value = "" if value is None else str(value)
            if value not in ("runtime/default", "docker/default") and not value.startswith("localhost/"):
                result[key] = "runtime/default"
    return result


def _summary(spec):
    containers = {}
    mounts = {}
    for group in ("initContainers", "containers"):
        for container in _list(spec.get(group)):
            containers[container.get("name")] = _clean(_dict(container.get("securityContext")))
            mounts[container.get("name")] = [m.get("mountPath") for m in _list(container.get("volumeMounts")) if isinstance(m, dict)]
    return {"securityContext": _clean(_dict(spec.get("securityContext"))), "containers": containers,
            "volumes": [v.get("name") for v in _list(spec.get("volumes")) if isinstance(v, dict)], "volumeMounts": mounts}


def _wrap(path, value):
    for key in reversed(path):
        value = {key: value}
    return value


def _template(obj, path):
    node = obj
    for key in path:
        node = _dict(node.get(key))
    return node


def plan_workload(workload, options=None):
    """Plan the securityContext changes for one workload; see the module docstring for the rules.

    Returns a dict: ``kind``, ``name``, ``namespace``, ``profile``, ``version``, ``changed``, ``patch_type``
    (``strategic``), ``patch`` (``{}`` when unchanged), ``template_path``, ``template_immutable`` (Jobs),
    ``pod_security_context`` and ``container_security_contexts`` (desired, after the patch), ``added_volumes``,
    ``added_volume_mounts`` (container -> mounts), ``diff`` (``before``/``after`` summaries), ``violations_before`` /
    ``violations_after`` (dicts from ``pod_security.Violation.to_dict``), ``warning_before``/``warning_after`` (the API
    server's warning text or None), ``level_before``/``level_after`` (highest level passed), ``exemptions`` (the ones
    that apply here), ``exempted_violations``, ``unresolved`` and ``error`` (None, or why the module must not write),
    ``notes``. Raises ``SecurityContextError`` for bad options or an unsupported workload.
    """
    opts = normalize_options(options)
    if not isinstance(workload, dict):
        raise SecurityContextError(None, "workload must be a dict, got %s" % type(workload).__name__)
    kind = workload.get("kind")
    if kind not in SUPPORTED_KINDS:
        raise SecurityContextError(None, "kind %r is not supported; supported: %s" % (kind, ", ".join(SUPPORTED_KINDS)))
    metadata = _dict(workload.get("metadata"))
    name = metadata.get("name")
    label = "%s/%s" % (kind, name)
    path = ps.POD_TEMPLATE_PATHS[kind]
    template = _template(workload, path)
    spec = _dict(template.get("spec"))
    template_meta = _dict(template.get("metadata"))
    if ps.is_windows(spec):
        raise SecurityContextError(None, "%s: Windows pods (spec.os.name=windows) are not supported" % label)
    profile, version = opts["profile"], opts["version"]
    notes = []
    names = [c.get("name") for group in ("initContainers", "containers") for c in _list(spec.get(group)) if isinstance(c, dict)]
    exempt = _Exempt(opts["exemptions"], name, names)

    pod_sc = copy.deepcopy(_clean(_dict(spec.get("securityContext"))))
    _plan_pod(pod_sc, spec, opts, notes)

    existing_volumes = dict((v.get("name"), v) for v in _list(spec.get("volumes")) if isinstance(v, dict))
    added_volumes = []
    added_mounts = {}
    entries = {"initContainers": [], "containers": []}
    desired_containers = {}
    for group in ("initContainers", "containers"):
        for container in _list(spec.get(group)):
            if not isinstance(container, dict):
                continue
            cname = container.get("name")
            exemption = exempt.by_container.get(cname)
            sc, read_only = _plan_container(container, spec, opts, exempt.checks(cname), exemption, notes)
            desired_containers[cname] = sc
            entry = {}
            sc_patch = map_patch(_dict(container.get("securityContext")), sc)
            if sc_patch:
                entry["securityContext"] = sc_patch
            if read_only:
                paths = _dedupe(opts["writable_paths"].get("*", []) + opts["writable_paths"].get(cname, []))
                mounted = set(posixpath.normpath(str(m.get("mountPath"))) for m in _list(container.get("volumeMounts"))
                              if isinstance(m, dict) and m.get("mountPath"))
                mounts = []
                for wpath in paths:
                    if wpath in mounted:
                        continue
                    vname = volume_name(wpath)
                    volume = existing_volumes.get(vname)
                    if volume is None:
                        volume = {"name": vname, "emptyDir": {}}
                        existing_volumes[vname] = volume
                        added_volumes.append(volume)
                    elif volume.get("emptyDir") is None and len([k for k in volume if k != "name" and volume[k] is not None]) > 0:
                        raise SecurityContextError("writable_paths", "%s: volume %r exists and is not an emptyDir; can not mount it at %s in container %s"
                                                   % (label, vname, wpath, cname))
                    mounts.append({"name": vname, "mountPath": wpath})
                if mounts:
                    entry["volumeMounts"] = mounts
                    added_mounts[cname] = mounts
            if entry:
                entry = dict([("name", cname)] + sorted(entry.items()))
                entries[group].append(entry)

    spec_patch = {}
    pod_patch = map_patch(_dict(spec.get("securityContext")), pod_sc)
    if pod_patch:
        spec_patch["securityContext"] = pod_patch
    for group in ("initContainers", "containers"):
        if entries[group]:
            spec_patch[group] = entries[group]
    if added_volumes:
        spec_patch["volumes"] = copy.deepcopy(added_volumes)
    template_patch = {}
    annotations = _dict(template_meta.get("annotations"))
    annotation_patch = map_patch(annotations, _fix_annotations(annotations, names, exempt, opts))
    if annotation_patch:
        template_patch["metadata"] = {"annotations": annotation_patch}
    if spec_patch:
        template_patch["spec"] = spec_patch
    patch = _wrap(path, template_patch) if template_patch else {}

    after = strategic_merge(workload, patch) if patch else copy.deepcopy(workload)
    after_template = _template(after, path)
    after_spec, after_meta = _dict(after_template.get("spec")), _dict(after_template.get("metadata"))
    before_violations = ps.evaluate(spec, template_meta, profile, version)
    after_violations = ps.evaluate(after_spec, after_meta, profile, version)
    exempted = []
    unresolved = []
    for violation in after_violations:
        if exempt.covers(violation):
            item = violation.to_dict()
            item["justification"] = exempt.justification(violation)
            exempted.append(item)
        else:
            unresolved.append(violation)
    error = None
    if unresolved:
        hint = ("these are pod-level settings the planner does not rewrite; fix the pod spec"
                if all(v.pod or not v.containers for v in unresolved)
                else "add an exemption with a justification for the container and check, or fix the pod spec")
        error = "%s would still violate PodSecurity \"%s:%s\" after the change: %s; %s" % (
            label, profile, version, ps.format_detail(unresolved), hint)
    return {
        "kind": kind,
        "name": name,
        "namespace": metadata.get("namespace"),
        "profile": profile,
        "version": version,
        "changed": bool(patch),
        "patch_type": PATCH_TYPE,
        "patch": patch,
        "template_path": list(path),
        "template_immutable": kind in IMMUTABLE_TEMPLATE_KINDS,
        "pod_security_context": _clean(_dict(after_spec.get("securityContext"))),
        "container_security_contexts": desired_containers,
        "added_volumes": added_volumes,
        "added_volume_mounts": added_mounts,
        "diff": {"before": _summary(spec), "after": _summary(after_spec)},
        "violations_before": [v.to_dict() for v in before_violations],
        "violations_after": [v.to_dict() for v in after_violations],
        "warning_before": ps.format_warning(profile, version, before_violations),
        "warning_after": ps.format_warning(profile, version, after_violations),
        "level_before": ps.highest_level_passed(spec, template_meta, version),
        "level_after": ps.highest_level_passed(after_spec, after_meta, version),
        "exemptions": exempt.applied,
        "exempted_violations": exempted,
        "unresolved": [v.to_dict() for v in unresolved],
        "error": error,
        "notes": notes,
    }


def unmatched_exemptions(options, plans):
    """Exemptions (as given) that matched no container in any of the planned workloads, for a warning."""
    opts = normalize_options(options)
    used = set((item["container"], item["justification"]) for plan in plans for item in plan.get("exemptions") or [])
    return [dict((k, item[k]) for k in ("container", "justification", "checks", "workload"))
            for item in opts["exemptions"] if (item["container"], item["justification"]) not in used]


# --------------------------------------------------------------------------- the module's plan

# Keys of a plan that the module reports per workload.
RESULT_KEYS = ("violations_before", "violations_after", "warning_before", "warning_after", "level_before", "level_after",
               "exemptions", "exempted_violations", "unresolved", "notes", "patch")


def patch_with_annotations(plan, annotations=None):
    """The patch to send for ``plan``: its own, plus the pod-template ``annotations`` (``{key: value}``, both made
    strings) when the workload changes and rolls out (``rollout.ROLLABLE_KINDS``); the plan is not changed."""
    patch = plan["patch"]
    if not annotations or not plan["changed"] or plan["kind"] not in ro.ROLLABLE_KINDS:
        return patch
    patch = copy.deepcopy(patch)
    template = patch.setdefault("spec", {}).setdefault("template", {})
    template.setdefault("metadata", {}).setdefault("annotations", {}).update(
        dict((str(k), str(v)) for k, v in annotations.items()))
    return patch


def blocking_error(plan):
    """Why the module must not write anything because of ``plan``, or None."""
    if plan["error"]:
        return plan["error"]
    if plan["changed"] and plan["template_immutable"]:
        return ("%s/%s: its pod template is immutable and needs a change (%s); recreate it with a compliant "
                "securityContext or leave it out of the targets" % (plan["kind"], plan["name"], plan["warning_before"]))
    return None


def plan_workloads(workloads, options=None, template_annotations=None):
    """Plan every workload, as flyte_securitycontext does before writing anything.

    ``template_annotations``: ``Kind/name`` -> pod-template annotations to carry in the same patch
    (``patch_with_annotations``). Returns ``(plans, errors)``: ``plans`` lists ``(workload, plan, entry)`` in the
    order given, ``entry`` being the module's result for the workload (``workload`` as ``Kind/name``, ``kind``,
    ``name``, ``changed``, ``api_warnings`` and the plan's ``RESULT_KEYS``, ``patch`` being what is sent);
    ``errors`` the reasons not to write at all (``blocking_error``). Raises ``SecurityContextError`` on bad options
    or an unsupported workload.
    """
    opts = normalize_options(options)
    plans = []
    errors = []
    for workload in workloads:
        plan = plan_workload(workload, opts)
        label = "%s/%s" % (plan["kind"], plan["name"])
        entry = dict(workload=label, kind=plan["kind"], name=plan["name"], changed=plan["changed"], api_warnings=[])
        entry.update((key, plan[key]) for key in RESULT_KEYS)
        entry["patch"] = patch_with_annotations(plan, (template_annotations or {}).get(label))
        error = blocking_error(plan)
        if error:
            errors.append(error)
        plans.append((workload, plan, entry))
    return plans, errors
