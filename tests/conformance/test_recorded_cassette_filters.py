"""The cassette filters on real recorded Shopify answers: signed result URLs and customer emails."""

from __future__ import annotations

import json

from shopify_bridge.shopify.cassette import canonical_url
from shopify_bridge.shopify.cassette_scrub import Scrubber, is_signed
from tests.conftest import recorded


def test_a_real_signed_bulk_result_url_loses_its_query_string() -> None:
    run = recorded("2026-04__bulk-operation-run-query-group-objects.json")["runs"]["runQueryGroupObjectsTrue"]
    url = run["terminalOperation"]["url"]
    assert is_signed(url)
    bare = url.split("?", 1)[0]
    assert canonical_url(url) == bare
    scrubbed = Scrubber(b"k").json(run["terminalOperation"])
    assert scrubbed["url"] == bare and scrubbed["objectCount"] == "1456"


def test_a_whole_capture_scrubbed_keeps_no_signature_and_no_email() -> None:
    for name in (
        "2026-04__bulk-operation-run-query-group-objects.json",
        "2026-04__order-catalog-count-read.json",
        "2025-01__order-create-parity.json",
    ):
        raw = json.dumps(recorded(name)).encode()
        assert b"Signature=" in raw or b"@example.com" in raw, f"{name} has nothing to scrub"
        text = Scrubber(b"k").body(raw).decode()
        assert "Signature=" not in text and "GoogleAccessId" not in text, name
        assert "@example.com" not in text, name  # the dev stores' customer emails
        assert json.loads(text).keys() == json.loads(raw).keys()
