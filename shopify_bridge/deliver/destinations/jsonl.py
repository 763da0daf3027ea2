"""The `jsonl` destination: one event per line, appended, flushed and fsynced per batch.

A batch is durable on disk before the outbox marks it delivered; a crash between the two
re-appends those lines on restart (at-least-once), which a consumer deduplicates on event_id.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import BinaryIO

from shopify_bridge.deliver.destinations.base import DeliveryResult, Outgoing
from shopify_bridge.private_files import open_private

TAIL_SCAN = 1 << 16


def _cut_torn_tail(handle: BinaryIO) -> None:
    """Drop a partial last line that a write killed mid-way left behind.

    Its events were never marked delivered, so they are about to be written again in full; without
    the cut the new lines would be glued onto the torn one and a line-based reader would lose them.
    """
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return
    with open(handle.name, "rb") as reader:
        reader.seek(size - 1)
        if reader.read(1) == b"\n":
            return
        end = size
        while end > 0:
            start = max(0, end - TAIL_SCAN)
            reader.seek(start)
            chunk = reader.read(end - start)
            cut = chunk.rfind(b"\n")
            if cut != -1:
                handle.truncate(start + cut + 1)
                return
            end = start
        handle.truncate(0)


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
        with open_private(self.path, "ab") as handle:  # events hold customers' data: a new file is 0600
            _cut_torn_tail(handle)
            handle.write(b"".join(p + b"\n" for p in payloads))
            handle.flush()
            os.fsync(handle.fileno())

    async def send(self, items: list[Outgoing]) -> list[DeliveryResult]:
        try:
            await asyncio.to_thread(self._append, [item.payload for item in items])
        except OSError as exc:
            error = f"cannot write {self.path}: {exc.strerror or exc}"
            return [DeliveryResult("retry", error=error) for _ in items]
        return [DeliveryResult("delivered") for _ in items]
