"""The destination interface the delivery loop drives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class DeliveryResult:
    """What happened to one event: delivered, retry (with an optional server-given delay), or dead."""

    outcome: Literal["delivered", "retry", "dead"]
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None


class Destination(Protocol):
    name: str
    batch_size: int

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, items: list[tuple[str, bytes]]) -> list[DeliveryResult]:
        """Send (event_id, payload) pairs; one result per item, in order."""
        ...
