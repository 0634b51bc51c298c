# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for Flyte layout detection, the settings model and the restart map, on the upstream manifests."""
import copy

import pytest

from upstream_manifests import BINARY, CORE, as_live_secret, configmap_names, find, load, of_kind
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import layout as fl

SECURITY = ("server", "security")
STATIC_SECRET = ("auth", "appAuth", "selfAuthServer", "staticClients", "flytepropeller", "client_secret")
BIN = "flyte-flyte-binary"


@pytest.fixture
def core_docs():
    return load(CORE)


@pytest.fixture
def binary_docs():
    return load(BINARY)


def detect(docs, **kwargs):
    return fl.detect(of_kind(docs, "Deployment"), configmap_names(docs), namespace="flyte", **kwargs)


def renamed_release(docs, release):
    """The flyte-binary Deployment of ``docs`` as installed by another Helm release."""
    deployment = copy.deepcopy(find(docs, "Deployment", BIN))
    fullname = fl.fullname_for(release)
    deployment["metadata"]["name"] = fullname
    deployment["metadata"]["labels"][fl.LABEL_INSTANCE] = release
    for volume in deployment["spec"]["template"]["spec"]["volumes"]:
        for source in (volume.get("projected") or {}).get("sources") or []:
            for ref in source.values():
                ref["name"] = ref["name"].replace(BIN, fullname)
    return deployment


# ---------------------------------------------------------------------------------------------------- detection

def test_detects_flyte_core(core_docs):
    model = detect(core_docs)
    assert model.layout == fl.FLYTE_CORE and model.release == "flyte" and model.fullname is None
    assert model.propeller == "flytepropeller"


def test_detects_flyte_binary_and_its_fullname(binary_docs):
    model = detect(binary_docs)
    assert (model.layout, model.fullname, model.release) == (fl.FLYTE_BINARY, BIN, "flyte")
    assert model.objects() == {"config": "ConfigMap/%s-config" % BIN, "config_secret": "Secret/%s-config-secret" % BIN,
                               "client_secrets": "Secret/%s-client-secrets" % BIN, "admin_auth": "Secret/%s-admin-auth" % BIN}


@pytest.mark.parametrize("release,kwargs,expected", [
    ("flyte", {}, "flyte-flyte-binary"),
    ("my-flyte-binary", {}, "my-flyte-binary"),
    ("flyte-binary", {}, "flyte-binary"),
    ("flyte", {"name_override": "fb"}, "flyte-fb"),
    ("flyte", {"fullname_override": "custom-"}, "custom"),
    ("r" * 70, {}, "r" * 63),
])
def test_fullname_follows_the_chart_helpers(release, kwargs, expected):
    assert fl.fullname_for(release, **kwargs) == expected


def test_two_flyte_binary_releases_need_a_release_name(binary_docs):
    deployments = of_kind(binary_docs, "Deployment") + [renamed_release(binary_docs, "other")]
    with pytest.raises(fl.LayoutError) as err:
        fl.detect(deployments, configmap_names(binary_docs), namespace="flyte")
    message = str(err.value)
    assert "2 flyte-binary releases are installed in namespace flyte" in message and "set release_name" in message
    assert "flyte-flyte-binary (release flyte)" in message and "other-flyte-binary (release other)" in message
    for release, fullname in (("other", "other-flyte-binary"), ("flyte", BIN), (BIN, BIN)):
        model = fl.detect(deployments, None, namespace="flyte", release_name=release)
        assert model.fullname == fullname
        assert model.locate("cors").object_name == "%s-config" % fullname


def test_core_and_binary_together_need_a_layout(core_docs, binary_docs):
    deployments = of_kind(core_docs, "Deployment") + of_kind(binary_docs, "Deployment")
    configmaps = configmap_names(core_docs) + configmap_names(binary_docs)
    with pytest.raises(fl.LayoutError, match="both flyte-core and flyte-binary .* set layout"):
        fl.detect(deployments, configmaps, namespace="flyte")
    assert fl.detect(deployments, configmaps, layout="flyte-core").layout == fl.FLYTE_CORE
    assert fl.detect(deployments, configmaps, layout="flyte-binary").layout == fl.FLYTE_BINARY


