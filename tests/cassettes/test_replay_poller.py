"""The poller replayed from cassettes into a temp store: pages, refund details, holds and the re-read."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import sqlite_utils

from shopify_bridge.decide.windows import SETTLE_SECONDS
from shopify_bridge.timeutil import iso, parse_ts
from tests.cassettes import scenarios
from tests.cassettes.replay import cassette_path, recorded_answers, replaying
from tests.cassettes.scenarios import NEW_ORDERS, SHOP, T0, UPSELL_DELAY, Harness

FIRST_ORDER_ID = 5801234500001  # the simulator's first Order id: the recordings start from a fresh shop


def events(harness: Harness) -> list[dict[str, Any]]:
    db = sqlite_utils.Database(harness.database)
    try:
        return [json.loads(row[0]) for row in db.conn.execute("SELECT payload FROM events ORDER BY seq")]
    finally:
        db.conn.close()


def rows(harness: Harness, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite_utils.Database(harness.database)
    try:
        return [tuple(row) for row in db.conn.execute(sql)]
    finally:
        db.conn.close()


async def test_a_window_is_listed_then_read_in_full_by_id_and_each_order_creates_its_events(
    harness: Harness,
) -> None:
    path = cassette_path("poll_pages")
    with replaying(path) as cassette:
        await scenarios.poll_pages(harness)
        assert cassette.all_played  # the same requests, in the same order, as when recorded
    listed = [answer["data"]["orders"] for answer in recorded_answers(path, "BridgeListOrders")]
    assert [len(page["nodes"]) for page in listed] == [0, NEW_ORDERS]  # the first window, then the orders
    assert all(set(node) == {"id", "updatedAt"} for node in listed[1]["nodes"])
    [read] = [answer["data"]["nodes"] for answer in recorded_answers(path, "BridgeReadOrders")]
    assert [node["id"] for node in read] == [node["id"] for node in listed[1]["nodes"]]

    expected_ids = [str(FIRST_ORDER_ID + n) for n in range(NEW_ORDERS)]
    stored = rows(harness, "SELECT order_id, status FROM orders ORDER BY order_id")
    assert stored == [(order_id, "released") for order_id in expected_ids]
    # the cursor is the second window's end: SETTLE_SECONDS before that poll
    settled = T0 + timedelta(seconds=scenarios.SEARCH_LAG + 3 - SETTLE_SECONDS)
    assert rows(harness, "SELECT cursor FROM sources") == [(settled.isoformat(),)]

    made = events(harness)
    placed = [e for e in made if e["event_name"] == "Placed Order"]
    [refund] = [e for e in made if e["event_name"] == "Received Refund"]
    assert sorted(e["event_id"] for e in placed) == expected_ids
    assert all(e["properties"]["store"] == SHOP for e in made)
    assert refund["event_id"].startswith(f"{refund['properties']['order_id']}-refund-")
    assert refund["properties"]["items"], "the refund's details were read (BridgeReadRefund) and mapped"


async def test_replayed_events_carry_only_placeholder_customer_data(harness: Harness) -> None:
    with replaying(cassette_path("poll_pages")):
        await scenarios.poll_pages(harness)
    emails = [
        e["profile_properties"]["$email"] for e in events(harness) if "$email" in e["profile_properties"]
    ]
    assert emails and all(email.endswith("@example.invalid") for email in emails)
    assert all(
        alias.endswith("@example.invalid")
        for e in events(harness)
        for alias in e["aliases"]
        if alias.startswith("urn:email:")
    )


async def test_a_held_order_is_re_read_at_release_with_its_upsell_line(harness: Harness) -> None:
    path = cassette_path("hold_release")
    with replaying(path) as cassette:
        await scenarios.hold_release(harness)
        assert cassette.all_played
    # read in full when first listed, and by id again at release; nothing more (the store had the rest)
    [first_seen], [reread] = [a["data"]["nodes"] for a in recorded_answers(path, "BridgeReadOrders")]
    lines_before = len(first_seen["lineItems"]["nodes"])
    lines_after = len(reread["lineItems"]["nodes"])
    assert lines_after == lines_before + 1

    [(status, release_at, released_at)] = rows(harness, "SELECT status, release_at, released_at FROM orders")
    assert status == "released"
    assert release_at == iso(parse_ts(reread["processedAt"]) + timedelta(seconds=UPSELL_DELAY))
    assert released_at > release_at  # held until due, not released when first seen
    [placed] = events(harness)
    assert placed["event_id"] == str(FIRST_ORDER_ID)
    assert sum(item["quantity"] for item in placed["properties"]["items"]) == sum(
        line["currentQuantity"] for line in reread["lineItems"]["nodes"]
    )
    assert len(placed["properties"]["items"]) == lines_after
