"""The rules of `shopify_bridge.shopify.cassette`, one by one: matching, URLs, record mode, scrubbing, filters."""

from __future__ import annotations

import json

import pytest
from vcr.request import Request

from shopify_bridge.shopify.cassette import (
    SIMULATOR_ORIGIN,
    LiteralYaml,
    canonical_url,
    graphql_body_matcher,
    graphql_key,
    record_mode_from_env,
    request_filter,
    response_filter,
)
from shopify_bridge.shopify.cassette_scrub import Scrubber
from shopify_bridge.shopify.queries import ORDERS_COUNT, SHOP_INFO

GRAPHQL = "https://demo.myshopify.com/admin/api/2026-07/graphql.json"
SIGNED = (
    "https://storage.googleapis.com/shopify-tiers-assets-prod-us-east1/bulk-op.jsonl"
    "?GoogleAccessId=assets-us-prod%40shopify-tiers.iam.gserviceaccount.com&Expires=1777000000&Signature=abc%3D"
)


def post(body: object, url: str = GRAPHQL, **headers: str) -> Request:
    raw = body if isinstance(body, dict) else json.dumps(body).encode()
    return Request("POST", url, raw, {"Content-Type": "application/json", **headers})


# -- matching ---------------------------------------------------------------------------------------
def test_queries_match_whatever_their_whitespace_and_variable_order() -> None:
    compact = " ".join(ORDERS_COUNT.split())
    a = post({"query": ORDERS_COUNT, "variables": {"query": "test:false", "limit": None}})
    b = post({"variables": {"limit": None, "query": "test:false"}, "query": compact})
    graphql_body_matcher(a, b)
    assert graphql_key(a.body) == graphql_key(b.body)


def test_different_variables_or_queries_do_not_match() -> None:
    base = post({"query": ORDERS_COUNT, "variables": {"query": "test:false"}})
    with pytest.raises(AssertionError):
        graphql_body_matcher(base, post({"query": ORDERS_COUNT, "variables": {"query": "test:true"}}))
    with pytest.raises(AssertionError):
        graphql_body_matcher(base, post({"query": SHOP_INFO, "variables": {"query": "test:false"}}))


def test_missing_variables_equal_empty_ones_and_other_bodies_compare_as_bytes() -> None:
    graphql_body_matcher(post({"query": SHOP_INFO}), post({"query": SHOP_INFO, "variables": {}}))
    graphql_body_matcher(Request("GET", SIGNED, None, {}), Request("GET", SIGNED, None, {}))
    with pytest.raises(AssertionError):
        graphql_body_matcher(Request("POST", GRAPHQL, b"a", {}), Request("POST", GRAPHQL, b"b", {}))


# -- URLs -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["http://127.0.0.1:41234", "http://localhost:8787", "http://[::1]:9"])
def test_loopback_origins_become_the_simulator_origin(origin: str) -> None:
    assert (
        canonical_url(f"{origin}/admin/api/2026-07/graphql.json")
        == f"{SIMULATOR_ORIGIN}/admin/api/2026-07/graphql.json"
    )


def test_real_shops_keep_their_origin_and_signed_urls_lose_their_query() -> None:
    assert canonical_url(GRAPHQL) == GRAPHQL
    assert canonical_url(SIGNED) == SIGNED.split("?", 1)[0]
    assert canonical_url("https://cdn.shopify.com/x.jpg?v=1") == "https://cdn.shopify.com/x.jpg?v=1"


# -- record mode ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({}, "none"),
        ({"SHOPIFY_BRIDGE_RECORD": "0"}, "none"),
        ({"SHOPIFY_BRIDGE_RECORD": "1"}, "once"),
        ({"SHOPIFY_BRIDGE_RECORD": "new_episodes"}, "new_episodes"),
        ({"SHOPIFY_BRIDGE_RECORD": "1", "CI": "true"}, "none"),
    ],
)
def test_record_mode_comes_from_the_environment_and_ci_never_records(env: dict[str, str], mode: str) -> None:
    assert record_mode_from_env(env) == mode


# -- scrubbing --------------------------------------------------------------------------------------
def test_placeholders_are_stable_idempotent_and_keyed() -> None:
    one, other = Scrubber(b"k1"), Scrubber(b"k2")
    email = one.email(" Ann@Example.com")
    assert email.endswith("@example.invalid") and email == one.email("ann@example.com")
    assert one.email(email) == email and one.phone(one.phone("+14165550123")) == one.phone("+14165550123")
    assert one.text("First", one.text("First", "Ann")) == one.text("First", "Ann")
    assert other.email("ann@example.com") != email  # nothing to look up without the key


