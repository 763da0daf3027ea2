"""Settling against the simulator: split tenders, refunds without money, giving up, cancellations."""

from __future__ import annotations

from tests.refunds.rig import Rig, every_line, paid_order


async def released(rig: Rig, **fields: object) -> dict:  # type: ignore[type-arg]
    """A paid order, polled and released (no upsell delay)."""
    order = paid_order(rig.shop, **fields)
    await rig.cycle(advance=5)
    assert rig.store.orders.status(rig.ctx.shop, order["legacyResourceId"]) == "released"
    return order


async def test_a_split_tender_goes_out_once_with_the_settled_sum_after_the_pending_part_settles(rig: Rig) -> None:
    await rig.cycle()
    order = await released(rig)
    refund = rig.shop.refund(order["id"], every_line(order), transactions=[
        {"kind": "REFUND", "status": "SUCCESS", "amount": "12"},
        {"kind": "REFUND", "status": "PENDING", "amount": "8"},
    ])
    await rig.cycle(advance=5)
    row = rig.refund_rows()[refund["legacyResourceId"]]
    assert (row["status"], row["waits_for"], row["read_attempts"]) == ("waiting", "pending", 1)
    assert rig.events("Received Refund") == []
    for _ in range(20):                                      # a quiet shop, polled every 15 s for 5 minutes
        await rig.cycle(advance=15)
    assert rig.events("Received Refund") == []
    assert rig.client.count("BridgeReadRefunds") == 3        # the poll, then reads 1 and 2 minutes later
    rig.shop.settle_refund(refund["id"], "SUCCESS")
    for _ in range(8):
        await rig.cycle(advance=15)
    [event] = rig.events("Received Refund")
    assert event["properties"]["total_refunded"] == 20.0
    assert event["properties"]["is_full_refund"] is False    # 5 of shipping still paid
    assert rig.refund_rows()[refund["legacyResourceId"]]["status"] == "evented"


async def test_a_pending_part_that_fails_goes_out_with_what_succeeded(rig: Rig) -> None:
    await rig.cycle()
    order = await released(rig)
    refund = rig.shop.refund(order["id"], every_line(order)[:1], transactions=[
        {"kind": "REFUND", "status": "SUCCESS", "amount": "3.5"},
        {"kind": "REFUND", "status": "PENDING", "amount": "6.5"},
    ])
    await rig.cycle(advance=5)
    rig.shop.settle_refund(refund["id"], "FAILURE")
    await rig.cycle(advance=60)
    [event] = rig.events("Received Refund")
    assert event["properties"]["total_refunded"] == 3.5


async def test_refunds_that_settle_without_money_produce_no_event_and_are_read_no_more(rig: Rig) -> None:
    await rig.cycle()
    orders = [await released(rig) for _ in range(3)]
    restock_only = rig.shop.refund(orders[0]["id"], every_line(orders[0])[:1], transactions=[])
    voided = rig.shop.refund(orders[1]["id"], every_line(orders[1])[:1],
                             transactions=[{"kind": "VOID", "status": "SUCCESS", "amount": "10"}])
    failed = rig.shop.refund(orders[2]["id"], every_line(orders[2])[:1], transactions=[
        {"kind": "REFUND", "status": "FAILURE", "amount": "10"},
        {"kind": "REFUND", "status": "ERROR", "amount": "10"},
    ])
    await rig.cycle(advance=5)
    rows = rig.refund_rows()
    for refund in (restock_only, voided, failed):
        assert (rows[refund["legacyResourceId"]]["status"], rows[refund["legacyResourceId"]]["next_read_at"]) == (
            "zero_amount_refund", None)
    reads = rig.client.count("BridgeReadRefunds")
    for _ in range(10):
        await rig.cycle(advance=600)
    assert rig.client.count("BridgeReadRefunds") == reads and rig.events("Received Refund") == []


async def test_a_refund_still_pending_after_refund_settle_days_is_unsettled_and_read_no_more(rig: Rig) -> None:
    rig.ctx = rig.poller(refund_settle_days=1).ctx
    await rig.cycle()
    order = await released(rig)
    refund = rig.shop.refund(order["id"], every_line(order)[:1],
                             transactions=[{"kind": "REFUND", "status": "PENDING", "amount": "10"}])
    await rig.cycle(advance=5)
    for _ in range(26):
        await rig.cycle(advance=3600)
    row = rig.refund_rows()[refund["legacyResourceId"]]
    assert (row["status"], row["next_read_at"]) == ("refund_unsettled", None)
    reads = rig.client.count("BridgeReadRefunds")
    assert reads <= 2 + 8 + 25                               # backoff to an hour, then hourly, for one day
    rig.shop.settle_refund(refund["id"], "SUCCESS")          # too late: never sent
    for _ in range(3):
        await rig.cycle(advance=3600)
    assert rig.events("Received Refund") == []


