"""Process bodies for the shared-file jsonl tests: importable by name, as a spawned process needs."""

from __future__ import annotations

import asyncio
import json
from multiprocessing.synchronize import Barrier, Event, Semaphore
from pathlib import Path

from shopify_bridge.deliver.destinations.base import Outgoing
from shopify_bridge.deliver.destinations.jsonl import JsonlDestination, locked_for_append

LINE_BYTES = 1 << 16  # a line well over PIPE_BUF (4096), so no single write of it is atomic to a reader
WAIT = 60.0           # a bound on every wait, so a broken test fails instead of hanging


def event_line(event_id: str) -> bytes:
    """A JSON line of about LINE_BYTES whose padding repeats its own id, so a spliced line cannot parse as whole."""
    pad = (event_id + ".") * (LINE_BYTES // (len(event_id) + 1))
    return json.dumps({"event_id": event_id, "pad": pad}).encode()


def append_batches(path: str, worker: int, batches: int, per_batch: int, start: Barrier) -> None:
    """Append `batches` batches through the destination's `send`, starting together with the other workers."""
    destination = JsonlDestination(f"file-{worker}", Path(path))

    async def run() -> None:
        for batch in range(batches):
            ids = [f"{worker}-{batch}-{i}" for i in range(per_batch)]
            results = await destination.send([Outgoing(event_id, event_line(event_id)) for event_id in ids])
            assert [r.outcome for r in results] == ["delivered"] * per_batch

    start.wait(WAIT)
    asyncio.run(run())


def write_a_line_in_two_halves(path: str, event_id: str, written: Event, finish: Semaphore) -> None:
    """Write half a line under the append lock, say so, and write the rest once told (unless killed before)."""
    line = event_line(event_id)
    with locked_for_append(Path(path)) as handle:
        handle.write(line[: len(line) // 2])
        handle.flush()
        written.set()
        assert finish.acquire(timeout=WAIT)
        handle.write(line[len(line) // 2 :] + b"\n")
