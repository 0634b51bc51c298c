# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for editing YAML embedded in ConfigMap/Secret data, on the upstream Flyte manifests."""
import base64
import copy

import pytest
import yaml

from upstream_manifests import BINARY, CORE, as_live_secret, find, load
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey
from ansible_collections.flytesec.hardening.plugins.module_utils import masking

SECURITY = ("server", "security")
ORIGINS = ("https://console.example.com",)
HEADERS = ("Content-Type", "flyte-authorization", "x-request-id")


@pytest.fixture
def admin_cm():
    return find(load(CORE), "ConfigMap", "flyte-admin-base-config")


def cors_ops(origins=ORIGINS, headers=HEADERS):
    return [
        ("server.yaml", SECURITY + ("allowCors",), True),
        ("server.yaml", SECURITY + ("allowedOrigins",), list(origins)),
        ("server.yaml", "server.security.allowedHeaders", list(headers)),
    ]


def without(data, path):
    """Deep copy of parsed data without the key at ``path``."""
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    node.pop(path[-1], None)
    return data


# ---------------------------------------------------------------------------------------- flyte-core server.yaml

def test_cors_edit_of_server_yaml_keeps_every_other_key(admin_cm):
    original = copy.deepcopy(admin_cm["data"])
    plan = ey.plan_edits(admin_cm["data"], cors_ops(), label="ConfigMap/flyte-admin-base-config")

    assert plan.changed and plan.changed_keys == ["server.yaml"]
    assert admin_cm["data"] == original, "the input data dict must not change"
    for key, text in original.items():
        if key != "server.yaml":
            assert plan.data[key] is text, "untouched key %s must keep its exact text" % key
    assert list(plan.data) == list(original), "data keys keep their order"

    before = yaml.safe_load(original["server.yaml"])
    after = yaml.safe_load(plan.data["server.yaml"])
    assert after["server"]["security"] == {
        "allowCors": True, "allowedOrigins": list(ORIGINS), "allowedHeaders": list(HEADERS), "secure": False, "useAuth": False}
    for key in ("allowedOrigins", "allowedHeaders"):
        before = without(before, SECURITY + (key,))
        after = without(after, SECURITY + (key,))
    assert before == after, "every other key of server.yaml survives with its value"


def test_cors_edit_changes_only_the_edited_lines(admin_cm):
    text = admin_cm["data"]["server.yaml"]
    new = ey.plan_edits(admin_cm["data"], cors_ops()).data["server.yaml"]
    old_lines, new_lines = text.splitlines(), new.splitlines()
    assert [line for line in old_lines if line not in new_lines] == ["    - '*'"]
    assert [line for line in new_lines if line not in old_lines] == [
        "    - flyte-authorization", "    - x-request-id", "    - https://console.example.com"]
    # quoting of untouched scalars is kept ('flyte:' stays quoted, as written by Helm)
    assert "  metricsScope: 'flyte:'" in new_lines


def test_editing_twice_gives_the_same_text(admin_cm):
    first = ey.plan_edits(admin_cm["data"], cors_ops())
    second = ey.plan_edits(first.data, cors_ops())
    assert not second.changed and second.diffs == [] and second.changed_keys == []
    assert second.data["server.yaml"] is first.data["server.yaml"]
    again = ey.plan_edits(admin_cm["data"], cors_ops())
    assert again.data["server.yaml"] == first.data["server.yaml"], "output is deterministic"


def test_noop_edit_reports_no_change_and_returns_identical_text(admin_cm):
    ops = cors_ops(origins=("*",), headers=("Content-Type",))
    plan = ey.plan_edits(admin_cm["data"], ops)
    assert not plan.changed
    assert plan.data == admin_cm["data"]
    assert plan.data["server.yaml"] is admin_cm["data"]["server.yaml"]
    assert ey.edit_text(admin_cm["data"]["server.yaml"], [(SECURITY + ("secure",), False)]) is admin_cm["data"]["server.yaml"]


def test_formatting_only_difference_is_not_a_change(admin_cm):
    text = admin_cm["data"]["server.yaml"]
    reformatted = yaml.safe_dump(yaml.safe_load(text), default_flow_style=True, sort_keys=False, width=40)
    assert reformatted != text
    assert ey.values_equal(ey.load(reformatted), ey.load(text))
    same = [(SECURITY + ("allowedOrigins",), ["*"]), ("server.grpc.port", 8089), ("flyteadmin.metricsScope", "flyte:")]
    assert ey.edit_text(reformatted, same) is reformatted
    assert ey.plan_edits({"server.yaml": reformatted}, [("server.yaml", p, v) for p, v in same]).changed is False


def test_text_diff_is_readable_and_per_key(admin_cm):
    plan = ey.plan_edits(admin_cm["data"], cors_ops(), label="ConfigMap/flyte-admin-base-config")
    assert len(plan.diffs) == 1
    prepared = plan.diffs[0]["prepared"]
    assert prepared.startswith("--- ConfigMap/flyte-admin-base-config server.yaml (before)\n"
                               "+++ ConfigMap/flyte-admin-base-config server.yaml (after)\n")
    assert "-    - '*'\n" in prepared and "+    - https://console.example.com\n" in prepared
    assert ey.text_diff("a: 1\n", "a: 1\n", "x") == ""


