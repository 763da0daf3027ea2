"""Refund line items, transactions and shipping lines, and order line items, are read to their last page."""

from __future__ import annotations

from typing import Any

from shopify_bridge.shopify import queries, refund_details
from tests.refunds.rig import Rig, every_line, paid_order


async def test_a_refund_of_300_lines_gives_300_items_and_an_order_of_300_lines_300_items(rig: Rig) -> None:
    await rig.cycle()                                                  # first connection
    order = paid_order(rig.shop, lines=300)
    await rig.cycle(advance=5)
    [placed] = rig.events("Placed Order")
    assert len(placed["properties"]["items"]) == 300
    rig.shop.refund(order["id"], every_line(order))
    await rig.cycle(advance=5)
    [refund] = rig.events("Received Refund")
    items = refund["properties"]["items"]
    assert len(items) == 300 and {item["name"] for item in items} == {f"Board {n}" for n in range(300)}
    assert refund["properties"]["total_refunded"] == 3000.0
    assert rig.client.count("BridgeRefundLineItems") == 1              # 50 on the first page, 250 after
    assert rig.client.count("BridgeOrderLineItems") >= 3               # 10 first, then pages of 100


async def test_a_refund_paid_back_in_25_transactions_counts_every_one(rig: Rig) -> None:
    await rig.cycle()
    order = paid_order(rig.shop, lines=3)
    await rig.cycle(advance=5)
    parts = [{"kind": "REFUND", "status": "SUCCESS", "amount": "1.2"} for _ in range(25)]
    rig.shop.refund(order["id"], every_line(order)[:1], transactions=parts)
    await rig.cycle(advance=5)
    [refund] = rig.events("Received Refund")
    assert refund["properties"]["total_refunded"] == 30.0
    assert rig.client.count("BridgeRefundTransactions") == 1


async def test_the_refunds_of_a_page_of_orders_are_read_in_one_request(rig: Rig) -> None:
    await rig.cycle()
    orders = [paid_order(rig.shop) for _ in range(4)]
    await rig.cycle(advance=5)
    for order in orders:
        rig.shop.refund(order["id"], every_line(order)[:1])
    await rig.cycle(advance=5)
    assert len(rig.events("Received Refund")) == 4
    assert rig.client.count("BridgeReadRefunds") == 1


class PagedShippingLines:
    """A refund whose 12 shipping lines come 10 and 2, and whose first read leaves the other lists whole."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        variables = variables or {}
        self.asked.append((document.split("(", 1)[0].split()[-1], variables))
        lines = [{"id": f"gid://shopify/RefundShippingLine/{n}"} for n in range(12)]
        if document is queries.READ_REFUNDS:
            empty = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}
            refund = {"id": "gid://shopify/Refund/1", "refundLineItems": empty, "transactions": empty,
                      "refundShippingLines": {"pageInfo": {"hasNextPage": True, "endCursor": "c10"},
                                              "nodes": lines[:10]}}
            return {"nodes": [refund if gid == refund["id"] else None for gid in variables["ids"]]}
        assert document is queries.REFUND_SHIPPING_NEXT and variables["after"] == "c10"
        return {"node": {"id": variables["id"], "refundShippingLines": {
            "pageInfo": {"hasNextPage": False, "endCursor": "c12"}, "nodes": lines[10:]}}}


async def test_refund_shipping_lines_are_followed_to_the_last_page_and_missing_refunds_left_out() -> None:
    shopify = PagedShippingLines()
    found = await refund_details.read(shopify, ["gid://shopify/Refund/1", "gid://shopify/Refund/2"])
    assert list(found) == ["gid://shopify/Refund/1"]                   # a refund Shopify answers null is not read
    assert len(found["gid://shopify/Refund/1"]["refundShippingLines"]) == 12
    assert [name for name, _ in shopify.asked] == ["BridgeReadRefunds", "BridgeRefundShippingLines"]


async def test_many_refunds_are_read_in_batches_of_at_most_250() -> None:
    shopify = PagedShippingLines()
    await refund_details.read(shopify, [f"gid://shopify/Refund/{n}" for n in range(2, 600)])
    sizes = [len(variables["ids"]) for name, variables in shopify.asked if name == "BridgeReadRefunds"]
    assert sizes == [250, 250, 98]
