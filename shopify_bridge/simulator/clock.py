"""Time for the simulator: an injected `Callable[[], datetime]`, never read from the OS behind its back.

Everything time-dependent (the leaky bucket, the search-index lag, `updatedAt`) asks the
simulator's clock, so tests drive time with a `ManualClock` instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests, demos driven from the control API)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = (start or datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        self.now += timedelta(seconds=seconds)
        return self.now

    def __repr__(self) -> str:
        return f"ManualClock({wire_time(self.now)})"


def wire_time(value: datetime) -> str:
    """Shopify's `DateTime` on the wire: UTC, one-second resolution (truncated), `Z` suffix."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_wire_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def epoch_ms(value: str) -> int:
    """A wire timestamp as the epoch milliseconds Shopify puts in its cursors' `last_value`."""
    return int(parse_wire_time(value).timestamp() * 1000)
