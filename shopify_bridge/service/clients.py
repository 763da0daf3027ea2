"""The Shopify client of one source, as every part of the service builds it (poll loop, check, reconcile).

Its own token and pinned API version; the cost bucket is the shop's, shared by every client of that shop in
the process (`shopify/pacing.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from shopify_bridge.config import Source
from shopify_bridge.shopify.client import ShopifyClient
from shopify_bridge.shopify.transport import Connector


def client_for(
    source: Source,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    timeout_seconds: float = 30.0,
    max_temporary_retries: int | None = None,
    connector: Connector | None = None,
) -> ShopifyClient:
    """The Shopify client of one source: its own token, pinned version and rate-limit bucket (and the
    connections of `connector`, shared with the other sources, when given)."""
    return ShopifyClient(
        source_name=source.name,
        shop_domain=source.shop_domain,
        token=source.access_token.get_secret_value(),
        api_version=source.api_version,
        api_url=source.api_url,
        timeout_seconds=timeout_seconds,
        max_temporary_retries=max_temporary_retries,
        clock=clock,
        sleep=sleep,
        connector=connector,
    )
