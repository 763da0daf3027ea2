"""What the bridge knows and reports of each source: its live status (`SourceStatus`, read by the TUI,
/healthz and systemd's STATUS) and what one cycle did (`SourceCycle`, the `run --once` summary line)."""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field


class SourceStatus(Struct):
    name: str
    shop: str
    state: str = "idle"
    reason: str | None = None
    exit_code: int = 0
    failures: int = 0
    last_events: int = 0
    last_seen: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    paused: bool = False  # by the operator (`pause_source`): the loop polls and releases nothing meanwhile
    next_attempt_in: float | None = None  # seconds from the end of the last cycle to the next one


class SourceCycle(Struct, frozen=True):
    """What one source's cycle in `run_cycle` did (the `run --once` summary line)."""

    source: str
    exit_code: int
    seen: int  # orders the poll read from Shopify
    created: int  # events created (new orders, released holds, settled refunds)
    delivered: int  # deliveries of this source's events completed by this cycle
    held: int  # orders of this source in an upsell hold afterwards
    reason: str | None = None  # why the source failed, when it did
    elsewhere: bool = False  # not polled: another process sharing the store holds its lease
