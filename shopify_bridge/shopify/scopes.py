"""The access scopes the bridge needs, and how to tell from Shopify's answer which are missing.

One rule for `check`, the start of a run and a backfill that Shopify refused: the four scopes every
source needs, plus `read_all_orders` when the backfill reaches more than 60 days back (without it, orders
older than that are silently left out — the notes' gotcha 10). A `write_X` handle implies `read_X`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

REQUIRED_SCOPES = ("read_customer_events", "read_customers", "read_orders", "read_products")
ALL_ORDERS_SCOPE = "read_all_orders"
RECENT_ORDERS_DAYS = 60


def granted_scopes(shop_info: Mapping[str, Any]) -> set[str]:
    """The handles of `currentAppInstallation.accessScopes` in a SHOP_INFO answer."""
    installation = shop_info.get("currentAppInstallation") or {}
    return {scope["handle"] for scope in installation.get("accessScopes") or []}


def is_granted(granted: set[str], wanted: str) -> bool:
    # A write_X handle implies read_X (Shopify sometimes lists only the write handle).
    return wanted in granted or wanted.replace("read_", "write_", 1) in granted


def reaches_past_recent_orders(start_date: date | None, today: date) -> bool:
    """Whether a backfill from `start_date` needs orders older than Shopify shows without read_all_orders."""
    return start_date is not None and start_date < today - timedelta(days=RECENT_ORDERS_DAYS)


def missing_scopes(granted: set[str], start_date: date | None, today: date) -> list[str]:
    """The scopes a source with this `start_date` needs and lacks, required ones first."""
    missing = [scope for scope in REQUIRED_SCOPES if not is_granted(granted, scope)]
    if reaches_past_recent_orders(start_date, today) and not is_granted(granted, ALL_ORDERS_SCOPE):
        missing.append(ALL_ORDERS_SCOPE)
    return missing
