"""The `jsonl` destination: one event per line, appended, flushed and fsynced per batch.

A batch is durable on disk before the outbox marks it delivered; a crash between the two
re-appends those lines on restart (at-least-once), which a consumer deduplicates on event_id.

Several processes may append to one file (every process drains a PostgreSQL store's outbox). Each
append holds an exclusive `flock` on the file from cutting a torn tail to the fsync: without it one
process could take another's line being written for a torn tail and cut it, and a batch larger than
PIPE_BUF written in several write(2) calls could interleave with another's. `flock` (as the SQLite
writer lock) because the kernel drops it when the holder dies however it dies, leaving only the torn
tail for the next appender to cut. The lock lives in a worker thread and never spans an await.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Iterator
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


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked_for_append(path: Path) -> Iterator[BinaryIO]:
    """`path` opened for appending, held under an exclusive `flock` until the block ends (closing it releases it)."""
    with open_private(path, "ab") as handle:  # events hold customers' data: a new file is 0600
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield handle


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
        with locked_for_append(self.path) as handle:
            first_bytes = handle.seek(0, os.SEEK_END) == 0  # a file just created (or still empty)
            _cut_torn_tail(handle)
            handle.write(b"".join(p + b"\n" for p in payloads))
            handle.flush()
            os.fsync(handle.fileno())
        if first_bytes:
            # The file's name lives in its directory: without this a power cut right after the first
            # batch (already marked delivered) could lose the whole new file on some file systems.
            _fsync_directory(self.path.parent)

    async def send(self, items: list[Outgoing]) -> list[DeliveryResult]:
        try:
            await asyncio.to_thread(self._append, [item.payload for item in items])
        except OSError as exc:
            error = f"cannot write {self.path}: {exc.strerror or exc}"
            return [DeliveryResult("retry", error=error) for _ in items]
        return [DeliveryResult("delivered") for _ in items]