# --------------------------------------------------------------------------------------- flyte-binary config

def test_missing_inline_key_is_created_and_other_keys_survive():
    cm = find(load(BINARY), "ConfigMap", "flyte-flyte-binary-config")
    assert "100-inline-config.yaml" not in cm["data"]
    ops = [("100-inline-config.yaml", SECURITY + ("allowedOrigins",), ORIGINS),
           ("100-inline-config.yaml", SECURITY + ("allowCors",), True)]
    plan = ey.plan_edits(cm["data"], ops)
    assert plan.changed_keys == ["100-inline-config.yaml"]
    assert plan.data["100-inline-config.yaml"] == (
        "server:\n  security:\n    allowedOrigins:\n    - https://console.example.com\n    allowCors: true\n")
    assert list(plan.data)[:-1] == list(cm["data"]) and all(plan.data[k] is cm["data"][k] for k in cm["data"])
    assert "+++ data 100-inline-config.yaml (after)" in plan.diffs[0]["prepared"]


def test_deleting_absent_values_in_a_missing_key_is_no_change():
    plan = ey.plan_edits({"a.yaml": "x: 1\n"}, [("100-inline-config.yaml", "server.security.allowedOrigins", ey.DELETE)])
    assert not plan.changed and "100-inline-config.yaml" not in plan.data


def test_secret_document_edit_round_trips_base64_and_masks_the_diff():
    secret = as_live_secret(find(load(BINARY), "Secret", "flyte-flyte-binary-config-secret"))
    digest = base64.b64encode(b"$2a$06$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ").decode()
    path = ["auth", "appAuth", "selfAuthServer", "staticClients", "flytepropeller", "client_secret"]
    plan = ey.plan_edits(secret["data"], [("014-auth-secrets.yaml", path, digest)], secret=True, label="Secret/x")
    assert plan.changed_keys == ["014-auth-secrets.yaml"]
    text = ey.decode_secret_value(plan.data["014-auth-secrets.yaml"])
    assert ey.get_value(yaml.safe_load(text), path) == digest
    assert digest not in plan.diffs[0]["prepared"] and "client_secret: <masked:" in plan.diffs[0]["prepared"]
    again = ey.plan_edits(plan.data, [("014-auth-secrets.yaml", path, digest)], secret=True)
    assert not again.changed


def test_raw_values_set_and_delete_whole_keys():
    console = find(load(CORE), "ConfigMap", "flyte-console-config")
    plan = ey.plan_edits(console["data"], [("ADMIN_API_URL", None, "https://flyte-api.example.com")])
    assert plan.data == {"BASE_URL": "/console", "CONFIG_DIR": "/etc/flyte/config", "ADMIN_API_URL": "https://flyte-api.example.com"}
    assert not ey.plan_edits(plan.data, [("ADMIN_API_URL", None, "https://flyte-api.example.com")]).changed
    removed = ey.plan_edits(plan.data, [("ADMIN_API_URL", None, ey.DELETE)])
    assert removed.changed and removed.data == console["data"]


def test_raw_secret_values_never_reach_the_diff():
    masker = masking.Masker()
    data = {"client_secret": ey.encode_secret_value("foobar")}
    plan = ey.plan_edits(data, [("client_secret", None, "n3w-s3cret-value")], secret=True, masker=masker)
    assert ey.decode_secret_value(plan.data["client_secret"]) == "n3w-s3cret-value"
    prepared = plan.diffs[0]["prepared"]
    assert "foobar" not in prepared and "n3w-s3cret-value" not in prepared
    assert "-<masked:" in prepared and "+<masked:" in prepared


# ----------------------------------------------------------------------------------------- document behaviour

def test_paths_as_lists_allow_dotted_keys():
    assert ey.parse_path("a.b.c") == ("a", "b", "c")
    assert ey.parse_path(["token_rsa_key.pem"]) == ("token_rsa_key.pem",)
    assert ey.parse_path(None) == () and ey.parse_path("") == ()
    text = ey.edit_text("files: {}\n", [(["files", "token_rsa_key.pem"], "x")])
    assert yaml.safe_load(text) == {"files": {"token_rsa_key.pem": "x"}}
    with pytest.raises(ey.EmbeddedYamlError, match="empty key"):
        ey.parse_path("a..b")


def test_new_keys_are_appended_in_block_style_and_existing_order_kept():
    text = "b: 1\na: {x: 1}\n"
    long_text = " ".join(["long"] * 40)
    new = ey.edit_text(text, [("a.y", [1, 2]), ("c", {"z": True, "d": long_text})])
    assert new == "b: 1\na:\n  x: 1\n  y:\n  - 1\n  - 2\nc:\n  z: true\n  d: %s\n" % long_text


