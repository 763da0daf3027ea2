"""The order lifecycle as values: stored facts + a fetched version + now → a decision (no database)."""

from __future__ import annotations

import json
from datetime import timedelta

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.decisions import (
    Exclude,
    Gone,
    Hold,
    LatestVersion,
    NewOrder,
    OrderDecision,
    OrderFacts,
    OrderRefresh,
    Release,
    StoredOrder,
)
from shopify_bridge.decide.orderdoc import OrderDoc
from tests.decide.orders import CONNECTED, SHOP, T0, context, order

NOW = T0 + timedelta(seconds=10)


def fetch(facts: OrderFacts, doc: OrderDoc, delay: int | None = 600, now=NOW, **kwargs) -> OrderDecision:  # type: ignore[no-untyped-def]
    return lifecycle.on_fetch(facts, context(delay), doc, origin="poll", now=now, first_connected_at=CONNECTED,
                              **kwargs)


def stored(doc: OrderDoc, status: str, number: int = 1, rule: str | None = None) -> OrderFacts:
    """The facts once `doc` is the newest stored version of an order in `status`."""
    version = lifecycle.new_version(None, doc, "poll")
    assert version is not None
    return OrderFacts(StoredOrder(status, rule), LatestVersion(number, version.content_hash))


def test_a_new_order_within_the_upsell_delay_is_stored_and_held_until_its_deadline() -> None:
    doc = order()
    decision = fetch(OrderFacts(), doc)
    assert decision.version is not None and decision.version.number == 1 and decision.version.origin == "poll"
    assert json.loads(decision.version.doc) == doc
    assert decision.new_order == NewOrder(doc["id"], "#1001", doc["processedAt"], doc["updatedAt"], "20.0", "new")
    assert decision.transition == Hold(T0 + timedelta(seconds=5 + 600))
    assert (decision.shop, decision.order_id, decision.now) == (SHOP, "5800000000001", NOW)


def test_a_new_order_without_delay_is_released_at_once_with_its_placed_order_for_every_destination() -> None:
    decision = fetch(OrderFacts(), order(), delay=None, is_new_customer=True)
    assert isinstance(decision.transition, Release) and decision.transition.built_version == 1
    placed = decision.transition.placed
    assert (placed.event_name, placed.event_id, placed.order_id, placed.refund_id) == (
        "Placed Order", "5800000000001", "5800000000001", None)
    assert placed.destinations == ("events-file", "hook") and placed.shop == SHOP
    assert json.loads(placed.payload)["properties"]["$is_new_customer"] is True


def test_an_order_first_seen_after_its_release_time_is_released_at_once() -> None:
    decision = fetch(OrderFacts(), order(), now=T0 + timedelta(seconds=700))
    assert isinstance(decision.transition, Release)


def test_an_order_processed_before_the_first_connection_is_history_and_never_released() -> None:
    decision = fetch(OrderFacts(), order(processed=T0 - timedelta(hours=1)), delay=None)
    assert decision.new_order is not None and decision.new_order.status == "history"
    assert decision.new_order.exclusion_rule is None and decision.transition is None


def test_history_still_gets_its_exclusion_so_that_its_refunds_follow_it() -> None:
    decision = fetch(OrderFacts(), order(processed=T0 - timedelta(hours=1), sourceName="pos"))
    assert decision.new_order is not None
    assert (decision.new_order.status, decision.new_order.exclusion_rule, decision.new_order.exclusion_value) == (
        "history", "channel", "pos")


def test_the_same_content_again_stores_nothing_and_decides_nothing() -> None:
    doc = order()
    for status in ("held", "released", "excluded", "history", "gone"):
        decision = fetch(stored(doc, status), doc)
        assert decision == OrderDecision(SHOP, "5800000000001", NOW)


def test_a_changed_version_of_a_held_order_is_stored_and_refreshes_the_row_but_stays_held() -> None:
    doc = order()
    edited = {**doc, "updatedAt": "2026-05-01T10:03:00Z", "name": "#1001-E", "tags": ["vip"]}
    decision = fetch(stored(doc, "held", number=3), edited)
    assert decision.version is not None and decision.version.number == 4
    assert decision.refresh == OrderRefresh("2026-05-01T10:03:00Z", "20.0", "#1001-E")
    assert decision.new_order is None and decision.transition is None


