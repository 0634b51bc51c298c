# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for masking secret values in results and diffs."""
import base64
import copy
import hashlib

import pytest

from upstream_manifests import CORE, find, load, as_live_secret
from ansible_collections.flytesec.hardening.plugins.module_utils import masking
from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import embedded_yaml as ey

SECRET = "s3cr3t-Value-42"
PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx1\nQWERTYUIOPasdfghjkl\n-----END RSA PRIVATE KEY-----\n")


@pytest.fixture
def masker():
    return masking.Masker([SECRET])


def test_nested_results_are_masked_and_the_input_is_unchanged(masker):
    result = {"msg": "connected with %s today" % SECRET, "items": [SECRET, ("x", SECRET)], "n": 3, "ok": True,
              "nested": {"deeper": [{"value": "prefix-%s-suffix" % SECRET}]}}
    before = copy.deepcopy(result)
    masked = masker.mask(result)
    assert result == before
    assert masked == {"msg": "connected with ******** today", "items": ["********", ("x", "********")], "n": 3, "ok": True,
                      "nested": {"deeper": [{"value": "prefix-********-suffix"}]}}


@pytest.mark.parametrize("form", [
    base64.b64encode(SECRET.encode()).decode(),
    base64.b64encode(SECRET.encode()).decode().rstrip("="),
    base64.urlsafe_b64encode(SECRET.encode()).decode(),
])
def test_base64_forms_are_masked(masker, form):
    assert masker.mask({"v": "data=%s;" % form}) == {"v": "data=********;"}


def test_values_read_from_files_are_masked_trimmed_too():
    masker = masking.Masker([SECRET + "\n"])
    assert masker.mask(["x %s y" % SECRET, base64.b64encode(SECRET.encode()).decode()]) == ["x ******** y", "********"]


def test_secret_looking_keys_are_masked_without_registration():
    masker = masking.Masker()
    result = {"client_secret": "abc", "clientSecret": "def", "password": "pw", "cookie_hash_key": "k", "oidc_client_secret": ["a"],
              "clientSecretLocation": "/etc/secrets/client_secret", "passwordPath": "/etc/db/pass.txt", "token_rsa_key.pem": PEM}
    masked = masker.mask(result)
    assert masked == {"client_secret": "********", "clientSecret": "********", "password": "********", "cookie_hash_key": "********",
                      "oidc_client_secret": ["********"], "clientSecretLocation": "/etc/secrets/client_secret",
                      "passwordPath": "/etc/db/pass.txt", "token_rsa_key.pem": "********"}


def test_short_values_are_masked_whole_but_not_inside_text():
    masker = masking.Masker(["abc"])
    assert masker.mask(["abc", "xabcx"]) == ["********", "xabcx"]