def test_nothing_found_says_what_was_looked_for(core_docs, binary_docs):
    with pytest.raises(fl.LayoutError) as err:
        detect(binary_docs, layout="flyte-core")
    assert "no Flyte installation found in namespace flyte" in str(err.value)
    assert "flyte-core (Deployments flyteadmin" in str(err.value) and "Deployments present: flyte-flyte-binary" in str(err.value)
    with pytest.raises(fl.LayoutError, match="for release other"):
        detect(core_docs, release_name="other")
    with pytest.raises(fl.LayoutError, match="Deployments present: none"):
        fl.detect([], [])
    with pytest.raises(fl.LayoutError, match="layout must be"):
        detect(core_docs, layout="flyte2")


def test_flyte_binary_is_recognised_by_its_pod_labels_or_its_command(binary_docs):
    deployment = find(binary_docs, "Deployment", BIN)
    assert fl.is_flyte_binary(deployment)
    by_labels = copy.deepcopy(deployment)
    by_labels["spec"]["template"]["spec"]["containers"][0]["args"] = ["serve"]
    assert fl.is_flyte_binary(by_labels)
    by_command = copy.deepcopy(deployment)
    by_command["spec"]["template"]["metadata"]["labels"] = {}
    assert fl.is_flyte_binary(by_command)
    connector = copy.deepcopy(by_labels)
    connector["spec"]["template"]["metadata"]["labels"][fl.LABEL_COMPONENT] = "connector"
    assert not fl.is_flyte_binary(connector)
    assert fl.detect([deployment, dict(connector, metadata={"name": BIN + "-connector"})]).fullname == BIN


def test_core_deployments_without_core_configmaps_are_not_flyte_core(core_docs):
    with pytest.raises(fl.LayoutError):
        fl.detect(of_kind(core_docs, "Deployment"), ["kube-root-ca.crt"])


# ------------------------------------------------------------------------------------------------ the settings

CORE_LOCATIONS = {
    "cors": ("ConfigMap", "flyte-admin-base-config", "server.yaml", SECURITY),
    "use_auth": ("ConfigMap", "flyte-admin-base-config", "server.yaml", SECURITY + ("useAuth",)),
    "auth": ("ConfigMap", "flyte-admin-base-config", "server.yaml", ("auth",)),
    "static_client_secret": ("ConfigMap", "flyte-admin-base-config", "server.yaml", STATIC_SECRET),
    "admin_client": ("ConfigMap", "flyte-propeller-config", "admin.yaml", ("admin",)),
    "console_admin_api_url": ("ConfigMap", "flyte-console-config", "ADMIN_API_URL", None),
    "propeller_client_secret": ("Secret", "flyte-secret-auth", "client_secret", None),
    "oidc_client_secret": ("Secret", "flyte-admin-secrets", "oidc_client_secret", None),
    "claim_symmetric_key": ("Secret", "flyte-admin-secrets", "claim_symmetric_key", None),
    "cookie_hash_key": ("Secret", "flyte-admin-secrets", "cookie_hash_key", None),
    "cookie_block_key": ("Secret", "flyte-admin-secrets", "cookie_block_key", None),
    "token_rsa_key": ("Secret", "flyte-admin-secrets", "token_rsa_key.pem", None),
    "task_pod_defaults": ("ConfigMap", "flyte-propeller-config", "k8s.yaml", ("plugins", "k8s")),
    "cluster_resources": ("ConfigMap", "flyte-admin-base-config", "cluster_resources.yaml", ("cluster_resources",)),
    "namespace_mapping": ("ConfigMap", "flyte-admin-base-config", "namespace_config.yaml", ("namespace_mapping",)),
    "domains": ("ConfigMap", "flyte-admin-base-config", "domain.yaml", ("domains",)),
    "seed_projects": None,
}