def test_dump_is_deterministic_without_aliases_or_wrapping():
    shared = ["a", "b"]
    data = {"z": shared, "y": shared, "long": "word " * 50, "multi": "line1\nline2\n"}
    text = ey.dump(data)
    assert "&" not in text and "*" not in text
    assert text.index("z:") < text.index("y:") < text.index("long:")
    assert "multi: |\n  line1\n  line2\n" in text
    assert yaml.safe_load(text) == data
    assert ey.dump(data) == text


def test_set_compares_types():
    assert ey.edit_text("port: 8089\n", [("port", "8089")]) == "port: '8089'\n"
    assert ey.edit_text("enabled: true\n", [("enabled", 1)]) == "enabled: 1\n"
    assert ey.edit_text("on: x\n", [("on", "y")]) == "on: x\n'on': y\n", "YAML 1.1: the key on is the boolean true"
    assert ey.values_equal({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})
    assert not ey.values_equal(True, 1) and not ey.values_equal(1, 1.0) and not ey.values_equal([1], (1, 2))


def test_merge_deep_merges_mappings_and_replaces_lists():
    text = "auth:\n  authorizedUris:\n  - a\n  - b\n  userAuth:\n    openId:\n      clientId: x\n"
    new = ey.edit_text(text, [("auth", ey.Merged({"authorizedUris": ["c"], "userAuth": {"openId": {"baseUrl": "https://idp"}}}))])
    assert yaml.safe_load(new) == {"auth": {"authorizedUris": ["c"], "userAuth": {"openId": {"clientId": "x", "baseUrl": "https://idp"}}}}
    assert ey.deep_merge({"a": {"b": 1, "l": [1, 2]}}, {"a": {"c": 2, "l": [3]}}) == {"a": {"b": 1, "c": 2, "l": [3]}}


def test_null_parents_become_mappings_and_scalars_are_an_error():
    assert yaml.safe_load(ey.edit_text("server:\n  security:\n", [("server.security.useAuth", True)])) == {
        "server": {"security": {"useAuth": True}}}
    with pytest.raises(ey.EmbeddedYamlError, match="server.security is a scalar"):
        ey.edit_text("server:\n  security: off\n", [("server.security.useAuth", True)], label="server.yaml")


def test_documents_that_are_not_mappings_are_refused():
    with pytest.raises(ey.EmbeddedYamlError, match="ConfigMap/c server.yaml: the YAML document is a list, not a mapping"):
        ey.plan_edits({"server.yaml": "- a\n- b\n"}, [("server.yaml", "x", 1)], label="ConfigMap/c")
    with pytest.raises(ey.EmbeddedYamlError, match="not valid YAML"):
        ey.load("a: [1\n", "bad.yaml")
    with pytest.raises(ey.EmbeddedYamlError, match="not valid YAML"):
        ey.load("a: 1\n---\nb: 2\n")
    with pytest.raises(ey.EmbeddedYamlError, match="cannot mix"):
        ey.plan_edits({}, [("k", None, "v"), ("k", "a", 1)])
    with pytest.raises(ey.EmbeddedYamlError, match="must be a string"):
        ey.plan_edits({}, [("k", None, 5)])


def test_empty_documents_and_aliases():
    assert ey.load(None) == {} and ey.load("") == {} and ey.load("# only a comment\n") == {}
    flattened = ey.edit_text("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n", [("other.z", 3)])
    assert "&" not in flattened and "<<" not in flattened
    assert yaml.safe_load(flattened) == {"base": {"x": 1}, "other": {"x": 1, "y": 2, "z": 3}}


def test_comments_survive_a_noop_edit():
    text = "# managed by hand\nserver:\n  httpPort: 8088  # http\n"
    assert ey.edit_text(text, [("server.httpPort", 8088)]) is text


def test_document_get_delete_and_root():
    doc = ey.Document("a:\n  b: 1\n  c: 2\n")
    assert doc.get("a.b") == 1 and doc.get("a.x", "d") == "d" and doc.get("a.b.c") is None
    doc.delete("a.b")
    doc.delete("a.b.c")
    assert doc.changed and doc.text() == "a:\n  c: 2\n"
    doc.set((), {"fresh": True})
    assert doc.text() == "fresh: true\n"
    with pytest.raises(ey.EmbeddedYamlError, match="root must be a mapping"):
        doc.set(None, [1])


def test_secret_value_helpers():
    assert ey.decode_secret_value(ey.encode_secret_value("héllo: wörld\n")) == "héllo: wörld\n"
    assert ey.decode_secret_value(None) is None and ey.encode_secret_value(None) is None
    with pytest.raises(ey.EmbeddedYamlError, match="not base64"):
        ey.decode_secret_value("not base64!")


def test_ansible_string_subclasses_are_written_as_plain_strings():
    class Tagged(str):
        pass
    assert ey.edit_text("", [("a", Tagged("x")), ("b", (Tagged("y"),))]) == "a: x\nb:\n- y\n"
