"""What the bridge reports while it works, to nobody: `BridgeObserver`, the bridge without metrics.

Its own module so that a bridge without `--metrics-port` never imports `metrics` (prometheus_client and
the store's scrape queries), which is start-up time `run --once` does not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shopify_bridge.deliver.destinations.base import Destination
    from shopify_bridge.observe.backfill_progress import BackfillProgress


class BridgeObserver:
    """What the bridge reports while it works. Every method is a no-op: the bridge without metrics."""

    def poll_finished(self, source: str, exit_code: int) -> None:
        """One source cycle (poll, release, refund settle) ended with this exit code."""

    def backfill_progress(self, progress: BackfillProgress) -> None:
        """A backfill of `progress.source` moved on (it is alive even though no poll finishes)."""

    def order_recovered(self, source: str, lag_seconds: float) -> None:
        """The sweep found an order version the polls had passed without seeing, this late."""

    def new_customer_unknown(self, source: str) -> None:
        """An order went out without `$is_new_customer`: not looked up by its release (no points to spare)."""

    def observe_destination(self, destination: Destination) -> Destination:
        """The destination the deliverer should drive (a counting wrapper, or the same one)."""
        return destination
