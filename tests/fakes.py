"""A tiny in-memory stand-in for Shopify's GraphQL answers, for unit tests of the poller.

It answers by operation name with documents shaped like the bridge's queries. The simulator
(`shopify_bridge.simulator`) is the faithful stand-in; this fake exists so that the poller's
decisions can be tested without HTTP, in microseconds, on a fake clock.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shopify_bridge.shopify.client import operation_name
from tests.fake_clock import FakeClock  # re-exported: the poller tests take both from here


def money(amount: str, currency: str = "CAD") -> dict[str, Any]:
    return {
        "shopMoney": {"amount": amount, "currencyCode": currency},
        "presentmentMoney": {"amount": amount, "currencyCode": currency},
    }


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_order(number: int, processed: datetime, **overrides: Any) -> dict[str, Any]:
    oid = 5800000000000 + number
    order = {
        "id": f"gid://shopify/Order/{oid}",
        "legacyResourceId": str(oid),
        "name": f"#{1000 + number}",
        "createdAt": ts(processed),
        "updatedAt": ts(processed),
        "processedAt": ts(processed),
        "cancelledAt": None,
        "cancelReason": None,
        "test": False,
        "sourceName": "web",
        "tags": [],
        "email": f"buyer{number}@example.com",
        "phone": None,
        "currencyCode": "CAD",
        "presentmentCurrencyCode": "CAD",
        "displayFinancialStatus": "PAID",
        "discountCodes": [],
        "edited": False,
        "taxesIncluded": False,
        "checkoutToken": f"chk{number}",
        "cartToken": None,
        "customAttributes": [],
        "totalPriceSet": money("20.0"),
        "currentTotalPriceSet": money("20.0"),
        "totalTaxSet": money("0.0"),
        "currentTotalTaxSet": money("0.0"),
        "totalDiscountsSet": money("0.0"),
        "currentTotalDiscountsSet": money("0.0"),
        "totalShippingPriceSet": money("0.0"),
        "totalRefundedSet": money("0.0"),
        "customer": None,
        "billingAddress": None,
        "shippingAddress": None,
        "refunds": [],
        "lineItems": [
            {
                "id": f"gid://shopify/LineItem/{oid}1",
                "title": "Snowboard",
                "name": "Snowboard",
                "variantTitle": None,
                "sku": "SB-1",
                "vendor": "Acme",
                "quantity": 2,
                "currentQuantity": 2,
                "originalUnitPriceSet": money("10.0"),
                "product": {"id": "gid://shopify/Product/1", "legacyResourceId": "1"},
                "variant": {"id": "gid://shopify/ProductVariant/2", "legacyResourceId": "2"},
                "image": None,
            },
        ],
    }
    order.update(overrides)
    return order


@dataclass
class FakeShopify:
    clock: FakeClock
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_details: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    page_size: int = 10
    customer_orders_before: int = 0
    searchable_at: dict[str, datetime] = field(default_factory=dict)
    """Per order gid: when the search index shows it (a lagging index); listed at once when absent."""

    def put(self, order: dict[str, Any]) -> dict[str, Any]:
        order["updatedAt"] = ts(self.clock())
        self.orders[order["id"]] = order
        return order

    def edit(self, gid: str, **changes: Any) -> dict[str, Any]:
        order = self.orders[gid]
        order.update(changes)
        return self.put(order)

    def _node(self, order: dict[str, Any]) -> dict[str, Any]:
        node = copy.deepcopy(order)
        node["lineItems"] = {
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "nodes": node["lineItems"],
        }
        return node

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        variables = variables or {}
        name = operation_name(document)
        self.calls.append((name, variables))
        if name == "BridgeShopInfo":
            return {
                "shop": {
                    "id": "gid://shopify/Shop/1",
                    "name": "Demo",
                    "myshopifyDomain": "demo.myshopify.com",
                    "currencyCode": "CAD",
                    "ianaTimezone": "America/Toronto",
                },
                "currentAppInstallation": {"accessScopes": [{"handle": "read_orders"}]},
            }
        if name == "BridgeListOrders":
            bounds = variables["query"].split("'")
            since, until = bounds[1], bounds[3]
            now = self.clock()
            matching = sorted(
                (
                    o for o in self.orders.values()
                    if since <= o["updatedAt"] <= until and self.searchable_at.get(o["id"], now) <= now
                ),
                key=lambda o: (o["updatedAt"], o["id"]),
            )
            start = int(variables.get("after") or 0)
            page = matching[start : start + self.page_size]
            more = start + self.page_size < len(matching)
            return {
                "orders": {
                    "pageInfo": {"hasNextPage": more, "endCursor": str(start + self.page_size)},
                    "nodes": [{"id": o["id"], "updatedAt": o["updatedAt"]} for o in page],
                }
            }
        if name == "BridgeReadOrders":
            return {"nodes": [self._node(self.orders[i]) if i in self.orders else None for i in variables["ids"]]}
        if name == "BridgeReadOrder":
            order = self.orders.get(variables["id"])
            return {"order": self._node(order) if order else None}
        if name == "BridgeReadRefunds":
            return {"nodes": [copy.deepcopy(self.refund_details.get(gid)) for gid in variables["ids"]]}
        if (
            name == "BridgeOrdersCount"
            and "customer_id:" not in variables["query"]
            and "email:" not in variables["query"]
        ):
            name = "BridgeReconcileCount"
        if name == "BridgeOrdersCount":
            return {"ordersCount": {"count": self.customer_orders_before, "precision": "EXACT"}}
        if name.startswith("BridgeEarlierOrders"):  # `$is_new_customer`: one aliased count per order
            answer = {"count": self.customer_orders_before, "precision": "EXACT"}
            return {f"c{i}": dict(answer) for i in range(len(variables))}
        if name in ("BridgeReconcileCount", "BridgeReconcileOrders"):
            parts = variables["query"].split("'")
            start, end = parts[1], parts[3]
            day = sorted(
                (o for o in self.orders.values() if start <= o["processedAt"] <= end),
                key=lambda o: o["processedAt"],
            )
            if name == "BridgeReconcileCount":
                return {"ordersCount": {"count": len(day), "precision": "EXACT"}}
            return {
                "orders": {
                    "pageInfo": {"hasNextPage": False, "endCursor": None},
                    "nodes": [{k: o[k] for k in ("id", "legacyResourceId", "name", "processedAt")} for o in day],
                }
            }
        raise AssertionError(f"unexpected query {name}")
