"""The `jsonl` destination: one event per line, appended, flushed and fsynced per batch.

A batch is durable on disk before the outbox marks it delivered; a crash between the two
re-appends those lines on restart (at-least-once), which a consumer deduplicates on event_id.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from shopify_bridge.destinations.base import DeliveryResult


class JsonlDestination:
    batch_size = 500

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        return None

    def _append(self, payloads: list[bytes]) -> None:
        with open(self.path, "ab") as handle:
            handle.write(b"".join(p + b"\n" for p in payloads))
            handle.flush()
            os.fsync(handle.fileno())

    async def send(self, items: list[tuple[str, bytes]]) -> list[DeliveryResult]:
        try:
            await asyncio.to_thread(self._append, [payload for _, payload in items])
        except OSError as exc:
            error = f"cannot write {self.path}: {exc.strerror or exc}"
            return [DeliveryResult("retry", error=error) for _ in items]
        return [DeliveryResult("delivered") for _ in items]