def test_customer_data_is_replaced_wherever_it_sits_and_the_rest_is_kept() -> None:
    order = {
        "name": "#1001",
        "email": "ann@example.com",
        "note": "call ann@example.com",
        "customer": {
            "firstName": "Ann",
            "lastName": "Lee",
            "defaultPhoneNumber": {"phoneNumber": "+14165550123"},
        },
        "billingAddress": {
            "firstName": "Ann",
            "address1": "1 King St",
            "zip": "M5V 1A1",
            "city": "Toronto",
            "name": "Ann Lee",
        },
        "lineItems": [{"name": "Snowboard - Blue", "sku": "SB-1"}],
        "url": SIGNED,
    }
    scrubbed = Scrubber(b"k").json(order)
    text = json.dumps(scrubbed)
    for value in ("ann@example.com", "Ann", "Lee", "+14165550123", "1 King St", "M5V 1A1", "GoogleAccessId"):
        assert value not in text
    assert scrubbed["name"] == "#1001" and scrubbed["lineItems"] == order["lineItems"]
    assert scrubbed["billingAddress"]["city"] == "Toronto"
    assert (
        scrubbed["customer"]["firstName"] == scrubbed["billingAddress"]["firstName"]
    )  # one person, one name
    assert scrubbed["note"] == f"call {scrubbed['email']}"


def test_cart_attribute_values_are_replaced_and_their_keys_kept() -> None:
    order = {"customAttributes": [{"key": "_ga", "value": "GA1.1.1234567890.1714500000"},
                                  {"key": "gift_message", "value": "Happy birthday Ann"},
                                  {"key": "empty", "value": None}]}
    scrubbed = Scrubber(b"k").json(order)
    assert [a["key"] for a in scrubbed["customAttributes"]] == ["_ga", "gift_message", "empty"]
    assert "1234567890" not in json.dumps(scrubbed) and "Ann" not in json.dumps(scrubbed)
    assert scrubbed["customAttributes"][0]["value"].startswith("Attribute-")
    assert scrubbed["customAttributes"][2]["value"] is None
    assert Scrubber(b"k").json(scrubbed) == scrubbed  # idempotent: vcrpy filters again on load


def test_bulk_jsonl_bodies_are_scrubbed_line_by_line() -> None:
    raw = b'{"id":"gid:\\/\\/shopify\\/Order\\/1","email":"ann@example.com"}\n{"id":"x","__parentId":"y"}\n'
    lines = Scrubber(b"k").body(raw).decode().split("\n")
    assert json.loads(lines[0])["id"] == "gid://shopify/Order/1"
    assert "ann@example.com" not in lines[0] and json.loads(lines[1]) == {"id": "x", "__parentId": "y"}
    assert lines[2] == ""


def test_secret_shapes_in_bodies_are_masked_like_in_logs_and_idempotently() -> None:
    scrubber = Scrubber(b"k")
    answer = {"errors": [{"message": "Invalid API key or access token (unrecognized login or wrong password)"}],
              "echo": "X-Shopify-Access-Token: shpat_0123456789abcdef0123456789abcdef", "ok": "shop ready"}
    once = scrubber.json(answer)
    assert once["echo"] == "X-Shopify-Access-Token: ***"
    assert once["errors"] == answer["errors"] and once["ok"] == "shop ready"  # prose is kept
    assert scrubber.json(once) == once
    text = scrubber.body(b"not json: token shpat_0123456789abcdef")
    assert text == b"not json: token ***"


# -- the vcrpy hooks --------------------------------------------------------------------------------
def test_request_filter_keeps_no_secret_header_and_scrubs_emails_in_variables() -> None:
    request = post(
        {"query": ORDERS_COUNT, "variables": {"query": "email:'ann@example.com' test:false"}},
        url="http://127.0.0.1:5555/admin/api/2026-07/graphql.json",
        **{"X-Shopify-Access-Token": "shpat_secret", "Cookie": "a=b", "User-Agent": "shopify-bridge"},
    )
    filtered = request_filter(Scrubber(b"k"))(request)
    assert dict(filtered.headers) == {"Content-Type": "application/json", "User-Agent": "shopify-bridge"}
    assert filtered.uri.startswith(SIMULATOR_ORIGIN)
    variables = json.loads(filtered.body)["variables"]
    assert variables["query"].startswith("email:'customer-") and variables["query"].endswith("' test:false")


def test_deliveries_to_destinations_are_never_recorded() -> None:
    webhook = post(
        {"event_name": "Placed Order"}, url="https://hooks.example/webhook", **{"X-Webhook-Token": "t"}
    )
    assert request_filter(Scrubber(b"k"))(webhook) is None
    download = Request("GET", SIGNED, None, {})
    assert request_filter(Scrubber(b"k"))(download).uri == SIGNED.split("?", 1)[0]


def test_response_filter_keeps_only_known_headers_and_scrubs_the_body() -> None:
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {
            "Content-Type": ["application/json"],
            "Set-Cookie": ["s=1"],
            "X-Shopify-API-Version": ["2026-07"],
        },
        "body": {"string": b'{"data":{"shop":{"email":"owner@shop.example"}}}'},
    }
    filtered = response_filter(Scrubber(b"k"))(response)
    assert set(filtered["headers"]) == {"Content-Type", "X-Shopify-API-Version"}
    assert b"owner@shop.example" not in filtered["body"]["string"]


def test_cassette_yaml_round_trips_with_literal_blocks() -> None:
    data = {"interactions": [{"request": {"body": '{\n "a": 1\n}'}}], "version": 1}
    text = LiteralYaml.serialize(data)
    assert "body: |-" in text and LiteralYaml.deserialize(text) == data