BINARY_LOCATIONS = {
    "cors": ("ConfigMap", BIN + "-config", "100-inline-config.yaml", SECURITY),
    "use_auth": ("ConfigMap", BIN + "-config", "100-inline-config.yaml", SECURITY + ("useAuth",)),
    "auth": ("ConfigMap", BIN + "-config", "100-inline-config.yaml", ("auth",)),
    "admin_client": ("ConfigMap", BIN + "-config", "100-inline-config.yaml", ("admin",)),
    "static_client_secret": ("Secret", BIN + "-config-secret", "014-auth-secrets.yaml", STATIC_SECRET),
    "console_admin_api_url": None,
    "propeller_client_secret": ("Secret", BIN + "-client-secrets", "client_secret", None),
    "oidc_client_secret": ("Secret", BIN + "-client-secrets", "oidc_client_secret", None),
    "claim_symmetric_key": ("Secret", BIN + "-admin-auth", "claim_symmetric_key", None),
    "cookie_hash_key": ("Secret", BIN + "-admin-auth", "cookie_hash_key", None),
    "cookie_block_key": ("Secret", BIN + "-admin-auth", "cookie_block_key", None),
    "token_rsa_key": ("Secret", BIN + "-admin-auth", "token_rsa_key.pem", None),
    "task_pod_defaults": ("ConfigMap", BIN + "-config", "100-inline-config.yaml", ("plugins", "k8s")),
    "cluster_resources": ("ConfigMap", BIN + "-config", "100-inline-config.yaml", ("cluster_resources",)),
    "namespace_mapping": ("ConfigMap", BIN + "-config", "100-inline-config.yaml", ("namespace_mapping",)),
    "domains": ("ConfigMap", BIN + "-config", "100-inline-config.yaml", ("domains",)),
    "seed_projects": ("ConfigMap", BIN + "-config", "100-inline-config.yaml", ("flyte", "admin")),
}


@pytest.mark.parametrize("manifest,expected", [(CORE, CORE_LOCATIONS), (BINARY, BINARY_LOCATIONS)])
def test_every_setting_is_located(manifest, expected):
    model = detect(load(manifest))
    assert set(model.settings()) == set(expected)
    for setting, where in expected.items():
        location = model.locate(setting)
        if where is None:
            assert location is None and model.locate_all(setting) == []
            continue
        assert (location.object_kind, location.object_name, location.data_key, location.path) == where, setting
        assert location.is_secret == (where[0] == "Secret") and location.layout == model.layout
        assert location.setting == setting and location.value_format


def test_core_locations_say_what_restarts_and_what_is_merged(core_docs):
    model = detect(core_docs)
    cors = model.locate("cors")
    assert cors.consumers == ("Deployment/flyteadmin",)
    assert cors.sources == (("ConfigMap", "flyte-admin-base-config"), ("ConfigMap", "flyte-admin-clusters-config"))
    admin = model.locate_all("admin_client")
    assert [(l.object_name, l.consumers) for l in admin] == [
        ("flyte-propeller-config", ("Deployment/flyte-pod-webhook", "Deployment/flytepropeller")),
        ("flyte-scheduler-config", ("Deployment/flytescheduler",))]
    console = model.locate("console_admin_api_url")
    assert console.env_var == "ADMIN_API_URL" and console.value_format == "env" and console.consumers == ("Deployment/flyteconsole",)
    assert model.locate("propeller_client_secret").consumers == ("Deployment/flytepropeller", "Deployment/flytescheduler")
    assert model.locate("static_client_secret").value_format == "base64-bcrypt"
    assert model.locate("claim_symmetric_key").value_format == "base64-raw-32"


def test_scheduler_location_only_when_its_configmap_exists(core_docs):
    without = [d for d in core_docs if d["metadata"]["name"] not in ("flyte-scheduler-config", "flytescheduler")]
    model = detect(without)
    assert [l.object_name for l in model.locate_all("admin_client")] == ["flyte-propeller-config"]
    assert model.locate("propeller_client_secret").consumers == ("Deployment/flytepropeller",)


def test_binary_locations_and_unmounted_auth_secrets(binary_docs):
    model = detect(binary_docs)
    cors = model.locate("cors")
    assert cors.consumers == ("Deployment/%s" % BIN,)
    assert cors.sources == (("ConfigMap", BIN + "-config"), ("Secret", BIN + "-config-secret"))
    # The sandbox release runs without auth: no pod mounts the auth Secrets, so writing them restarts nothing.
    assert model.locate("oidc_client_secret").consumers == ()


