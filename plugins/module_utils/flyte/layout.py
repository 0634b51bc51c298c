# -*- coding: utf-8 -*-
# Copyright: (c) 2026, flytesec maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flyte layouts (flyte-core, flyte-binary): detection from live objects, where each setting lives, what restarts.

Facts: ../shared/reference/flyte-config-facts.md (Flyte 1.x, charts v0.1.10, images v1.16.8).

* flyte-core: fixed Deployment names (flyteadmin, flytepropeller or flytepropeller-manager, datacatalog,
  flyteconsole, flytescheduler, syncresources, flyte-pod-webhook) and ConfigMaps (flyte-admin-base-config,
  flyte-propeller-config, flyte-console-config, flyte-scheduler-config).
* flyte-binary: one Deployment ``<fullname>`` whose container ``flyte`` runs ``flyte start`` (or whose pods carry the
  chart's labels ``app.kubernetes.io/name`` and ``component`` ``flyte-binary``), ConfigMap
  ``<fullname>-config`` (000-core.yaml ... 004-auth.yaml, 100-inline-config.yaml), Secrets
  ``<fullname>-config-secret``, ``<fullname>-client-secrets`` and ``<fullname>-admin-auth``.
  The collection writes admin settings into ``100-inline-config.yaml``: flyte loads every ``config.d/*.yaml`` in
  sorted order with viper's MergeConfig, so it overrides 000..014 (see ``effective_config``).

``detect()`` returns a ``FlyteModel``; ``FlyteModel.locate(setting)`` says where a setting lives (a ``Location``);
``FlyteModel.restart_for(changed)`` which workloads consume changed objects. With live Deployments the consumers
come from the pod templates (volumes, envFrom, env valueFrom: ``rollout.referenced_objects``), otherwise from the
chart's static map. Names of objects are taken from the live pod templates when they differ from the chart defaults
(e.g. ``secrets.adminOauthClientCredentials.secretName``, ``clientSecretsExternalSecretRef``).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import fnmatch
import posixpath
from collections import namedtuple

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey
from ansible_collections.flytesec.hardening.plugins.module_utils.k8s import rollout

FLYTE_CORE = "flyte-core"
FLYTE_BINARY = "flyte-binary"
LAYOUTS = (FLYTE_CORE, FLYTE_BINARY)
CHART_NAME = "flyte-binary"
INLINE_KEY = "100-inline-config.yaml"
AUTH_SECRETS_KEY = "014-auth-secrets.yaml"
LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"

CORE_DEPLOYMENTS = ("flyteadmin", "flytepropeller", "flytepropeller-manager", "datacatalog", "flyteconsole",
                    "flytescheduler", "syncresources", "flyte-pod-webhook")
# Where flyteadmin and flytepropeller read their auth secret files (flytepropeller secrets.secrets-prefix default).
SECRETS_PATH = "/etc/secrets"
CORE_CONFIGMAPS = ("flyte-admin-base-config", "flyte-propeller-config", "flyte-console-config", "flyte-scheduler-config")

# Workloads the charts render, when no live Deployment says otherwise: name -> (init containers, containers).
CORE_WORKLOADS = {
    "flyteadmin": (("run-migrations", "seed-projects", "sync-cluster-resources", "generate-secrets"), ("flyteadmin",)),
    "flytepropeller": ((), ("flytepropeller",)),
    "flyte-pod-webhook": (("generate-secrets",), ("webhook",)),
    "datacatalog": (("run-migrations",), ("datacatalog",)),
    "flyteconsole": ((), ("flyteconsole",)),
    "flytescheduler": (("flytescheduler-check",), ("flytescheduler",)),
    "syncresources": ((), ("sync-cluster-resources",)),
}
BINARY_WORKLOAD = (("wait-for-db", "gen-admin-auth-secret"), ("flyte",))

Location = namedtuple("Location", "setting layout object_kind object_name data_key path env_var is_secret value_format consumers sources")
Location.__doc__ = """Where a setting lives.

``object_kind``/``object_name``/``data_key``: the ConfigMap or Secret and its data key. ``path``: tuple of keys inside
the YAML document held there, or None when the data value itself is the setting (``env_var`` names the environment
variable when the value reaches the container through envFrom). ``is_secret``: the object is a Secret.
``value_format``: yaml, env, text, base64-bcrypt, base64-raw-32, base64-raw-64, pem-pkcs1-rsa.
``consumers``: workloads (``Kind/name``) that read the object and must restart when it changes.
``sources``: the ConfigMaps/Secrets (``(kind, name)``) whose ``*.yaml`` files the consumer merges, in which the
effective value is computed (``effective_config``); empty for raw values."""

Workload = namedtuple("Workload", "kind name init_containers containers")
EffectiveConfigBase = namedtuple("EffectiveConfig", "data files ignored")

# Settings: name -> layout -> ((role, data_key, path, value_format), ...). Roles are resolved to objects by the model.
_SECURITY = ("server", "security")
_STATIC_CLIENT_SECRET = ("auth", "appAuth", "selfAuthServer", "staticClients", "flytepropeller", "client_secret")


def _admin_yaml(path, fmt="yaml"):
    return {FLYTE_CORE: (("admin_config", "server.yaml", path, fmt),), FLYTE_BINARY: (("config", INLINE_KEY, path, fmt),)}


def _admin_secret(key, fmt, binary_role="admin_auth"):
    return {FLYTE_CORE: (("admin_secrets", key, None, fmt),), FLYTE_BINARY: ((binary_role, key, None, fmt),)}


SETTINGS = {
    "cors": _admin_yaml(_SECURITY),
    "use_auth": _admin_yaml(_SECURITY + ("useAuth",)),
    "auth": _admin_yaml(("auth",)),
    "admin_client": {
        FLYTE_CORE: (("propeller_config", "admin.yaml", ("admin",), "yaml"), ("scheduler_config", "admin.yaml", ("admin",), "yaml")),
        FLYTE_BINARY: (("config", INLINE_KEY, ("admin",), "yaml"),),
    },
    "console_admin_api_url": {FLYTE_CORE: (("console_config", "ADMIN_API_URL", None, "env"),), FLYTE_BINARY: ()},
    "propeller_client_secret": {
        FLYTE_CORE: (("propeller_secret", "client_secret", None, "text"),),
        FLYTE_BINARY: (("client_secrets", "client_secret", None, "text"),),
    },
    "oidc_client_secret": _admin_secret("oidc_client_secret", "text", binary_role="client_secrets"),
    "claim_symmetric_key": _admin_secret("claim_symmetric_key", "base64-raw-32"),
    "cookie_hash_key": _admin_secret("cookie_hash_key", "base64-raw-64"),
    "cookie_block_key": _admin_secret("cookie_block_key", "base64-raw-32"),
    "token_rsa_key": _admin_secret("token_rsa_key.pem", "pem-pkcs1-rsa"),
    # flytepropeller's k8s plugin (flyteplugins flytek8s/config): default securityContexts, default PodTemplate
    "task_pod_defaults": {
        FLYTE_CORE: (("propeller_config", "k8s.yaml", ("plugins", "k8s"), "yaml"),),
        FLYTE_BINARY: (("config", INLINE_KEY, ("plugins", "k8s"), "yaml"),),
    },
    # flyteadmin's cluster resource controller: templatePath, templateData, customData (read, not written)
    "cluster_resources": {
        FLYTE_CORE: (("admin_config", "cluster_resources.yaml", ("cluster_resources",), "yaml"),),
        FLYTE_BINARY: (("config", INLINE_KEY, ("cluster_resources",), "yaml"),),
    },
    "namespace_mapping": {
        FLYTE_CORE: (("admin_config", "namespace_config.yaml", ("namespace_mapping",), "yaml"),),
        FLYTE_BINARY: (("config", INLINE_KEY, ("namespace_mapping",), "yaml"),),
    },
    "domains": {
        FLYTE_CORE: (("admin_config", "domain.yaml", ("domains",), "yaml"),),
        FLYTE_BINARY: (("config", INLINE_KEY, ("domains",), "yaml"),),
    },
    # flyte-binary's flyte.admin section (seedProjects); flyte-core seeds through flyteadmin's init container
    "seed_projects": {FLYTE_CORE: (), FLYTE_BINARY: (("config", INLINE_KEY, ("flyte", "admin"), "yaml"),)},
    "static_client_secret": {
        FLYTE_CORE: (("admin_config", "server.yaml", _STATIC_CLIENT_SECRET, "base64-bcrypt"),),
        FLYTE_BINARY: (("config_secret", AUTH_SECRETS_KEY, _STATIC_CLIENT_SECRET, "base64-bcrypt"),),
    },
}

# The auth Secret keys flyteadmin and flytepropeller read as files under SECRETS_PATH, as settings. Their data keys
# (the file names: client_secret, oidc_client_secret, ..., token_rsa_key.pem) are the same in every layout.
AUTH_SECRET_SETTINGS = ("propeller_client_secret", "oidc_client_secret", "claim_symmetric_key", "cookie_hash_key",
                        "cookie_block_key", "token_rsa_key")


def auth_secret_keys():
    """``[(data key, setting)]`` of AUTH_SECRET_SETTINGS, in that order (the data key a Secret holds the setting in)."""
    found = []
    for setting in AUTH_SECRET_SETTINGS:
        keys = set(entry[1] for layout in LAYOUTS for entry in SETTINGS[setting][layout])
        if len(keys) != 1:  # pragma: no cover - a guard on SETTINGS itself
            raise LayoutError("setting %s has data keys %s; the auth Secret keys must be one per setting" % (setting, sorted(keys)))
        found.append((keys.pop(), setting))
    return found


# Go defaults of the settings whose section the charts may leave unset (flyteadmin pkg/config, flyteidl admin client).
GO_DEFAULTS = {
    "cors": {"allowCors": True, "allowedOrigins": ["*"], "allowedHeaders": ["Content-Type", "flyte-authorization"]},
    "use_auth": False,
    "admin_client": {"clientId": "flytepropeller", "authType": "ClientSecret", "clientSecretLocation": "/etc/secrets/client_secret"},
    "namespace_mapping": {"template": "{{ project }}-{{ domain }}"},
    "domains": [{"id": d, "name": d} for d in ("development", "staging", "production")],
}
# Where each chart mounts the cluster resource templates when cluster_resources.templatePath is not found.
TEMPLATE_PATHS = {"flyte-core": "/etc/flyte/clusterresource/templates", "flyte-binary": "/etc/flyte/cluster-resource-templates"}

# Roles written only when present in the namespace (when the ConfigMap names are known): a control plane without
# flytepropeller (its data planes run it) has no propeller ConfigMap, and flytescheduler is optional.
_OPTIONAL_ROLES = ("scheduler_config", "propeller_config")

# Static consumers per role (chart defaults), and the reader whose --config directory merges the role's files.
_CORE_CONSUMERS = {
    "admin_config": ("flyteadmin",), "admin_clusters": ("flyteadmin",), "admin_secrets": ("flyteadmin",),
    "propeller_config": ("{propeller}", "flyte-pod-webhook"), "propeller_secret": ("{propeller}", "flytescheduler"),
    "scheduler_config": ("flytescheduler",), "console_config": ("flyteconsole",), "crs_config": ("syncresources",),
}
_CORE_READERS = {"admin_config": ("flyteadmin", ("admin_config", "admin_clusters")),
                 "propeller_config": ("{propeller}", ("propeller_config",)),
                 "scheduler_config": ("flytescheduler", ("scheduler_config",))}
_BINARY_READERS = {"config": ("config", "config_secret"), "config_secret": ("config", "config_secret")}


class LayoutError(Exception):
    """No Flyte installation, or more than one, or an unknown setting; the message says what was found."""


# ------------------------------------------------------------------------------------------------ small helpers

def _name(obj):
    return obj if isinstance(obj, str) else ((obj or {}).get("metadata") or {}).get("name")


def _names(objects):
    """Set of names from a list of names or object dicts; None when not given."""
    if objects is None:
        return None
    return set(n for n in (_name(o) for o in objects) if n)


def _labels(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def _pod_spec(deployment):
    return (rollout.pod_template(deployment).get("spec")) or {}


def _is_deployment(obj):
    return isinstance(obj, dict) and obj.get("kind", "Deployment") == "Deployment" and bool(_name(obj))


def _label(kind, name):
    return "%s/%s" % (kind, name)


def fullname_for(release_name, name_override=None, fullname_override=None):
    """The flyte-binary chart's ``flyte-binary.fullname`` (templates/_helpers.tpl)."""
    if fullname_override:
        return fullname_override[:63].rstrip("-")
    name = name_override or CHART_NAME
    full = release_name if name in release_name else "%s-%s" % (release_name, name)
    return full[:63].rstrip("-")


def is_flyte_binary(deployment):
    """True for the flyte-binary Deployment: pod labels name and component ``flyte-binary`` (the chart's connector
    Deployment has component ``connector``), or a container named ``flyte`` running ``flyte start``."""
    pod_labels = (rollout.pod_template(deployment).get("metadata") or {}).get("labels") or {}
    if pod_labels.get(LABEL_NAME) == CHART_NAME and pod_labels.get(LABEL_COMPONENT) == CHART_NAME:
        return True
    for container in _pod_spec(deployment).get("containers") or []:
        if container.get("name") == "flyte" and "start" in (container.get("command") or []) + (container.get("args") or []):
            return True
    return False


def volume_sources(deployment, volume_name):
    """``(kind, name)`` of the ConfigMaps/Secrets behind a pod volume (plain or projected), in order."""
    for volume in _pod_spec(deployment).get("volumes") or []:
        if volume.get("name") != volume_name:
            continue
        if volume.get("configMap"):
            return [("ConfigMap", volume["configMap"].get("name"))]
        if volume.get("secret"):
            return [("Secret", volume["secret"].get("secretName"))]
        sources = []
        for source in (volume.get("projected") or {}).get("sources") or []:
            if source.get("configMap"):
                sources.append(("ConfigMap", source["configMap"].get("name")))
            if source.get("secret"):
                sources.append(("Secret", source["secret"].get("name")))
        return sources
    return []


def secret_key_visible(deployment, secret_name, key):
    """True when a volume of the pod template shows key ``key`` of Secret ``secret_name`` to its containers: a secret
    or projected volume of that Secret without ``items``, or with an item for the key, mounted by a container."""
    spec = _pod_spec(deployment)
    mounted = set(m.get("name") for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])
                  for m in c.get("volumeMounts") or [])
    for volume in spec.get("volumes") or []:
        if volume.get("name") not in mounted:
            continue
        refs = []
        if (volume.get("secret") or {}).get("secretName") == secret_name:
            refs.append(volume["secret"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if (source.get("secret") or {}).get("name") == secret_name:
                refs.append(source["secret"])
        for ref in refs:
            items = ref.get("items")
            if not items or key in [item.get("key") for item in items]:
                return True
    return False


def _config_dir(container):
    """Directory of the ``--config <dir>/*.yaml`` argument of a container, or None."""
    words = (container.get("command") or []) + (container.get("args") or [])
    for i, word in enumerate(words):
        value = None
        if word in ("--config", "-c") and i + 1 < len(words):
            value = words[i + 1]
        elif word.startswith("--config="):
            value = word.split("=", 1)[1]
        if value:
            return posixpath.dirname(value).rstrip("/")
    return None


def config_sources(deployment):
    """``(kind, name)`` of the objects mounted where the main container's ``--config`` glob reads ``*.yaml``."""
    for container in _pod_spec(deployment).get("containers") or []:
        directory = _config_dir(container)
        if not directory:
            continue
        for mount in container.get("volumeMounts") or []:
            if mount.get("mountPath", "").rstrip("/") == directory:
                return tuple(volume_sources(deployment, mount.get("name")))
    return ()


def workloads_to_restart(changed, deployments):
    """``Kind/name`` of the live workloads whose pod template consumes any changed ``(kind, name)`` object."""
    wanted = set(_as_ref(ref) for ref in changed)
    found = set()
    for workload in deployments:
        refs = rollout.referenced_objects(_pod_spec(workload))
        if any((kind, name) in wanted for kind, name, _optional in refs):
            found.add(_label(workload.get("kind", "Deployment"), _name(workload)))
    return sorted(found)


def _as_ref(ref):
    """``(kind, name)`` from a tuple or a ``Kind/name`` string."""
    if isinstance(ref, str):
        kind, _sep, name = ref.partition("/")
        return kind, name
    return tuple(ref[:2])


# ------------------------------------------------------------------------------------------- effective config

class EffectiveConfig(EffectiveConfigBase):
    """What a Flyte component sees after merging its ``*.yaml`` config files.

    ``data``: merged mapping (keys keep their first spelling); ``files``: file names in merge order;
    ``ignored``: messages for values viper drops because their type differs from the earlier one.
    """

    __slots__ = ()

    def get(self, path, default=None):
        """Value at ``path``, keys compared case-insensitively as viper does."""
        node = self.data
        for key in ey.parse_path(path):
            found = _find_key(node, key) if isinstance(node, dict) else _MISSING
            if found is _MISSING:
                return default
            node = node[found]
        return node


_MISSING = object()


def _find_key(mapping, key):
    """The key of ``mapping`` equal to ``key`` ignoring case (viper keys are case-insensitive), or ``_MISSING``."""
    lowered = str(key).lower()
    for existing in mapping:
        if str(existing).lower() == lowered:
            return existing
    return _MISSING


def _go_type(value):
    """The Go type viper would hold for a parsed YAML value (its merge skips values of another type)."""
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    return "nil" if value is None else ey.scalar_kind(value)


def viper_merge(target, source, origin="", ignored=None, _path=()):
    """Merge ``source`` into ``target`` in place as viper's MergeConfig does; returns ``target``.

    Maps deep-merge (keys matched case-insensitively), later values win for scalars and lists, and a value whose
    type differs from the existing one (including an existing null) is ignored, as viper's ``mergeMaps`` does.
    """
    for key, value in source.items():
        existing = _find_key(target, key)
        if existing is _MISSING:
            target[key] = copy.deepcopy(value)
            continue
        current = target[existing]
        if _go_type(current) != _go_type(value):
            if ignored is not None:
                ignored.append("%s: %s ignored: it is a %s, an earlier file has a %s" % (
                    origin, ".".join(str(k) for k in _path + (key,)), _go_type(value), _go_type(current)))
        elif isinstance(current, dict):
            viper_merge(current, value, origin, ignored, _path + (existing,))
        else:
            target[existing] = copy.deepcopy(value)
    return target


def config_files(objects):
    """``{file name: text}`` of the data of ConfigMaps and Secrets (Secret values decoded) as mounted in one directory."""
    files = {}
    for obj in objects:
        if obj is None:
            continue
        secret = obj.get("kind") == "Secret"
        for key, value in (obj.get("data") or {}).items():
            files[key] = ey.decode_secret_value(value) if secret else value
        for key, value in (obj.get("stringData") or {}).items():
            files[key] = value
    return files


def effective_config(objects, pattern="*.yaml"):
    """Merge the ``*.yaml`` files of ``objects`` in sorted file-name order as flyte's viper loader does."""
    files = config_files(objects)
    names = sorted(name for name in files if fnmatch.fnmatchcase(name, pattern))
    merged, ignored = {}, []
    for name in names:
        viper_merge(merged, ey.load(files[name], label=name), name, ignored)
    return EffectiveConfig(merged, tuple(names), tuple(ignored))


# ----------------------------------------------------------------------------------------------------- the model

class FlyteModel(object):
    """One Flyte installation: its layout, objects, settings' locations, workloads and restart map.

    ``deployments``: live Deployment dicts (consumers and object names then come from their pod templates);
    ``configmaps``: names (or dicts) of the ConfigMaps in the namespace, when known.
    """

    def __init__(self, layout, namespace=None, release=None, fullname=None, deployments=None, configmaps=None):
        if layout not in LAYOUTS:
            raise LayoutError("layout must be one of %s, not %r" % (", ".join(LAYOUTS), layout))
        if layout == FLYTE_BINARY and not (fullname or release):
            raise LayoutError("flyte-binary needs the release name or the fullname")
        self.layout = layout
        self.namespace = namespace
        self.release = release
        self.fullname = (fullname or fullname_for(release)) if layout == FLYTE_BINARY else None
        self.deployments = [d for d in deployments or [] if _is_deployment(d)]
        self.configmaps = _names(configmaps)
        self.live = any(rollout.pod_template(d) for d in self.deployments)
        self.roles = self._core_roles() if layout == FLYTE_CORE else self._binary_roles()

    # -- objects

    def _deployment(self, name):
        return next((d for d in self.deployments if _name(d) == name), None)

    def _live_source(self, deployment_name, volume, kind, default, exclude=()):
        """Name of the first ``kind`` object behind ``volume`` of a live Deployment, or ``default``."""
        deployment = self._deployment(deployment_name)
        for source_kind, name in volume_sources(deployment, volume) if deployment else []:
            if source_kind == kind and name not in exclude:
                return name
        return default

    @property
    def propeller(self):
        """Name of the propeller Deployment (flytepropeller-manager when the manager is deployed)."""
        return "flytepropeller-manager" if self._deployment("flytepropeller-manager") else "flytepropeller"

    def _env_from(self, deployment_name, default):
        """Name of the first ConfigMap a live Deployment loads with envFrom, or ``default``."""
        for container in _pod_spec(self._deployment(deployment_name) or {}).get("containers") or []:
            for env_from in container.get("envFrom") or []:
                if env_from.get("configMapRef"):
                    return env_from["configMapRef"].get("name")
        return default

    def _live_config(self, deployment_name, default, position=0):
        """The ConfigMap a live Deployment's main container reads with ``--config`` (its ``position``-th in the mount,
        so kustomize-hashed or renamed ConfigMaps are followed), or ``default``."""
        deployment = self._deployment(deployment_name)
        names = [name for kind, name in config_sources(deployment) if kind == "ConfigMap"] if deployment else []
        return names[position] if len(names) > position else default

    def _secret_at(self, deployment_name, path, volume, default):
        """The Secret a live Deployment's main container mounts at ``path`` (flyteadmin and flytepropeller read their
        auth files under /etc/secrets), else the one behind volume ``volume``, else ``default``."""
        deployment = self._deployment(deployment_name)
        for container in _pod_spec(deployment or {}).get("containers") or []:
            for mount in container.get("volumeMounts") or []:
                if mount.get("mountPath", "").rstrip("/") == path and not mount.get("subPath"):
                    for kind, name in volume_sources(deployment, mount.get("name")):
                        if kind == "Secret":
                            return name
        return self._live_source(deployment_name, volume, "Secret", default)

    def _core_roles(self):
        return {
            "admin_config": ("ConfigMap", self._live_config("flyteadmin", "flyte-admin-base-config")),
            "admin_clusters": ("ConfigMap", self._live_config("flyteadmin", "flyte-admin-clusters-config", 1)),
            "admin_secrets": ("Secret", self._secret_at("flyteadmin", SECRETS_PATH, "admin-secrets", "flyte-admin-secrets")),
            "propeller_config": ("ConfigMap", self._live_config(self.propeller, "flyte-propeller-config")),
            "propeller_secret": ("Secret", self._secret_at(self.propeller, SECRETS_PATH, "auth", "flyte-secret-auth")),
            "scheduler_config": ("ConfigMap", self._live_config("flytescheduler", "flyte-scheduler-config")),
            "console_config": ("ConfigMap", self._env_from("flyteconsole", "flyte-console-config")),
            "crs_config": ("ConfigMap", self._live_config("syncresources", "flyte-clusterresourcesync-config")),
        }

    def _binary_roles(self):
        full = self.fullname
        admin_auth = "%s-admin-auth" % full
        return {
            "config": ("ConfigMap", self._live_source(full, "config", "ConfigMap", "%s-config" % full)),
            "config_secret": ("Secret", self._live_source(full, "config", "Secret", "%s-config-secret" % full)),
            "client_secrets": ("Secret", self._live_source(full, "auth", "Secret", "%s-client-secrets" % full, exclude=(admin_auth,))),
            "admin_auth": ("Secret", admin_auth),
        }

    def objects(self):
        """``{role: "Kind/name"}`` of the objects this layout keeps settings in."""
        return dict((role, _label(kind, name)) for role, (kind, name) in self.roles.items())

    # -- settings

    @staticmethod
    def settings():
        """Names of the settings the model knows."""
        return sorted(SETTINGS)

    def locate_all(self, setting):
        """Every ``Location`` of ``setting`` in this layout (empty when it has no home here)."""
        if setting not in SETTINGS:
            raise LayoutError("unknown setting %r; known settings: %s" % (setting, ", ".join(self.settings())))
        locations = []
        for role, data_key, path, fmt in SETTINGS[setting][self.layout]:
            kind, name = self.roles[role]
            if role in _OPTIONAL_ROLES and self.configmaps is not None and name not in self.configmaps:
                continue
            env_var = data_key if fmt == "env" else None
            sources = self._sources(role) if path is not None else ()
            locations.append(Location(setting, self.layout, kind, name, data_key, path, env_var, kind == "Secret", fmt,
                                      self.consumers(kind, name), sources))
        return locations

    def locate(self, setting):
        """The ``Location`` the collection writes ``setting`` to, or None when the layout has no such setting."""
        locations = self.locate_all(setting)
        return locations[0] if locations else None

    def locations(self):
        """``{setting: [Location, ...]}`` for every setting."""
        return dict((setting, self.locate_all(setting)) for setting in self.settings())

    # -- consumers and restarts

    def _workload_name(self, template):
        return template.format(propeller=self.propeller)

    def _role_of(self, kind, name):
        return next((role for role, ref in self.roles.items() if ref == (kind, name)), None)

    def consumers(self, kind, name):
        """Workloads (``Kind/name``) that read object ``kind/name``: live references, else the chart's static map.

        Empty on a live model means no pod template mounts the object (e.g. flyte-binary's auth Secrets while the
        release runs without ``auth.enabled``): writing it changes nothing until a pod template refers to it.
        """
        if self.live:
            return tuple(workloads_to_restart([(kind, name)], self.deployments))
        role = self._role_of(kind, name)
        if role is None:
            return ()
        names = (self.fullname,) if self.layout == FLYTE_BINARY else [self._workload_name(t) for t in _CORE_CONSUMERS.get(role, ())]
        known = set(_name(d) for d in self.deployments)
        return tuple(sorted(_label("Deployment", n) for n in names if not known or n in known))

    def mounted_at(self, path):
        """``[(Kind/workload, container, ConfigMap name)]`` of the ConfigMaps the layout's workloads mount at ``path``
        (any container, init containers included), in workload order: where flyteadmin reads cluster resource
        templates, found by what the pods mount rather than by chart names."""
        found = []
        path = (path or "").rstrip("/")
        for deployment in self.deployments:
            spec = _pod_spec(deployment)
            for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                for mount in container.get("volumeMounts") or []:
                    if mount.get("mountPath", "").rstrip("/") != path or mount.get("subPath"):
                        continue
                    for kind, name in volume_sources(deployment, mount.get("name")):
                        if kind == "ConfigMap":
                            found.append((_label("Deployment", _name(deployment)), container.get("name"), name))
        return found

    def restart_for(self, changed):
        """Workloads (``Kind/name``) to restart after the objects in ``changed`` (``(kind, name)`` or ``Kind/name``) changed."""
        found = set()
        for ref in changed:
            found.update(self.consumers(*_as_ref(ref)))
        return sorted(found)

    def _sources(self, role):
        """Objects whose ``*.yaml`` files the reader of ``role`` merges (live ``--config`` mount, else the chart's)."""
        if self.layout == FLYTE_BINARY:
            reader, static = self.fullname, _BINARY_READERS.get(role, ())
        else:
            template, static = _CORE_READERS.get(role, ("", ()))
            reader = self._workload_name(template)
        deployment = self._deployment(reader)
        live = config_sources(deployment) if deployment else ()
        return tuple(live) if live else tuple(self.roles[r] for r in static)

    def effective(self, setting, objects, defaults=True):
        """Effective value of ``setting``: the viper merge of its location's sources found in ``objects``.

        With ``defaults``, ``GO_DEFAULTS`` fill what the files leave unset (mappings deep-merged, as the Go
        config decoder starts from its defaults).
        """
        location = self.locate(setting)
        if location is None or location.path is None:
            raise LayoutError("%s has no merged YAML configuration in %s" % (setting, self.layout))
        wanted = set(location.sources)
        chosen = [o for o in objects if o and (o.get("kind"), _name(o)) in wanted]
        value = effective_config(chosen).get(location.path)
        if not defaults or setting not in GO_DEFAULTS:
            return value
        if value is None:
            return copy.deepcopy(GO_DEFAULTS[setting])
        return ey.deep_merge(GO_DEFAULTS[setting], value)

    # -- workloads

    def workloads(self):
        """The layout's workloads with their init and main containers (live when Deployments are known)."""
        if self.layout == FLYTE_BINARY:
            expected = {self.fullname: BINARY_WORKLOAD}
        else:
            expected = dict(CORE_WORKLOADS)
            if self.propeller != "flytepropeller":
                expected[self.propeller] = ((), (self.propeller,))
                expected.pop("flytepropeller")
        result = []
        for name, (init, main) in sorted(expected.items()):
            deployment = self._deployment(name)
            if deployment is not None and self.live:
                spec = _pod_spec(deployment)
                init = tuple(c.get("name") for c in spec.get("initContainers") or [])
                main = tuple(c.get("name") for c in spec.get("containers") or [])
            elif self.deployments:
                continue
            result.append(Workload("Deployment", name, tuple(init), tuple(main)))
        return result

    def as_dict(self):
        """Summary for module results."""
        return {"layout": self.layout, "namespace": self.namespace, "release": self.release, "fullname": self.fullname,
                "objects": self.objects(), "workloads": ["Deployment/%s" % w.name for w in self.workloads()]}


# ------------------------------------------------------------------------------------------------------ detection

def _core_candidate(deployments, configmaps, release_name):
    """True when flyte-core Deployments and ConfigMaps are present (and, if labelled, belong to ``release_name``)."""
    core = [d for d in deployments if _name(d) in CORE_DEPLOYMENTS]
    # the chart's ConfigMap names, or the ones the workloads' --config mounts name (kustomize-hashed, renamed)
    mounted = set(name for d in core for kind, name in config_sources(d) if kind == "ConfigMap")
    if not core or (configmaps is not None and not configmaps & (set(CORE_CONFIGMAPS) | mounted)):
        return False
    if release_name:
        instances = set(_labels(d).get(LABEL_INSTANCE) for d in core) - set([None])
        return not instances or release_name in instances
    return True


def _binary_candidates(deployments, release_name):
    """flyte-binary Deployments, restricted to ``release_name`` (release, fullname or instance label) when given."""
    found = [d for d in deployments if is_flyte_binary(d)]
    if release_name:
        names = (release_name, fullname_for(release_name))
        found = [d for d in found if _name(d) in names or _labels(d).get(LABEL_INSTANCE) == release_name]
    return found


def _describe_binary(deployment):
    release = _labels(deployment).get(LABEL_INSTANCE)
    return "%s (release %s)" % (_name(deployment), release) if release else _name(deployment)


def detect(deployments, configmaps=None, namespace=None, layout="auto", release_name=None):
    """Detect the Flyte layout from the live Deployments (dicts) and ConfigMaps (names or dicts) of a namespace.

    ``layout`` ``auto`` accepts either; ``release_name`` picks one flyte-binary release when there are several.
    Raises LayoutError when nothing, or more than one installation, matches.
    """
    if layout not in ("auto",) + LAYOUTS:
        raise LayoutError("layout must be auto, %s, not %r" % (" or ".join(LAYOUTS), layout))
    deployments = [d for d in deployments or [] if _is_deployment(d)]
    configmaps = _names(configmaps)
    where = "namespace %s" % namespace if namespace else "the namespace"
    found = []
    if layout in ("auto", FLYTE_CORE) and _core_candidate(deployments, configmaps, release_name):
        release = next((_labels(d).get(LABEL_INSTANCE) for d in deployments if _name(d) == "flyteadmin"), None) or release_name
        found.append(FlyteModel(FLYTE_CORE, namespace, release, deployments=deployments, configmaps=configmaps))
    if layout in ("auto", FLYTE_BINARY):
        for deployment in _binary_candidates(deployments, release_name):
            release = _labels(deployment).get(LABEL_INSTANCE) or release_name
            found.append(FlyteModel(FLYTE_BINARY, namespace, release, fullname=_name(deployment),
                                    deployments=deployments, configmaps=configmaps))
    if not found:
        raise LayoutError(_not_found(where, layout, release_name, deployments))
    if len(found) > 1:
        raise LayoutError(_ambiguous(where, found, deployments))
    return found[0]


def _not_found(where, layout, release_name, deployments):
    wanted = []
    if layout in ("auto", FLYTE_CORE):
        wanted.append("flyte-core (Deployments %s with ConfigMaps %s)" % (", ".join(CORE_DEPLOYMENTS), ", ".join(CORE_CONFIGMAPS)))
    if layout in ("auto", FLYTE_BINARY):
        wanted.append("flyte-binary (a Deployment whose container 'flyte' runs 'flyte start')")
    release = " for release %s" % release_name if release_name else ""
    present = ", ".join(sorted(_name(d) for d in deployments)) or "none"
    return "no Flyte installation%s found in %s: looked for %s; Deployments present: %s" % (release, where, " or ".join(wanted), present)


def _ambiguous(where, found, deployments):
    binaries = [d for d in deployments if is_flyte_binary(d) and _name(d) in set(m.fullname for m in found)]
    if any(m.layout == FLYTE_CORE for m in found):
        return "both flyte-core and flyte-binary (%s) are installed in %s: set layout" % (
            ", ".join(_describe_binary(d) for d in binaries), where)
    return "%d flyte-binary releases are installed in %s: %s; set release_name" % (
        len(binaries), where, ", ".join(_describe_binary(d) for d in binaries))
