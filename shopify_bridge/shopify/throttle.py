"""A model of Shopify's cost-based leaky bucket, fed by `extensions.cost` (pure, no I/O).

Shopify holds `requestedQueryCost` before a query runs and refunds the difference to
`actualQueryCost` afterwards; the bucket refills at `restoreRate` points per second up to
`maximumAvailable`. We keep the last reported level and extrapolate it with our own clock,
so the client waits *before* sending a query that would not fit instead of being refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Until Shopify has told us its numbers, assume the smallest current bucket (Standard plan).
DEFAULT_MAXIMUM = 2000.0
DEFAULT_RESTORE_RATE = 100.0
MIN_WAIT_SECONDS = 0.05
MAX_WAIT_SECONDS = 60.0


@dataclass
class CostReport:
    requested: float
    actual: float | None
    maximum: float
    available: float
    restore_rate: float


def parse_cost(extensions: dict[str, Any] | None) -> CostReport | None:
    """`extensions.cost` → CostReport; numbers may be ints or floats (`1000.0` in older samples)."""
    cost = (extensions or {}).get("cost")
    if not isinstance(cost, dict):
        return None
    status = cost.get("throttleStatus") or {}
    try:
        actual = cost.get("actualQueryCost")
        return CostReport(
            requested=float(cost.get("requestedQueryCost") or 0),
            actual=None if actual is None else float(actual),
            maximum=float(status["maximumAvailable"]),
            available=float(status["currentlyAvailable"]),
            restore_rate=float(status["restoreRate"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class Bucket:
    """Our estimate of one source's bucket. Times are monotonic seconds from an injected clock."""

    maximum: float = DEFAULT_MAXIMUM
    restore_rate: float = DEFAULT_RESTORE_RATE
    available: float = DEFAULT_MAXIMUM
    observed_at: float | None = None

    def level(self, now: float) -> float:
        if self.observed_at is None:
            return self.available
        elapsed = max(0.0, now - self.observed_at)
        return min(self.maximum, self.available + elapsed * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds to wait until `cost` points fit (0 when they fit now). Never a tight loop."""
        need = min(cost, self.maximum) - self.level(now)
        if need <= 0:
            return 0.0
        return min(MAX_WAIT_SECONDS, max(MIN_WAIT_SECONDS, need / self.restore_rate))

    def spend(self, cost: float, now: float) -> None:
        """Reserve points locally before a query goes out (keeps concurrent callers honest)."""
        self.available = self.level(now) - cost
        self.observed_at = now

    def observe(self, report: CostReport, now: float) -> None:
        """Shopify's word replaces our estimate."""
        self.maximum = report.maximum
        self.restore_rate = report.restore_rate or DEFAULT_RESTORE_RATE
        self.available = report.available
        self.observed_at = now

    def throttled_wait(self, requested: float, now: float) -> float:
        """After a THROTTLED answer: the time until `requested` points are back, at least a beat."""
        return max(1.0, self.wait_for(requested, now))
