"""`redacted`: what `explain` shows — every credential masked, everything else as sent."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from shopify_bridge.deliver.payloads import DestinationRequest, OrderFacts, build_request, redacted
from tests.deliver.payloads import config_entries
from tests.deliver.payloads.envelopes import placed_order

NOW = datetime(2026, 5, 1, 11, 0, tzinfo=UTC)
SECRETS = (
    config_entries.GA4_SECRET,
    config_entries.META_TOKEN,
    config_entries.SEGMENT_WRITE_KEY,
    base64.b64encode(f"{config_entries.SEGMENT_WRITE_KEY}:".encode()).decode(),
)


def built(settings: Any) -> DestinationRequest:
    result = build_request(settings, placed_order(), now=NOW, order=OrderFacts())
    assert isinstance(result, DestinationRequest)
    return result


def shown(request: DestinationRequest) -> str:
    """Everything explain prints of a request."""
    return "\n".join(
        [request.method, request.url, *(f"{k}: {v}" for k, v in request.headers.items()), request.body_bytes().decode()]
    )


def test_ga4_api_secret_is_masked_in_the_query_string() -> None:
    request = built(config_entries.ga4())
    assert config_entries.GA4_SECRET in request.url
    masked = redacted(request)
    assert masked.url == "https://www.google-analytics.com/mp/collect?measurement_id=G-TEST123&api_secret=***"
    assert masked.body == request.body


def test_meta_access_token_is_masked_in_the_body() -> None:
    request = built(config_entries.meta(test_event_code="TEST4321"))
    masked = redacted(request)
    assert masked.body["access_token"] == "***"
    assert masked.body["test_event_code"] == "TEST4321"  # a test code is not a credential
    assert masked.body["data"] == request.body["data"]
    assert masked.url == request.url


def test_segment_authorization_header_is_masked_keeping_its_scheme() -> None:
    request = built(config_entries.segment())
    masked = redacted(request)
    assert masked.headers == {"Content-Type": "application/json", "Authorization": "Basic ***"}
    assert masked.body == request.body


def test_no_secret_survives_in_anything_explain_prints() -> None:
    for settings in (config_entries.ga4(), config_entries.meta(), config_entries.segment()):
        request = built(settings)
        assert any(secret in shown(request) for secret in SECRETS)  # the real request does carry it
        printed = shown(redacted(request))
        assert not any(secret in printed for secret in SECRETS), printed


def test_redaction_leaves_the_request_to_send_untouched() -> None:
    request = built(config_entries.meta())
    redacted(request)
    assert request.body["access_token"] == config_entries.META_TOKEN


def test_other_authorization_forms_and_urls_without_a_query() -> None:
    request = DestinationRequest(
        method="POST",
        url="https://example.invalid/hook",
        headers={"authorization": "opaque-token", "X-Trace": "abc"},
        body={"nested": [{"access_token": "t0ken"}], "keep": 1},
    )
    masked = redacted(request)
    assert masked.url == "https://example.invalid/hook"
    assert masked.headers == {"authorization": "***", "X-Trace": "abc"}
    assert masked.body == {"nested": [{"access_token": "***"}], "keep": 1}