def test_names_come_from_the_live_pod_templates(core_docs):
    propeller = find(core_docs, "Deployment", "flytepropeller")
    propeller["metadata"]["name"] = "flytepropeller-manager"
    next(v for v in propeller["spec"]["template"]["spec"]["volumes"] if v["name"] == "auth")["secret"]["secretName"] = "my-auth"
    console = find(core_docs, "Deployment", "flyteconsole")
    console["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["name"] = "my-console-env"
    model = detect(core_docs)
    assert model.propeller == "flytepropeller-manager"
    assert model.locate("propeller_client_secret").object_name == "my-auth"
    assert model.locate("propeller_client_secret").consumers == ("Deployment/flytepropeller-manager",)
    assert model.locate("console_admin_api_url").object_name == "my-console-env"
    assert "flytepropeller-manager" in [w.name for w in model.workloads()]


def test_unknown_setting_is_an_error(core_docs):
    with pytest.raises(fl.LayoutError, match="unknown setting 'nope'; known settings: admin_client"):
        detect(core_docs).locate("nope")


# ------------------------------------------------------------------------------------------ restarts, workloads

def test_restart_map_from_live_pod_templates(core_docs):
    model = detect(core_docs)
    assert model.restart_for([("ConfigMap", "flyte-admin-base-config")]) == ["Deployment/flyteadmin"]
    assert model.restart_for(["ConfigMap/flyte-propeller-config", "Secret/flyte-secret-auth"]) == [
        "Deployment/flyte-pod-webhook", "Deployment/flytepropeller", "Deployment/flytescheduler"]
    assert model.restart_for(["ConfigMap/flyte-console-config"]) == ["Deployment/flyteconsole"]
    assert model.restart_for(["Secret/flyte-admin-secrets", "ConfigMap/flyte-admin-base-config"]) == ["Deployment/flyteadmin"]
    assert model.restart_for(["ConfigMap/unrelated"]) == []
    assert fl.workloads_to_restart(["Secret/db-pass"], of_kind(core_docs, "Deployment")) == [
        "Deployment/datacatalog", "Deployment/flyteadmin", "Deployment/flytescheduler", "Deployment/syncresources"]


def test_static_restart_map_matches_the_live_one(core_docs, binary_docs):
    live = detect(core_docs)
    static = fl.FlyteModel(fl.FLYTE_CORE)
    for ref in ("ConfigMap/flyte-admin-base-config", "ConfigMap/flyte-propeller-config", "Secret/flyte-secret-auth",
                "ConfigMap/flyte-console-config", "ConfigMap/flyte-scheduler-config", "Secret/flyte-admin-secrets"):
        assert static.restart_for([ref]) == live.restart_for([ref]), ref
    assert static.locate("cors").sources == live.locate("cors").sources
    binary = fl.FlyteModel(fl.FLYTE_BINARY, release="flyte")
    assert binary.restart_for(["ConfigMap/%s-config" % BIN]) == detect(binary_docs).restart_for(["ConfigMap/%s-config" % BIN])
    assert binary.restart_for(["Secret/%s-admin-auth" % BIN]) == ["Deployment/%s" % BIN]


def test_workloads_with_their_containers(core_docs, binary_docs):
    core = dict((w.name, (w.init_containers, w.containers)) for w in detect(core_docs).workloads())
    assert core["flyteadmin"] == (("run-migrations", "seed-projects", "sync-cluster-resources", "generate-secrets"), ("flyteadmin",))
    assert core["flyte-pod-webhook"] == (("generate-secrets",), ("webhook",))
    assert core["syncresources"] == ((), ("sync-cluster-resources",))
    assert set(core) == {"flyteadmin", "flytepropeller", "flyte-pod-webhook", "datacatalog", "flyteconsole", "flytescheduler", "syncresources"}
    assert detect(binary_docs).workloads() == [fl.Workload("Deployment", BIN, ("wait-for-db",), ("flyte",))]
    expected = fl.Workload("Deployment", "x", ("wait-for-db", "gen-admin-auth-secret"), ("flyte",))
    assert fl.FlyteModel(fl.FLYTE_BINARY, fullname="x").workloads() == [expected]
    assert detect(binary_docs).as_dict()["workloads"] == ["Deployment/%s" % BIN]


# ---------------------------------------------------------------------------------------------- effective config

def binary_objects(docs):
    return [find(docs, "ConfigMap", BIN + "-config"), as_live_secret(find(docs, "Secret", BIN + "-config-secret"))]


def test_effective_config_merges_config_d_files_like_viper(binary_docs):
    config, secret = binary_objects(binary_docs)
    config["data"]["100-inline-config.yaml"] = (
        "admin:\n  Endpoint: dns:///flyte.example.com:443\n  insecure: 'false'\n"
        "server:\n  security:\n    allowedOrigins:\n    - https://console.example.com\n"
        "logger:\n  level: 4\n")
    auth_secrets = "auth:\n  appAuth:\n    selfAuthServer: {staticClients: {flytepropeller: {client_secret: aGFzaA==}}}\n"
    secret["data"]["014-auth-secrets.yaml"] = ey.encode_secret_value(auth_secrets)
    merged = fl.effective_config([config, secret])
    assert merged.files == ("000-core.yaml", "001-plugins.yaml", "002-database.yaml", "003-storage.yaml",
                            "014-auth-secrets.yaml", "100-inline-config.yaml")
    assert merged.get("admin.endpoint") == "dns:///flyte.example.com:443", "keys match case-insensitively; later file wins"
    assert merged.get("admin.insecure") is True, "a value of another type is ignored, as viper does"
    assert merged.ignored == ("100-inline-config.yaml: admin.insecure ignored: it is a str, an earlier file has a bool",)
    assert merged.get("logger") == {"show-source": True, "level": 4}, "maps deep-merge"
    assert merged.get(SECURITY + ("allowedOrigins",)) == ["https://console.example.com"]
    assert merged.get(STATIC_SECRET) == "aGFzaA=="
    assert merged.get("server.security.nope", "default") == "default"


def test_lists_are_replaced_and_null_blocks_later_maps():
    files = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {
        "a.yaml": "x:\n  list: [1, 2]\n  empty:\n", "b.yaml": "x:\n  list: [3]\n  empty: {k: v}\n", "notes.txt": "x: 9\n"}}
    merged = fl.effective_config([files])
    assert merged.data == {"x": {"list": [3], "empty": None}} and merged.files == ("a.yaml", "b.yaml")
    assert fl.viper_merge({"a": {"b": 1}}, {"A": {"c": 2}}) == {"a": {"b": 1, "c": 2}}


