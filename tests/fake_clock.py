"""The test-moved clock, in a module of its own.

`tests.fakes` re-exports it beside the fake Shopify, but also imports the Shopify client; a test
that needs only the clock (the http delivery tests) takes it from here and loads nothing of that side.
"""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """Time that moves only when the test says so."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
