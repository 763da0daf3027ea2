"""Settling as values: what a waiting refund waits for, its re-read backoff, giving up, the full refund."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.decisions import LatestVersion, OrderFacts, StoredOrder
from shopify_bridge.decide.mapping_refund import full_refund_id
from shopify_bridge.decide.refunds import settle_refunds
from shopify_bridge.decide.settling import RecordedRefund, Wait, reread_delay, waiting
from shopify_bridge.timeutil import iso
from tests.decide.orders import CONNECTED, T0, context, order, refund, with_refunds
from tests.fakes import money

LATER = T0 + timedelta(minutes=30)


def settle(doc: dict[str, Any], now=LATER, status: str = "released", known=None, **options: Any):  # type: ignore[no-untyped-def]
    ctx = replace(context(), **options.pop("ctx", {}))
    return settle_refunds(ctx, doc, order_status=status, exclusion_rule=None, known=known or {},
                          first_connected_at=CONNECTED, now=now, **options)


def test_re_reads_back_off_from_one_minute_doubling_to_one_hour() -> None:
    assert [reread_delay(n) for n in range(9)] == [timedelta(minutes=m) for m in (0, 1, 2, 4, 8, 16, 32, 60, 60)]
    assert reread_delay(500) == timedelta(hours=1)


def test_a_pending_refund_is_read_again_later_and_later_counting_from_when_it_began_to_wait() -> None:
    first = waiting(None, "pending", LATER, read=True)
    assert first == Wait("pending", iso(LATER), 1, LATER + timedelta(minutes=1))
    recorded = RecordedRefund("waiting", first.waits_for, first.since, first.attempts)
    second = waiting(recorded, "pending", LATER + timedelta(minutes=1), read=True)
    assert second == Wait("pending", iso(LATER), 2, LATER + timedelta(minutes=3))


def test_a_refund_never_read_is_due_at_once_and_its_clock_starts_after_the_placed_order() -> None:
    held = waiting(None, "placed_order", T0, read=True)
    assert (held.next_read_at, held.attempts) == (None, 0)              # follows its order, not read alone
    after = waiting(RecordedRefund("waiting", "placed_order", iso(T0)), "details", LATER, read=False)
    assert after == Wait("details", iso(LATER), 0, LATER)                 # from a bulk result: read at once
    still_held = waiting(RecordedRefund("waiting", "placed_order", iso(T0)), "placed_order", LATER, read=True)
    assert still_held.since == iso(T0)


def test_a_split_tender_is_evented_once_when_its_pending_part_settles() -> None:
    split = refund(5, LATER)
    split["transactions"] = [*split["transactions"],
                             {**split["transactions"][0], "id": "gid://shopify/OrderTransaction/6",
                              "status": "PENDING", "amountSet": money("4.5")}]
    [step] = settle(with_refunds(order(), split))
    assert (step.status, step.event) == ("waiting", None)
    assert step.wait is not None and (step.wait.waits_for, step.wait.attempts) == ("pending", 1)
    split["transactions"][1]["status"] = "SUCCESS"
    known = {"5": RecordedRefund("waiting", "pending", iso(LATER), 1)}
    [done] = settle(with_refunds(order(), split), now=LATER + timedelta(minutes=1), known=known)
    assert done.status == "evented" and done.status_changed and done.wait is None and done.event is not None
    assert json.loads(done.event.payload)["properties"]["total_refunded"] == 14.5


def test_a_refund_still_pending_after_refund_settle_days_is_unsettled() -> None:
    doc = with_refunds(order(), refund(5, LATER, status="PENDING"))
    since = iso(LATER)
    known = {"5": RecordedRefund("waiting", "pending", since, 40)}
    [almost] = settle(doc, now=LATER + timedelta(days=2, hours=23), known=known, ctx={"refund_settle_days": 3})
    assert almost.status == "waiting"
    [late] = settle(doc, now=LATER + timedelta(days=3), known=known, ctx={"refund_settle_days": 3})
    assert (late.status, late.status_changed, late.wait, late.event) == ("refund_unsettled", True, None, None)


def test_a_bulk_version_schedules_a_read_of_refunds_it_has_no_details_of() -> None:
    [step] = settle(with_refunds(order(), refund(5, LATER, status=None)), details_read=False)
    assert step.status == "waiting" and step.wait == Wait("details", iso(LATER), 0, LATER)


def fully_refunded(*refunds: dict[str, Any]) -> dict[str, Any]:
    return {**with_refunds(order(), *refunds), "displayFinancialStatus": "REFUNDED"}


def test_only_the_refund_that_brings_the_order_to_fully_refunded_says_so() -> None:
    first, last = refund(8, LATER), refund(9, LATER + timedelta(minutes=5))
    steps = settle(fully_refunded(last, first))
    full = {s.refund_id: json.loads(s.event.payload)["properties"]["is_full_refund"] for s in steps if s.event}
    assert full == {"8": False, "9": True}
    assert full_refund_id(with_refunds(order(), first, last)) is None        # not fully refunded: none is


def test_the_full_refund_is_the_last_by_created_at_then_id_among_those_giving_money_back() -> None:
    same_time = [refund(12, LATER), refund(11, LATER)]
    assert full_refund_id(fully_refunded(*same_time)) == "12"
    restock_only = {**refund(13, LATER + timedelta(hours=1)), "transactions": []}
    assert full_refund_id(fully_refunded(*same_time, restock_only)) == "12"
    no_created_at = {**refund(14, LATER + timedelta(hours=2)), "createdAt": None}    # processedAt then
    assert full_refund_id(fully_refunded(*same_time, no_created_at)) == "14"


def test_a_re_read_moves_only_the_refunds_that_were_read() -> None:
    doc = with_refunds(order(), refund(20, LATER), refund(21, LATER, status="PENDING"))
    facts = OrderFacts(StoredOrder("released"), LatestVersion(1, "x"),
                       {"20": RecordedRefund("waiting", "pending", iso(LATER), 1),
                        "21": RecordedRefund("waiting", "pending", iso(LATER), 3)})
    decision = lifecycle.on_refunds_read(facts, context(None), doc, now=LATER + timedelta(minutes=2),
                                         first_connected_at=CONNECTED, read={"20"})
    assert [(s.refund_id, s.status) for s in decision.refunds] == [("20", "evented")]
    assert decision.version is None and decision.transition is None
