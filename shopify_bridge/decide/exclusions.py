"""Which orders never produce events, and the rule that says so.

Rules are checked in this order and the first match wins (so the recorded rule is stable even
when several apply):

1. `test_order` — the order has `test: true` (when `test_orders` is on). Value: `"true"`.
2. `cancelled` — the version has `cancelledAt` set (when `cancelled` is on). Value: `cancelledAt`.
3. `channel` — an entry of `channels` equals, case-insensitively, the raw `sourceName` or the
   mapped `$sales_channel_type`. Value: the entry as configured.
4. `tag` — an entry of `tags` equals one of the order's tags, case-insensitively and exactly
   (surrounding whitespace ignored; no substring match). Value: the entry as configured.

Intrinsic facts (not a real sale, no longer a sale) come before the merchant's own filters.
The decision is made once, on the version the Placed Order would be built from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from msgspec import Struct

from shopify_bridge.decide.channels import sales_channel_type
from shopify_bridge.decide.orderdoc import OrderDoc


@dataclass(frozen=True)
class ExclusionRules:
    channels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    test_orders: bool = True
    cancelled: bool = True


class Exclusion(Struct, frozen=True):
    rule: str  # "test_order" | "cancelled" | "channel" | "tag"
    value: str


def _fold(text: str) -> str:
    return text.strip().casefold()


def _first_match(configured: Iterable[str], present: Iterable[str]) -> str | None:
    wanted = {_fold(value) for value in present}
    for entry in configured:
        if _fold(entry) in wanted:
            return entry
    return None


def decide_exclusion(
    doc: OrderDoc, rules: ExclusionRules, channel_table: Mapping[str, str] | None = None
) -> Exclusion | None:
    """The first exclusion rule the order matches, or None when it produces events."""
    if rules.test_orders and doc.get("test") is True:
        return Exclusion("test_order", "true")
    if rules.cancelled and doc.get("cancelledAt"):
        return Exclusion("cancelled", str(doc["cancelledAt"]))
    if rules.channels:
        source_name = doc.get("sourceName")
        mapped = sales_channel_type(source_name, doc.get("checkoutToken"), channel_table)
        present = [mapped] if source_name is None else [source_name, mapped]
        entry = _first_match(rules.channels, present)
        if entry is not None:
            return Exclusion("channel", entry)
    if rules.tags:
        entry = _first_match(rules.tags, doc.get("tags") or [])
        if entry is not None:
            return Exclusion("tag", entry)
    return None
