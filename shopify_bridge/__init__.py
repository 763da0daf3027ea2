"""shopify-bridge: Shopify orders to a server-side event pipeline (Placed Order, Received Refund).

Kept free of imports: every subcommand and every helper process imports this package first.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shopify-bridge")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