async def test_a_refund_without_created_at_is_stamped_with_its_processed_at(rig: Rig) -> None:
    await rig.cycle()
    order = await released(rig)
    refund = rig.shop.refund(order["id"], every_line(order)[:1], created_at_null=True)
    await rig.cycle(advance=5)
    [event] = rig.events("Received Refund")
    assert refund["createdAt"] is None
    assert event["timestamp"] == refund["processedAt"].replace("Z", "+00:00")


async def test_cancelling_a_paid_order_after_its_placed_order_went_out_yields_its_received_refund(rig: Rig) -> None:
    await rig.cycle()
    order = await released(rig, lines=2)
    rig.shop.cancel(order["id"])
    await rig.cycle(advance=5)
    [event] = rig.events("Received Refund")
    props = event["properties"]
    assert props["total_refunded"] == 25.0 and props["refund_shipping"] == 5.0 and props["is_full_refund"] is True
    assert {item["restock_type"] for item in props["items"]} == {"CANCEL"} and len(props["items"]) == 2


async def test_cancelling_an_authorised_order_voids_it_without_a_received_refund(rig: Rig) -> None:
    await rig.cycle()
    order = await released(rig, financialStatus="AUTHORIZED")
    rig.shop.cancel(order["id"])
    await rig.cycle(advance=5)
    [row] = rig.refund_rows().values()
    assert row["status"] == "zero_amount_refund" and rig.events("Received Refund") == []


async def test_an_order_cancelled_before_its_release_is_excluded_with_its_refund(rig: Rig) -> None:
    await rig.cycle(upsell_delay_seconds=600)
    order = paid_order(rig.shop)
    await rig.cycle(advance=5, upsell_delay_seconds=600)
    rig.shop.cancel(order["id"])
    await rig.cycle(advance=600, upsell_delay_seconds=600)
    assert rig.events() == []
    [row] = rig.refund_rows().values()
    assert row["status"] == "excluded"


async def test_two_refunds_in_one_poll_only_the_last_is_the_full_refund(rig: Rig) -> None:
    await rig.cycle()
    order = await released(rig, lines=2)
    lines = every_line(order)
    first = rig.shop.refund(order["id"], lines[:1])
    rig.clock.advance(1)
    second = rig.shop.refund(order["id"], lines[1:], shipping=True)
    await rig.cycle(advance=5)
    full = {e["properties"]["id"]: e["properties"]["is_full_refund"] for e in rig.events("Received Refund")}
    assert full == {first["legacyResourceId"]: False, second["legacyResourceId"]: True}


async def test_explain_shows_what_a_waiting_refund_waits_for_since_when_and_its_next_read(rig: Rig) -> None:
    from rich.console import Console

    from shopify_bridge.cli.json_output import ExplainJson, dump
    from shopify_bridge.cli.output import print_explanation
    from shopify_bridge.service.explain import as_dict, explain

    await rig.cycle()
    order = await released(rig)
    refund = rig.shop.refund(order["id"], every_line(order)[:1],
                             transactions=[{"kind": "REFUND", "status": "PENDING", "amount": "10"}])
    await rig.cycle(advance=5)
    exp = explain(rig.store, order["name"])
    [state] = as_dict(exp)["refunds"]
    assert state == {"refund_id": refund["legacyResourceId"], "timestamp": refund["createdAt"], "status": "waiting",
                     "waits_for": "pending", "waiting_since": "2026-07-01T12:00:10+00:00", "read_attempts": 1,
                     "next_read_at": "2026-07-01T12:01:10+00:00"}
    # explain --json: the document's model takes the settling state as documented keys
    assert dump(ExplainJson.model_validate({**as_dict(exp), "destination_payloads": {}}))["refunds"] == [state]
    console = Console(record=True, width=200)
    print_explanation(console, exp, None)
    assert (f"refund {refund['legacyResourceId']} at {refund['createdAt']}: waiting (waits for a pending REFUND "
            "transaction to settle · since 2026-07-01T12:00:10+00:00 · read 1× · next read "
            "2026-07-01T12:01:10+00:00)") in console.export_text()