def test_an_edit_after_the_release_is_stored_but_builds_nothing_again() -> None:
    doc = order()
    edited = {**doc, "updatedAt": "2026-05-01T10:20:00Z", "currentTotalPriceSet": doc["totalPriceSet"]}
    decision = fetch(stored(doc, "released"), edited, now=T0 + timedelta(minutes=20))
    assert decision.version is not None and decision.transition is None


def test_the_release_decides_the_exclusion_on_the_version_it_sees() -> None:
    held = order()
    tagged = {**held, "updatedAt": "2026-05-01T10:08:00Z", "tags": ["exclude"]}  # tagged during the hold
    decision = lifecycle.on_release(stored(held, "held", number=2), context(), tagged,
                                    now=T0 + timedelta(minutes=11), first_connected_at=CONNECTED,
                                    is_new_customer=None)
    assert decision.version is not None and decision.version.origin == "read" and decision.version.number == 3
    assert decision.transition == Exclude("tag", "Exclude", 3)
    assert decision.refresh is None and decision.new_order is None


def test_the_release_builds_from_the_newest_stored_version_when_the_read_is_the_same() -> None:
    held = order()
    decision = lifecycle.on_release(stored(held, "held", number=2), context(), held, now=T0 + timedelta(minutes=11),
                                    first_connected_at=CONNECTED, is_new_customer=False)
    assert decision.version is None
    assert isinstance(decision.transition, Release) and decision.transition.built_version == 2


def test_excluded_orders_are_decided_at_release_with_the_first_rule_they_match() -> None:
    for overrides, rule in [({"sourceName": "pos"}, ("channel", "pos")), ({"test": True}, ("test_order", "true")),
                            ({"cancelledAt": "2026-05-01T10:00:10Z"}, ("cancelled", "2026-05-01T10:00:10Z"))]:
        decision = fetch(OrderFacts(), order(**overrides), delay=None)
        assert decision.transition == Exclude(*rule, 1)


def test_a_held_order_that_is_gone_gets_no_event() -> None:
    assert lifecycle.on_gone(context(), "5800000000001", NOW) == OrderDecision(SHOP, "5800000000001", NOW,
                                                                               transition=Gone())


def test_the_new_customer_lookup_is_asked_only_when_the_version_may_be_released_now() -> None:
    ctx, doc = context(), order()
    due = T0 + timedelta(seconds=605)
    assert lifecycle.needs_new_customer_lookup(None, ctx, doc, CONNECTED, due)
    assert lifecycle.needs_new_customer_lookup("held", ctx, doc, CONNECTED, due)
    assert not lifecycle.needs_new_customer_lookup("held", ctx, doc, CONNECTED, due - timedelta(seconds=1))
    for decided in ("released", "excluded", "history", "gone"):
        assert not lifecycle.needs_new_customer_lookup(decided, ctx, doc, CONNECTED, due)
    history = order(processed=T0 - timedelta(hours=1))
    assert not lifecycle.needs_new_customer_lookup(None, ctx, history, CONNECTED, due)


def test_without_a_delay_an_order_ahead_of_our_clock_is_released_with_its_lookup() -> None:
    """Shopify's clock may run ahead of ours: no hold means release now, and the lookup goes with it."""
    ctx, ahead = context(delay=None), order(processed=T0 + timedelta(minutes=2))
    assert lifecycle.needs_new_customer_lookup(None, ctx, ahead, CONNECTED, T0 + timedelta(seconds=10))


def test_the_backfill_history_cutoff() -> None:
    window = ["2026-04-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00"]
    start, snapshot = "2026-03-01T00:00:00+00:00", "2026-05-01T10:00:00+00:00"
    assert lifecycle.history_cutoff(False, CONNECTED, start, snapshot, window) == CONNECTED
    assert lifecycle.history_cutoff(True, CONNECTED, start, snapshot, window) == CONNECTED
    assert lifecycle.history_cutoff(False, None, start, snapshot, window) == snapshot
    assert lifecycle.history_cutoff(True, None, start, snapshot, window) == start
    assert lifecycle.history_cutoff(True, None, None, None, window) == window[0]
    assert lifecycle.history_cutoff(False, None, None, None, window) == window[1]


def test_an_order_left_new_is_acted_on_even_without_a_new_version() -> None:
    doc = order()
    decision = fetch(stored(doc, "new"), doc, delay=None)
    assert decision.version is None and isinstance(decision.transition, Release)
    assert decision.transition.built_version == 1
