"""The router: which destination takes which event, decided at creation (written in the event's transaction)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import orjson
import pytest

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.decisions import OrderFacts
from shopify_bridge.decide.kept_out import KeptOut
from shopify_bridge.decide.money import dumps_event
from shopify_bridge.deliver.payloads import PayloadError
from shopify_bridge.deliver.routing import Router, order_facts, order_facts_json, route_events
from shopify_bridge.service.ingest import ingest_order
from shopify_bridge.store import Store
from tests.decide.orders import CONNECTED, T0, context, order, refund, with_refunds
from tests.deliver.payloads import config_entries
from tests.deliver.payloads.envelopes import placed_order, received_refund

NOW = T0 + timedelta(minutes=1)
PLACED_AT = "2026-05-01T10:00:00Z"  # the envelopes' timestamp
SOON = T0 + timedelta(hours=1)


def text(envelope: dict[str, Any]) -> str:
    return dumps_event(envelope).decode()


def facts(**doc: Any) -> str:
    return order_facts_json({"processedAt": PLACED_AT, "tags": [], **doc})


def test_a_destination_without_keys_or_payload_rules_takes_everything_unread() -> None:
    router = Router([config_entries.http(), config_entries.ga4()])
    assert router.takes_everything("hook") and not router.takes_everything("ga4")
    assert router("hook", "not json at all", None, SOON) is None  # nothing to read: never parsed
    assert router("removed-from-config", "not json at all", None, SOON) is None


def test_a_filter_records_the_key_that_matched_and_its_value() -> None:
    router = Router([config_entries.http(channels=["web"]), config_entries.meta()])
    assert router("hook", text(placed_order(**{"$sales_channel_type": "pos"})), facts(), SOON) == KeptOut(
        "filtered", "channels", "kept out by its channels = ['web']")
    assert router("meta", text(received_refund()), facts(), SOON) == KeptOut(
        "filtered", "events", "kept out by its events = ['Placed Order']")  # Meta's default


def test_a_refund_is_judged_by_exclude_tags_on_the_order_tags_stored_with_it() -> None:
    router = Router([config_entries.segment(exclude_tags=["Wholesale"])])
    refund_text = text(received_refund())
    assert router("segment", refund_text, facts(tags=["wholesale"]), SOON) == KeptOut(
        "filtered", "exclude_tags", "kept out by its exclude_tags = ['Wholesale']")
    assert router("segment", refund_text, facts(tags=["vip"]), SOON) is None
    with pytest.raises(PayloadError, match="tags"):  # stored before facts were kept: cannot be judged
        router("segment", refund_text, None, SOON)


def test_payload_rules_are_skips_with_their_rule() -> None:
    router = Router([config_entries.ga4(), config_entries.meta(events=["Placed Order", "Received Refund"])])
    placed = text(placed_order())
    assert router("ga4", placed, facts(), T0 + timedelta(hours=71)) is None
    too_old = router("ga4", placed, facts(), T0 + timedelta(hours=73))
    assert too_old is not None and (too_old.state, too_old.reason) == ("skipped", "too_old_for_destination")
    unsupported = router("meta", text(received_refund()), facts(), SOON)
    assert unsupported is not None and (unsupported.state, unsupported.reason) == ("skipped", "unsupported_event")
    anonymous = placed_order(**{"$email": None, "customer_id": None})
    no_user = router("meta", text(anonymous), facts(), SOON)
    assert no_user is not None and (no_user.state, no_user.reason) == ("skipped", "no_user_data")


def test_the_stored_facts_are_the_orders_own_keys_with_only_the_client_id_attributes() -> None:
    doc = {"processedAt": PLACED_AT, "tags": ["vip"], "email": "ann@example.com",
           "customAttributes": [{"key": "gift_message", "value": "Happy birthday"},
                                {"key": "_ga", "value": "GA1.1.123.456"},
                                {"key": "google_client_id", "value": "789.1"}]}
    stored = order_facts_json(doc)
    assert orjson.loads(stored) == {"processedAt": PLACED_AT, "tags": ["vip"],
                                    "customAttributes": [{"key": "_ga", "value": "GA1.1.123.456"},
                                                         {"key": "google_client_id", "value": "789.1"}]}
    read = order_facts(stored)
    assert read is not None and read.attribute("_ga") == "GA1.1.123.456" and list(read.tags or []) == ["vip"]
    assert order_facts(None) is None


def test_every_event_of_a_decision_gets_its_facts_and_the_destinations_that_keep_it_out() -> None:
    ctx = replace(context(None), destinations=("events-file", "meta"))
    doc = with_refunds(order(customAttributes=[{"key": "_ga", "value": "GA1.1.5.6"}]), refund(7, NOW))
    decision = lifecycle.on_fetch(OrderFacts(), ctx, doc, origin="poll", now=NOW, first_connected_at=CONNECTED)
    routed = route_events(decision, doc, Router([config_entries.meta()]))
    assert isinstance(routed.transition, lifecycle.Release)
    placed, [step] = routed.transition.placed, routed.refunds
    assert step.event is not None
    assert placed.facts == step.event.facts == order_facts_json(doc)
    assert placed.kept_out == ()  # Meta takes the Placed Order (the buyer left an email)
    assert step.event.kept_out == (("meta", KeptOut("filtered", "events", "kept out by its events = "
                                                    "['Placed Order']")),)
    assert routed.refunds[0].refund_id == decision.refunds[0].refund_id  # nothing else changed


def test_an_event_the_router_cannot_judge_at_creation_stays_pending() -> None:
    def undecided(destination: str, payload: str, facts: str | None, now: object) -> KeptOut | None:
        raise PayloadError("cannot tell")

    doc = order()
    decision = lifecycle.on_fetch(OrderFacts(), context(None), doc, origin="poll", now=NOW,
                                  first_connected_at=CONNECTED)
    routed = route_events(decision, doc, undecided)
    assert isinstance(routed.transition, lifecycle.Release) and routed.transition.placed.kept_out == ()


def test_ingest_writes_the_kept_out_rows_in_the_events_own_transaction(store: Store) -> None:
    router = Router([config_entries.http(name="events-file"), config_entries.http(name="hook", channels=["pos"])])
    ctx = replace(context(None), keep_out=router)
    [seq] = ingest_order(store, ctx, order(), origin="poll", now=NOW, first_connected_at=CONNECTED)
    rows = store.conn.execute(
        "SELECT destination, state, reason, last_error, next_attempt_at FROM deliveries WHERE event_seq = ? "
        "ORDER BY destination", (seq,)).fetchall()
    assert rows == [("events-file", "pending", None, None, NOW.isoformat()),
                    ("hook", "filtered", "channels", "kept out by its channels = ['pos']", None)]
    (stored,) = store.conn.execute("SELECT facts FROM events WHERE seq = ?", (seq,)).fetchone()
    assert orjson.loads(stored)["processedAt"] == order()["processedAt"]
    assert [d.event_seq for d in store.outbox.due("hook", SOON)] == []


@pytest.fixture
def store(tmp_path: Any) -> Any:
    opened = Store.open_writer(tmp_path / "store.db")
    yield opened
    opened.close()

