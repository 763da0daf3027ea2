"""Shopify `sourceName` → Converge `$sales_channel_type`, as data a user can extend.

`sourceName` is not an enum: it is `web`, `pos`, `shopify_draft_order`, … or the numeric id of
the app that created the order. The default table is the contract's; a user table (config) is
layered over it, so its entries add new source names or override default ones. Keys match the
raw `sourceName` exactly (Shopify's values are stable lower-case words or numbers).

Unknown or null source names fall back on the checkout token: an order that went through a
checkout is `web`, anything else (API-created, imported) is `offline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

DEFAULT_CHANNEL_TABLE: Mapping[str, str] = MappingProxyType(
    {
        "web": "web",
        "subscription_contract": "subscription_contract",
        "shopify_draft_order": "offline",
        "pos": "pos",
        "mobile_app": "mobile_app",
        "12875497473": "web",  # headless storefronts
        "Edit Order": "offline",
        "3890849": "marketplace",  # Shop app
        "2329312": "facebook_shop",
        "4383523": "tiktok_shop",
        "3009811": "pinterest_shop",
        "amazon": "marketplace",
    }
)

FALLBACK_WITH_CHECKOUT = "web"
FALLBACK_WITHOUT_CHECKOUT = "offline"


def merged_channel_table(user_table: Mapping[str, str] | None = None) -> dict[str, str]:
    """The default table with a user's entries added or overriding."""
    return {**DEFAULT_CHANNEL_TABLE, **(user_table or {})}


def sales_channel_type(
    source_name: str | None, checkout_token: str | None, table: Mapping[str, str] | None = None
) -> str:
    """The `$sales_channel_type` of an order.

    `table` is looked up first, then the default table, so passing either a user's extension
    alone or an already merged table gives the same answer.
    """
    if source_name is not None:
        mapped = (table or {}).get(source_name) or DEFAULT_CHANNEL_TABLE.get(source_name)
        if mapped:
            return mapped
    return FALLBACK_WITH_CHECKOUT if checkout_token else FALLBACK_WITHOUT_CHECKOUT