def test_secret_objects_are_masked():
    secret = as_live_secret(find(load(CORE), "Secret", "flyte-secret-auth"))
    secret["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": '{"stringData":{"client_secret":"foobar"}}'}
    before = copy.deepcopy(secret)
    masked = masking.Masker().mask({"result": [secret]})["result"][0]
    assert secret == before
    assert masked["data"] == {"client_secret": "********"}
    assert masked["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == "********"
    assert masked["metadata"]["name"] == "flyte-secret-auth"
    assert "foobar" not in repr(masked) and "Zm9vYmFy" not in repr(masked)


def test_yaml_and_json_text_is_masked_by_key():
    masker = masking.Masker()
    text = ("auth:\n  appAuth:\n    selfAuthServer:\n      staticClients:\n        flytepropeller:\n"
            "          client_secret: JDJhJDA2JGQ2UFFu\n          id: flytepropeller\n"
            "database:\n  postgres:\n    password: \"hunter22\"\n    passwordPath: /etc/db/pass.txt\n"
            "files:\n  token_rsa_key.pem: |\n    line-one\n    line-two\n  other: visible\n")
    masked = masker.mask_text(text)
    assert "JDJhJDA2JGQ2UFFu" not in masked and "hunter22" not in masked and "line-one" not in masked
    assert "          client_secret: ********\n" in masked
    assert '    password: "********"\n' in masked
    assert "passwordPath: /etc/db/pass.txt" in masked and "other: visible" in masked and "id: flytepropeller" in masked
    assert masker.mask_text('{"clientSecret": "abc123", "clientId": "flytectl"}') == '{"clientSecret": "********", "clientId": "flytectl"}'
    assert masker.mask_text('{"stringData":{"client_secret":"fo\\"o"}}') == '{"stringData":{"client_secret":"********"}}'


def test_pem_private_keys_are_masked_anywhere():
    masked = masking.Masker().mask_text("key follows:\n" + PEM)
    assert "MIIEowIBAAKCAQEAx1" not in masked and "QWERTYUIOP" not in masked
    assert "-----BEGIN RSA PRIVATE KEY----- ******** -----END RSA PRIVATE KEY-----" in masked


def test_diffs_use_keyed_tags_that_show_a_change(masker):
    other = "another-secret-99"
    masker.add(other)
    diff = "--- a\n+++ b\n@@ -1 +1 @@\n-client_secret: %s\n+client_secret: %s\n" % (SECRET, other)
    masked = masker.mask_diff(diff)
    old_tag, new_tag = masker.tag(SECRET), masker.tag(other)
    assert masked == "--- a\n+++ b\n@@ -1 +1 @@\n-client_secret: %s\n+client_secret: %s\n" % (old_tag, new_tag)
    assert old_tag != new_tag and old_tag == masker.tag(SECRET)
    assert hashlib.sha256(SECRET.encode()).hexdigest()[:8] not in old_tag, "tags are keyed, not a plain digest"
    assert masking.Masker([SECRET]).tag(SECRET) != old_tag, "each Masker has its own key"


def test_diff_lines_with_secret_keys_are_masked_in_place():
    masked = masking.Masker().mask_diff("@@ -1,2 +1,2 @@\n   id: x\n-  client_secret: old-hash\n+  client_secret: new-hash\n")
    lines = masked.splitlines()
    assert lines[1] == "   id: x"
    assert lines[2].startswith("-  client_secret: <masked:") and lines[3].startswith("+  client_secret: <masked:")
    assert lines[2] != lines[3]


def test_ansible_diff_dicts_are_masked(masker):
    diff = [{"before": "password: %s\n" % SECRET, "after": "password: x\n", "before_header": "h"}, {"prepared": "+%s\n" % SECRET}]
    masked = masker.mask_diff(diff)
    assert SECRET not in repr(masked) and masked[0]["before_header"] == "h"
    assert masked[1]["prepared"] == "+%s\n" % masker.tag(SECRET)


def test_text_diff_masks_before_diffing_so_context_lines_never_leak():
    before = "keys:\n  token_rsa_key.pem: |\n    AAAA\n    BBBB\n    CCCC\n  claim_symmetric_key: zzzz\nother: 1\n"
    after = before.replace("other: 1", "other: 2")
    diff = ey.text_diff(before, after, "Secret/x data", masking.Masker())
    assert "AAAA" not in diff and "BBBB" not in diff and "CCCC" not in diff and "zzzz" not in diff
    assert "-other: 1" in diff and "+other: 2" in diff


def test_module_level_masker_registers_and_resets():
    masking.reset()
    assert masking.register("module-secret", None, "") == "module-secret"
    assert masking.mask({"m": "x module-secret y"}) == {"m": "x ******** y"}
    assert masking.mask_text("module-secret") == "********"
    assert masking.mask_diff("+module-secret\n").startswith("+<masked:")
    assert masking.mask_secret({"kind": "Secret", "data": {"k": "dg=="}})["data"] == {"k": "********"}
    masking.reset()
    assert masking.mask_text("module-secret") == "module-secret"


def test_is_secret_key():
    for key in ("client_secret", "clientSecret", "CLIENT-SECRET", "oidc_client_secret", "claim_symmetric_key", "cookie_block_key",
                "token_rsa_key.pem", "password"):
        assert masking.is_secret_key(key), key
    for key in ("clientId", "clientSecretLocation", "clientSecretName", "passwordPath", 5, None):
        assert not masking.is_secret_key(key), key
