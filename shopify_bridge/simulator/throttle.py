"""Shopify's cost-based leaky bucket, on the simulator's injected clock, with an optional competing app.

A query must find its *requested* cost in the bucket before it runs; afterwards the difference
to its *actual* cost is given back (notes §3.1). The bucket refills at `restore_rate` points per
second of (injected) time up to `maximum`.

A competing app (PRODUCT.md "API cost": the bridge must pace itself "even with the bucket drained by
another app") is a greedy neighbour that was already running when the bridge connected: it has emptied
the bucket and keeps taking `competing_share` of every second's restore, so this app refills at only
`(1 - share) × restore_rate` while Shopify still reports the full `restoreRate`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shopify_bridge.simulator.clock import Clock

DEFAULT_MAXIMUM = 2000
DEFAULT_RESTORE_RATE = 100


class LeakyBucket:
    def __init__(
        self,
        clock: Clock,
        maximum: int = DEFAULT_MAXIMUM,
        restore_rate: int = DEFAULT_RESTORE_RATE,
        competing_share: float = 0.0,
    ) -> None:
        self._clock = clock
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.competing_share = competing_share
        self.taken_by_competitor = 0.0
        self._available = 0.0 if competing_share > 0 else float(maximum)
        self._as_of: datetime = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max((now - self._as_of).total_seconds(), 0.0)
        restored = elapsed * self.restore_rate
        self.taken_by_competitor += restored * self.competing_share
        self._available = min(float(self.maximum), self._available + restored * (1.0 - self.competing_share))
        self._as_of = now

    @property
    def available(self) -> float:
        self._refill()
        return self._available

    def try_take(self, cost: int) -> bool:
        """Take `cost` points if the bucket holds them; otherwise take nothing (THROTTLED)."""
        self._refill()
        if cost > self._available:
            return False
        self._available -= cost
        return True

    def give_back(self, points: int) -> None:
        self._refill()
        self._available = min(float(self.maximum), self._available + max(points, 0))

    def drain(self, points: float | None = None) -> None:
        """Empty the bucket (or take `points`): for tests and demos of throttling."""
        self._refill()
        self._available = 0.0 if points is None else max(self._available - points, 0.0)

    def status(self) -> dict[str, Any]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": int(self.available + 1e-6),  # whole points, float noise aside
            "restoreRate": self.restore_rate,
        }
