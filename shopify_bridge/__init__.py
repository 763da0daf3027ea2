"""shopify-bridge: Shopify orders to a server-side event pipeline (Placed Order, Received Refund).

Kept free of imports: every subcommand and every helper process imports this package first. Even the
version is looked up only when asked for (`shopify_bridge.__version__`): reading the installed package's
metadata costs start-up time that `run` does not need.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("shopify-bridge")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
