"""Refund rules as values: what each refund of a version becomes, given its order and what is recorded."""

from __future__ import annotations

import json
from datetime import timedelta

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.decisions import LatestVersion, OrderFacts, RefundStep, Release, StoredOrder
from shopify_bridge.decide.refunds import refund_ids, settle_refunds
from shopify_bridge.decide.settling import RecordedRefund
from tests.decide.orders import CONNECTED, T0, context, order, refund, with_refunds

LATER = T0 + timedelta(minutes=30)
ORDER_ID = "5800000000001"


def settle(doc, status: str = "released", rule: str | None = None, known=None) -> tuple[RefundStep, ...]:  # type: ignore[no-untyped-def]
    recorded = {refund_id: RecordedRefund(state) for refund_id, state in (known or {}).items()}
    return settle_refunds(context(), doc, order_status=status, exclusion_rule=rule, known=recorded,
                          first_connected_at=CONNECTED, now=LATER)


def test_a_settled_refund_of_a_released_order_is_evented_once_with_its_received_refund() -> None:
    doc = with_refunds(order(), refund(77, LATER))
    [step] = settle(doc)
    assert (step.refund_id, step.gid, step.timestamp) == ("77", "gid://shopify/Refund/77", "2026-05-01T10:30:00Z")
    assert step.first_seen and step.status == "evented" and not step.status_changed
    assert step.event is not None
    assert (step.event.event_name, step.event.event_id, step.event.order_id, step.event.refund_id) == (
        "Received Refund", f"{ORDER_ID}-refund-77", ORDER_ID, "77")
    assert json.loads(step.event.payload)["properties"]["total_refunded"] == 10.0
    assert step.detail is not None and json.loads(step.detail)["transactions"][0]["status"] == "SUCCESS"
    [again] = settle(doc, known={"77": "evented"})                 # the next poll: nothing more
    assert again.status == "evented" and not again.first_seen and not again.status_changed and again.event is None


def test_a_refund_made_before_the_first_connection_is_history() -> None:
    [step] = settle(with_refunds(order(), refund(1, T0 - timedelta(hours=2))))
    assert (step.status, step.event) == ("history", None)


def test_refunds_of_excluded_orders_and_of_excluded_history_are_excluded() -> None:
    doc = with_refunds(order(), refund(2, LATER))
    assert settle(doc, status="excluded", rule="channel")[0].status == "excluded"
    assert settle(doc, status="history", rule="channel")[0].status == "excluded"
    [waiting] = settle(doc, status="excluded", rule="tag", known={"2": "waiting"})   # excluded after it was seen
    assert (waiting.status, waiting.status_changed, waiting.event) == ("excluded", True, None)


def test_a_refund_of_forwardable_history_goes_on_its_own() -> None:
    [step] = settle(with_refunds(order(), refund(3, LATER)), status="history")
    assert step.status == "evented" and step.event is not None


def test_a_refund_waits_for_the_placed_order_while_its_order_is_new_or_held() -> None:
    doc = with_refunds(order(), refund(4, LATER))
    for status in ("new", "held"):
        [step] = settle(doc, status=status)
        assert (step.status, step.event) == ("waiting", None)


def test_a_refund_waits_for_its_details_and_for_a_successful_refund_transaction() -> None:
    [unread] = settle(with_refunds(order(), refund(5, LATER, status=None)))
    assert (unread.status, unread.detail, unread.event) == ("waiting", None, None)
    [pending] = settle(with_refunds(order(), refund(5, LATER, status="PENDING")), known={"5": "waiting"})
    assert pending.status == "waiting" and not pending.status_changed and pending.detail is not None
    [success] = settle(with_refunds(order(), refund(5, LATER)), known={"5": "waiting"})
    assert success.status == "evented" and success.status_changed and success.event is not None


def test_a_refund_of_zero_money_is_recorded_without_an_event() -> None:
    [step] = settle(with_refunds(order(), refund(6, LATER, amount="0.0")))
    assert (step.status, step.event) == ("zero_amount_refund", None)


def test_a_refund_listed_twice_is_decided_once() -> None:
    twice = refund(7, LATER)
    first, second = settle(with_refunds(order(), twice, twice))
    assert first.first_seen and first.event is not None
    assert not second.first_seen and second.status == "evented" and second.event is None


def test_a_refund_made_during_the_hold_follows_the_placed_order_built_at_release() -> None:
    doc = with_refunds(order(), refund(8, LATER))
    held = lifecycle.new_version(None, order(), "poll")
    assert held is not None
    facts = OrderFacts(StoredOrder("held"), LatestVersion(1, held.content_hash), {"8": RecordedRefund("waiting")})
    decision = lifecycle.on_release(facts, context(), doc, now=LATER, first_connected_at=CONNECTED,
                                    is_new_customer=None)
    assert isinstance(decision.transition, Release)
    [step] = decision.refunds
    assert step.status == "evented" and step.status_changed and step.event is not None


def test_the_refund_ids_a_decision_needs_the_status_of() -> None:
    assert refund_ids(with_refunds(order(), refund(9, LATER), refund(10, LATER, status=None))) == ["9", "10"]
    assert refund_ids(order()) == []