def test_model_effective_value_after_an_inline_edit(binary_docs):
    model = detect(binary_docs)
    config, secret = binary_objects(binary_docs)
    assert model.effective("cors", [config, secret]) == fl.GO_DEFAULTS["cors"], "the chart never sets CORS: Go defaults apply"
    assert model.effective("cors", [config, secret], defaults=False) is None
    location = model.locate("cors")
    plan = ey.plan_edits(config["data"], [(location.data_key, location.path + ("allowedOrigins",), ["https://c.example.com"])])
    config["data"] = plan.data
    assert model.effective("cors", [config, secret]) == {
        "allowCors": True, "allowedOrigins": ["https://c.example.com"], "allowedHeaders": ["Content-Type", "flyte-authorization"]}
    assert model.effective("admin_client", [config, secret])["endpoint"] == "localhost:8089"
    with pytest.raises(fl.LayoutError, match="no merged YAML"):
        model.effective("oidc_client_secret", [config])


def test_core_effective_admin_client(core_docs):
    model = detect(core_docs)
    objects = of_kind(core_docs, "ConfigMap")
    assert model.effective("admin_client", objects) == {
        "clientId": "flytepropeller", "authType": "ClientSecret", "clientSecretLocation": "/etc/secrets/client_secret",
        "endpoint": "flyteadmin:81", "insecure": True}
    assert model.effective("use_auth", objects) is False


def test_secret_key_visible_follows_volumes_items_and_mounts(core_docs):
    admin = copy.deepcopy(find(core_docs, "Deployment", "flyteadmin"))
    assert fl.secret_key_visible(admin, "flyte-admin-secrets", "oidc_client_secret")
    assert not fl.secret_key_visible(admin, "flyte-secret-auth", "client_secret")   # propeller's, not admin's
    propeller = find(core_docs, "Deployment", "flytepropeller")
    assert fl.secret_key_visible(propeller, "flyte-secret-auth", "client_secret")
    volume = [v for v in admin["spec"]["template"]["spec"]["volumes"] if v["name"] == "admin-secrets"][0]
    volume["secret"]["items"] = [{"key": "cookie_hash_key", "path": "cookie_hash_key"}]
    assert fl.secret_key_visible(admin, "flyte-admin-secrets", "cookie_hash_key")
    assert not fl.secret_key_visible(admin, "flyte-admin-secrets", "oidc_client_secret")
    for container in admin["spec"]["template"]["spec"]["containers"] + admin["spec"]["template"]["spec"]["initContainers"]:
        container["volumeMounts"] = [m for m in container.get("volumeMounts", []) if m["name"] != "admin-secrets"]
    assert not fl.secret_key_visible(admin, "flyte-admin-secrets", "cookie_hash_key")   # a volume no container mounts


