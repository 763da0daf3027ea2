"""Order documents and source contexts for the lifecycle's unit tests (no database, no network)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shopify_bridge.decide.orderdoc import OrderDoc, normalize_order
from shopify_bridge.decide.source_context import SourceContext
from tests.core.test_poller_holds import SHOP as SHOP  # re-exported: the decide tests take it from here
from tests.core.test_poller_holds import context as poller_context
from tests.fakes import make_order, money, ts

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)  # the source's first connection
CONNECTED = T0.isoformat()


def context(delay: int | None = 600, **rules: Any) -> SourceContext:
    """The poller tests' source (POS and the `Exclude` tag excluded), with two destinations."""
    return replace(poller_context(delay, **rules), destinations=("events-file", "hook"))


def order(number: int = 1, processed: datetime = T0 + timedelta(seconds=5), **overrides: Any) -> OrderDoc:
    """A polled order, normalized as the poller hands it over."""
    return normalize_order(make_order(number, processed, **overrides))


def refund(
    number: int, at: datetime, amount: str = "10.0", status: str | None = "SUCCESS"
) -> dict[str, Any]:
    """A refund as it sits in an order document; `status=None`: its details were not read yet."""
    summary: dict[str, Any] = {
        "id": f"gid://shopify/Refund/{number}",
        "legacyResourceId": str(number),
        "createdAt": ts(at),
        "processedAt": ts(at),
        "updatedAt": ts(at),
        "note": None,
        "totalRefundedSet": money(amount),
    }
    if status is None:
        return summary
    return {
        **summary,
        "refundLineItems": [],
        "refundShippingLines": [],
        "transactions": [
            {"id": f"gid://shopify/OrderTransaction/{number}", "kind": "REFUND", "status": status,
             "processedAt": None, "amountSet": money(amount)}
        ],
    }


def with_refunds(doc: OrderDoc, *refunds: dict[str, Any]) -> OrderDoc:
    return {**doc, "refunds": list(refunds)}
