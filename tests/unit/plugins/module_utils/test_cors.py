# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for CORS validation and normalisation."""
import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils.flyte import cors


@pytest.mark.parametrize("value,expected", [
    ("https://console.example.com", "https://console.example.com"),
    ("https://Console.Example.com/", "https://console.example.com"),
    ("https://console.example.com:443", "https://console.example.com"),
    ("https://console.example.com:8443", "https://console.example.com:8443"),
    ("http://localhost:3000", "http://localhost:3000"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
])
def test_origin_normalised(value, expected):
    assert cors.normalize_origin(value) == expected


@pytest.mark.parametrize("value,fragment", [
    ("https://console.example.com/console", "no path"),
    ("console.example.com", "scheme://host"),
    ("ftp://console.example.com", "scheme://host"),
    ("http://console.example.com", "uses http"),
    ("*", "'*' is refused"),
    ("https://console.example.com?x=1", "no path"),
])
def test_origin_rejected_with_the_option_and_value(value, fragment):
    with pytest.raises(cors.CorsError) as err:
        cors.normalize_origin(value)
    assert "console_origins" in str(err.value)
    assert fragment in str(err.value)


def test_insecure_and_wildcard_need_opt_in():
    assert cors.normalize_origin("http://console.example.com", allow_insecure=True) == "http://console.example.com"
    assert cors.normalize_origin("*", allow_wildcard=True) == "*"


def test_origins_deduplicated_and_empty_refused():
    assert cors.normalize_origins(["https://a.example.com/", "https://a.example.com", "https://b.example.com"]) == [
        "https://a.example.com", "https://b.example.com"]
    with pytest.raises(cors.CorsError, match="allows EVERY origin"):
        cors.normalize_origins([])
    with pytest.raises(cors.CorsError, match="cannot be combined"):
        cors.normalize_origins(["*", "https://a.example.com"], allow_wildcard=True)


def test_admin_url():
    assert cors.normalize_admin_url("https://flyte.example.com/") == "https://flyte.example.com"
    with pytest.raises(cors.CorsError, match="admin_url"):
        cors.normalize_admin_url("flyte.example.com")
    with pytest.raises(cors.CorsError, match="admin_url"):
        cors.normalize_admin_url("http://flyte.example.com")


def test_headers_always_include_the_required_ones_once():
    assert cors.normalize_headers(["X-Custom", "content-type"]) == ["Content-Type", "flyte-authorization", "X-Custom"]
    with pytest.raises(cors.CorsError, match="allowed_headers"):
        cors.normalize_headers(["bad header"])


OPTIONS = {"admin_url": "http://flyte-api.example.com/", "console_origins": ["http://Flyte.example.com/"],
           "allowed_headers": ["X-Requested-With"], "allow_insecure_origins": True, "allow_wildcard": False}


def test_validate_is_the_one_translation():
    assert cors.validate(OPTIONS) == ("http://flyte-api.example.com", ["http://flyte.example.com"],
                                      ["Content-Type", "flyte-authorization", "X-Requested-With"])
    assert cors.validate({"console_origins": ["https://a.example.com"]}) == (
        None, ["https://a.example.com"], ["Content-Type", "flyte-authorization"])
    with pytest.raises(cors.CorsError, match=r"^console_origins: '\*' is refused"):
        cors.validate({"console_origins": ["*"]})
    with pytest.raises(cors.CorsError, match=r"^cors\.console_origins: '\*' is refused"):
        cors.validate({"console_origins": ["*"]}, name="cors")
    with pytest.raises(cors.CorsError, match=r"^cors: unknown key\(s\) origins; valid: admin_url"):
        cors.validate({"origins": ["https://a.example.com"]}, name="cors")
    with pytest.raises(cors.CorsError, match=r"^cors\.admin_url: required on flyte-core"):
        cors.require_admin_url(None, "flyte-core", name="cors")
    cors.require_admin_url("https://flyte-api.example.com", "flyte-core")


class _GitopsModule(object):
    def __init__(self, given):
        self.params = {"cors": given}

    def fail_json(self, **result):
        raise cors.CorsError(result["msg"])


def test_live_and_gitops_modes_translate_the_options_alike():
    """flyte_cors (live) and flyte_gitops (GitOps) both go through cors.validate: same values, same refusals."""
    from ansible_collections.flytesec.hardening.plugins.modules import flyte_cors
    from ansible_collections.flytesec.hardening.plugins.modules import flyte_gitops
    live = flyte_cors.validated(dict(OPTIONS, state="present"))
    assert flyte_gitops.cors_settings(_GitopsModule(OPTIONS), "flyte-core") == live
    for bad in ({"console_origins": ["http://flyte.example.com"]}, {"console_origins": []},
                {"console_origins": ["https://a.example.com"], "allowed_headers": ["bad header"]}):
        with pytest.raises(cors.CorsError) as live_err:
            flyte_cors.validated(dict(dict.fromkeys(cors.OPTIONS), state="present", **bad))
        with pytest.raises(cors.CorsError) as gitops_err:
            flyte_gitops.cors_settings(_GitopsModule(bad), "flyte-binary")
        assert str(gitops_err.value) == "cors.%s" % live_err.value
