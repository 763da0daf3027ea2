"""The destination interface the delivery loop drives."""

from __future__ import annotations

from typing import Literal, NamedTuple, Protocol

from msgspec import Struct


class Outgoing(NamedTuple):
    """One event handed to a destination: its id, its exact stored JSON, and the order facts stored with it
    (JSON, or None for an event stored before facts were kept; only the payload mappings read them)."""

    event_id: str
    payload: bytes
    facts: str | None = None


class DeliveryResult(Struct, frozen=True):
    """What happened to one event: delivered, retry (with an optional server-given delay), dead, or
    skipped (its destination's payload rules do not send it: `reason`, with `error` saying why)."""

    outcome: Literal["delivered", "retry", "dead", "skipped"]
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    reason: str | None = None


class Destination(Protocol):
    name: str
    batch_size: int

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, items: list[Outgoing]) -> list[DeliveryResult]:
        """Send the items; one result per item, in order."""
        ...
