"""Retry timing shared by every retrying part: exponential backoff with jitter, and `Retry-After`.

One policy type serves the Shopify client (temporary failures), the delivery loop (destinations) and the
bridge (a failed source): they differ only in base, cap and whether jitter is wanted. A server's
`Retry-After` is always a floor, never shortened by jitter.
"""

from __future__ import annotations

import email.utils
import math
import random
from collections.abc import Callable
from datetime import UTC

from msgspec import Struct

MAX_RETRY_AFTER_SECONDS = 3600.0


class Backoff(Struct, frozen=True):
    """delay(n) = min(cap, base × 2^(n−1)), times uniform(0.5, 1.0) when jittered (n = 1 for the first retry)."""

    base: float
    cap: float
    jitter: bool = True

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        plain = min(self.cap, self.base * 2.0 ** max(0, attempt - 1))
        return plain * (0.5 + rng() / 2) if self.jitter else plain


def parse_retry_after(value: str | None, now: float) -> float | None:
    """`Retry-After` as seconds from `now` (unix seconds): delay-seconds or an HTTP-date; None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)
