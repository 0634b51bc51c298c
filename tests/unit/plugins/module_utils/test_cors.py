# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for CORS validation and normalisation."""
import pytest

from ansible_collections.flytesec.hardening.plugins.module_utils import cors


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
