"""Timestamps: Shopify sends ISO 8601 with `Z`; the store and events use UTC with `+00:00`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def parse_ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)  # `Z` included (Python 3.11)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    # Shopify's `Z` and our `+00:00` are UTC already: spared the conversion (a backfill parses ~3 per order).
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def iso(value: datetime) -> str:
    if value.tzinfo is UTC:  # most are (`parse_ts`, clocks): spared the conversion, ~20k per 20k-order backfill
        return value.isoformat(timespec="seconds")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def shopify_ts(value: datetime) -> str:
    """The form Shopify's search syntax and wire use: `2026-05-01T10:00:00Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def system_clock() -> datetime:
    return datetime.now(UTC)
