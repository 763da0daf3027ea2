"""The one redaction: registered values, secret shapes, and prose left alone."""

from __future__ import annotations

import pytest

from shopify_bridge.redaction import Redactor, mask_shapes, masked


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("token shpat_0123456789abcdef0123456789abcdef", "token ***"),
        ("sim token shpat_sim_0a1b2c", "sim token ***"),  # underscores inside a token are still the token
        ("shpss_999 and shpca_x", "*** and ***"),
        ('{"signing_secret": "whsec_c2VjcmV0"}', '{"signing_secret": "***"}'),
        ("{'X-Shopify-Access-Token': 'tok-unregistered'}", "{'X-Shopify-Access-Token': '***'}"),
        ("X-Webhook-Token: hook-1 sent", "X-Webhook-Token: *** sent"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***"),
        ("GET /x?access_token=abc123&page=2", "GET /x?access_token=***&page=2"),
        ('api_secret = "ga4-secret"', 'api_secret = "***"'),
        ("access_token: 'quoted'", "access_token: '***'"),
    ],
)
def test_secret_shapes_are_masked_without_registration(text: str, shown: str) -> None:
    assert mask_shapes(text) == shown
    assert mask_shapes(shown) == shown  # idempotent


@pytest.mark.parametrize(
    "prose",
    [
        "sources[0].access_token: must not be empty",
        "poll failed: 502 Bad Gateway",
        "the signing_secret is missing",
        "shpat_ is the prefix of admin tokens",
    ],
)
def test_prose_about_secrets_is_kept(prose: str) -> None:
    assert mask_shapes(prose) == prose


def test_registered_values_short_ones_only_whole_and_longest_first() -> None:
    redactor = Redactor(["abc", "", "token", "token-with-suffix"])
    assert redactor.text("abc") == "***"
    assert redactor.text("abcdef") == "abcdef"
    assert redactor.text("a token-with-suffix b") == "a *** b"
    redactor.add(["later-secret"])
    assert redactor.text("x later-secret y") == "x *** y"


def test_masked_uses_the_given_secrets_and_the_shapes() -> None:
    secrets = frozenset({"my-long-secret", "  ab"})
    assert masked("value my-long-secret in shpat_abcdef", secrets) == "value *** in ***"
    assert masked("  ab cd", secrets) == "  ab cd"  # short once stripped: only ever masked whole
    assert masked("  ab", secrets) == "***"


def test_values_are_masked_in_containers_and_by_secret_key_names() -> None:
    redactor = Redactor(["registered-secret"])
    data = {"Authorization": "Basic x", "nested": ["registered-secret!", (1, None)], "raw": b"shpat_abcdef"}
    assert redactor.value(data) == {"Authorization": "***", "nested": ["***!", [1, None]], "raw": "***"}
    assert data["nested"] == ["registered-secret!", (1, None)]  # the caller's data is not touched