def _hashed(docs, suffix="-7f9c2b6k4d"):
    """flyte-core as kustomize leaves it: every ConfigMap name hash-suffixed, the pod templates following them."""
    docs = copy.deepcopy(docs)
    names = set(configmap_names(docs))
    for doc in docs:
        if doc.get("kind") == "ConfigMap":
            doc["metadata"]["name"] += suffix
        if doc.get("kind") == "Deployment":
            for volume in doc["spec"]["template"]["spec"].get("volumes") or []:
                refs = [volume["configMap"]] if volume.get("configMap") else []
                refs += [s["configMap"] for s in (volume.get("projected") or {}).get("sources") or [] if s.get("configMap")]
                for ref in refs:
                    if ref["name"] in names:
                        ref["name"] += suffix
    return docs


def test_hashed_configmap_names_are_followed_from_the_workloads(core_docs):
    model = detect(_hashed(core_docs))
    objects = model.objects()
    assert objects["admin_config"] == "ConfigMap/flyte-admin-base-config-7f9c2b6k4d"
    assert objects["admin_clusters"] == "ConfigMap/flyte-admin-clusters-config-7f9c2b6k4d"
    assert objects["propeller_config"] == "ConfigMap/flyte-propeller-config-7f9c2b6k4d"
    assert objects["scheduler_config"] == "ConfigMap/flyte-scheduler-config-7f9c2b6k4d"
    assert model.locate("cors").object_name == "flyte-admin-base-config-7f9c2b6k4d"
    assert [loc.object_name for loc in model.locate_all("admin_client")] == [
        "flyte-propeller-config-7f9c2b6k4d", "flyte-scheduler-config-7f9c2b6k4d"]


def test_control_plane_without_propeller_writes_no_propeller_config(core_docs):
    gone = ("flytepropeller", "flyte-propeller-config", "flyte-pod-webhook")
    docs = [d for d in core_docs if d.get("metadata", {}).get("name") not in gone]
    model = detect(docs)
    assert [loc.object_name for loc in model.locate_all("admin_client")] == ["flyte-scheduler-config"]


def test_auth_secrets_are_followed_by_mount_path(core_docs):
    """An install that mounts its own Secret at /etc/secrets (another name, another volume name)."""
    docs = copy.deepcopy(core_docs)
    admin = find(docs, "Deployment", "flyteadmin")
    for volume in admin["spec"]["template"]["spec"]["volumes"]:
        if volume["name"] == "admin-secrets":
            volume["name"] = "auth-files"
            volume["secret"]["secretName"] = "flyte-admin-auth"
    for container in admin["spec"]["template"]["spec"]["containers"] + admin["spec"]["template"]["spec"]["initContainers"]:
        for mount in container.get("volumeMounts") or []:
            if mount["name"] == "admin-secrets":
                mount["name"] = "auth-files"
    model = detect(docs)
    assert model.locate("oidc_client_secret").object_name == "flyte-admin-auth"
    assert model.locate("cookie_hash_key").object_name == "flyte-admin-auth"
    assert model.locate("propeller_client_secret").object_name == "flyte-secret-auth"


@pytest.mark.parametrize("manifest,path,expected", [
    (CORE, "/etc/flyte/clusterresource/templates", [
        ("Deployment/flyteadmin", "sync-cluster-resources", "clusterresource-template"),
        ("Deployment/syncresources", "sync-cluster-resources", "clusterresource-template")]),
    (BINARY, "/etc/flyte/cluster-resource-templates", [("Deployment/" + BIN, "flyte", BIN + "-cluster-resource-templates")]),
])
def test_cluster_resource_templates_are_found_by_their_mount(manifest, path, expected):
    model = detect(load(manifest))
    assert sorted(model.mounted_at(path)) == expected
    config = [d for d in load(manifest) if d and d.get("kind") == "ConfigMap"]
    assert model.effective("cluster_resources", config)["templatePath"] == path
    assert model.effective("namespace_mapping", config) == {"template": "{{ project }}-{{ domain }}"}
    assert [d["id"] for d in model.effective("domains", config)] == ["development", "staging", "production"]
