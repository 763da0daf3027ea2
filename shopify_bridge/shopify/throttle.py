"""A model of one shop's cost-based leaky bucket, fed by `extensions.cost` (pure, no I/O).

Shopify holds `requestedQueryCost` before a query runs and refunds the difference to
`actualQueryCost` afterwards; the bucket refills at `restoreRate` points per second up to
`maximumAvailable` (API notes §3.1). We keep the last reported level and extrapolate it with our
own clock, so the client waits *before* sending a query that would not fit instead of being refused.

The limit is per app and store, but the bucket is the store's: another app on the same store can
take most of each second's restore while Shopify still reports the full `restoreRate` (PRODUCT.md
"API cost"). So the refill we extrapolate with is measured: between two consecutive reports, what
the bucket gained for us is the new level minus the old one plus what we spent in between. Points
of our own requests that are sent but not answered yet are reserved, so that concurrent requests
to one shop do not all count on the same points.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from msgspec import Struct

# Until Shopify has told us its numbers, assume the smallest current bucket (Standard plan).
DEFAULT_MAXIMUM = 2000.0
DEFAULT_RESTORE_RATE = 100.0
MAX_WAIT_SECONDS = 60.0
# Shopify reports whole points and our clock is not Shopify's: wait for one point more than the cost, so
# that rounding never leaves the bucket a hair short of it.
ROUNDING_POINTS = 1.0
# The measured refill averages what the bucket gave back over this much recent time …
REFILL_WINDOW_SECONDS = 60.0
# … once it spans this much: over less, a report's whole-point rounding would pass for another app.
MIN_REFILL_SPAN_SECONDS = 1.0
# Never pace as if less than this share of `restoreRate` came back: a misleading sample must not stall us.
MIN_REFILL_SHARE = 0.02
# Never keep more than this share of the bucket in hand against another app's bursts.
MAX_MARGIN_SHARE = 0.25


class CostReport(Struct):
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


def throttled_wait(report: CostReport) -> float:
    """After THROTTLED: ceil((requested − available) / restoreRate) seconds (API notes §3.2).

    Shopify refused for want of points, so at least one was missing: the wait is never under 1 s even
    when the report already shows enough (another client of the shop took them in between).
    """
    rate = report.restore_rate or DEFAULT_RESTORE_RATE
    return float(max(1, math.ceil((report.requested - report.available) / rate)))


class _Step(Struct):
    """What one clean interval between two reports showed: its end, length, gain, and how far the bucket
    fell short of what our refill estimate had predicted."""

    at: float
    span: float
    gained: float
    shortfall: float


class Bucket:
    """Our estimate of one shop's bucket. Times are seconds on one injected monotonic clock."""

    def __init__(
        self,
        maximum: float = DEFAULT_MAXIMUM,
        restore_rate: float = DEFAULT_RESTORE_RATE,
        available: float | None = None,
        observed_at: float | None = None,
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.available = maximum if available is None else available
        self.observed_at = observed_at
        self.reserved = 0.0
        self.in_flight = 0
        self._steps: deque[_Step] = deque()
        self._interval_shared = False  # another request overlapped since the last report: its gain is unclear

    @property
    def refill_rate(self) -> float:
        """Points per second that come back to us: `restoreRate`, or less when measured so."""
        span = sum(s.span for s in self._steps)
        if span < MIN_REFILL_SPAN_SECONDS:
            return self.restore_rate
        measured = sum(s.gained for s in self._steps) / span
        return min(self.restore_rate, max(self.restore_rate * MIN_REFILL_SHARE, measured))

    @property
    def margin(self) -> float:
        """Points to keep in hand: the worst recent shortfall against the prediction. An app that takes its
        share in bursts leaves the bucket below its average trend just after each burst. Capped, so that one
        big surprise does not make every request wait for a nearly full bucket."""
        worst = max((s.shortfall for s in self._steps), default=0.0)
        return min(worst, self.maximum * MAX_MARGIN_SHARE)

    def level(self, now: float) -> float:
        """Points we may still count on at `now`: the last report, refilled since, minus what is reserved."""
        if self.observed_at is None:
            return self.available - self.reserved
        elapsed = max(0.0, now - self.observed_at)
        return min(self.maximum, self.available + elapsed * self.refill_rate) - self.reserved

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until `cost` points are there for us (0 when they are now)."""
        need = min(cost + self.margin + ROUNDING_POINTS, self.maximum) - self.level(now)
        if need <= 0:
            return 0.0
        return min(MAX_WAIT_SECONDS, need / self.refill_rate)

    def reserve(self, cost: float) -> None:
        """A request of `cost` points goes out now."""
        self.reserved += cost
        self.in_flight += 1
        if self.in_flight > 1:
            self._interval_shared = True

    def release(self, cost: float, report: CostReport | None, now: float) -> None:
        """That request is answered (with Shopify's report, when there is one) or abandoned."""
        self.reserved = max(0.0, self.reserved - cost)
        self.in_flight = max(0, self.in_flight - 1)
        if report is None:
            self._interval_shared = True  # charged or not, we cannot tell: the next gain is unclear
            return
        self._observe(report, now)

    def _observe(self, report: CostReport, now: float) -> None:
        """Shopify's word replaces our estimate; the step from the last report measures the refill."""
        spent = report.actual or 0.0
        # A bucket that was full before our charge may have spilled refill: such a step says nothing.
        clean = self.observed_at is not None and not self._interval_shared and now > self.observed_at
        if clean and report.available + spent < report.maximum - 1:
            assert self.observed_at is not None
            span = now - self.observed_at
            predicted = min(self.maximum, self.available + span * self.refill_rate)
            shortfall = max(0.0, predicted - (report.available + spent))
            self._steps.append(_Step(now, span, report.available + spent - self.available, shortfall))
        while self._steps and now - self._steps[0].at > REFILL_WINDOW_SECONDS:
            self._steps.popleft()
        self.maximum = report.maximum
        self.restore_rate = report.restore_rate or DEFAULT_RESTORE_RATE
        self.available = report.available
        self.observed_at = now
        self._interval_shared = self.in_flight > 0
