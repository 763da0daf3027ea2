"""One completed bulk operation's result into the store: download, stage, ingest in batches.

The result file and its staging database are named after the source and the operation, so backfills of
several sources running at once never share one: `documents` opens the staging file again by its path,
and a file another source re-created there would hand it that source's orders. Both files are deleted
when the result is in, except a staging database holding quarantined lines, kept for inspection.

A stop request is honoured between steps: between chunks of the staging (its thread stops at the next
chunk), and between ingest batches, each a transaction of its own. The backfill state still names the
operation, so the next start resumes it; ingesting a result again stores nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.errors import TemporaryFailure
from shopify_bridge.observe.backfill_progress import BackfillProgress, ProgressCallback
from shopify_bridge.observe.log import get_logger
from shopify_bridge.service import ingest
from shopify_bridge.shopify import new_customer
from shopify_bridge.shopify.bulk import assemble, documents
from shopify_bridge.shopify.bulk.query import in_window
from shopify_bridge.shopify.bulk.staging import StagingDb, discard_staging, open_staging, quarantined
from shopify_bridge.store import Store
from shopify_bridge.timeutil import Clock, parse_ts

log = get_logger(component="backfill")

INGEST_BATCH = 500
# Allocations between two young-generation collections while a result is ingested (Python's default: 700).
INGEST_GC_THRESHOLD = 100_000


class BackfillStopped(Exception):
    """A stop was requested while the backfill ran; its state lets the next start resume it."""

    @classmethod
    def of(cls, source_name: str) -> BackfillStopped:
        return cls(f"backfill of {source_name} stopped; the next start resumes it")


class _StagingStopped(Exception):
    """Raised on the staging thread to end `stage_file` early."""


@dataclass(frozen=True)
class ResultJob:
    """What taking one bulk result in needs from the backfill that ran the operation."""

    ctx: SourceContext
    store: Store
    client: new_customer.Executes  # `$is_new_customer` lookups for forwarded history
    clock: Clock
    data_dir: Path  # where the result and its staging database are kept while they are read
    progress: ProgressCallback
    download: Callable[[str, Path], Awaitable[int]]
    stop_requested: Callable[[], bool]  # safe to ask from the staging thread

    def check_stop(self) -> None:
        if self.stop_requested():
            raise BackfillStopped.of(self.ctx.name)

    def history_cutoff(self, window: list[str]) -> str:
        state = self.store.sources.backfill_state(self.ctx.shop)
        return lifecycle.history_cutoff(
            self.ctx.forward_history,
            self.store.sources.first_connected_at(self.ctx.shop),
            state["start"] if state else None,
            state["snapshot"] if state else None,
            window,
        )


async def ingest_result(job: ResultJob, op: dict[str, Any], window: list[str], label: str) -> int:
    """Download, stage and ingest the result of `op` for `window`; the number of orders ingested."""
    ctx = job.ctx
    op_id = str(op["id"])
    tag = f"{ctx.shop.split('.', 1)[0]}-{op_id.rsplit('/', 1)[-1]}"
    path = job.data_dir / f"bulk-{tag}.jsonl"
    staging_path = job.data_dir / f"staging-{tag}.db"
    total = int(op.get("fileSize") or 0) or None
    keep = False
    try:
        job.progress(BackfillProgress(ctx.name, "downloading", label, 0, total))
        size = await job.download(str(op["url"]), path)
        job.progress(BackfillProgress(ctx.name, "downloading", label, size, total))
        # Its own database file (re-creatable from the download): the staging thread never shares a
        # connection with the event loop's writer.
        staging = open_staging(staging_path)
        try:
            objects = int(op.get("objectCount") or 0) or None
            stats = await _stage(job, staging, op_id, path, label, objects)
            job.check_stop()
            count = await _ingest(job, staging, op_id, stats, window, label)
            keep = bool(stats.quarantined or quarantined(staging, op_id))
            if keep:
                log.warning("quarantined bulk lines kept for inspection", source=ctx.name,
                            staging=str(staging_path), op_id=op_id)
            # Otherwise the file is deleted below: emptying it first only cost time and memory.
        finally:
            staging.close()
    finally:
        path.unlink(missing_ok=True)
        if not keep:
            discard_staging(staging_path)
    job.progress(BackfillProgress(ctx.name, "ingesting", label, count, stats.orders))
    return count


async def _stage(
    job: ResultJob, staging: StagingDb, op_id: str, path: Path, label: str, objects: int | None
) -> assemble.StageStats:
    """`stage_file` on a thread; it ends before this returns or raises, even when cancelled or stopped."""
    loop = asyncio.get_running_loop()
    name = job.ctx.name
    halt = threading.Event()

    def staged(_bytes: int, lines: int) -> None:  # on the staging thread, after every chunk read
        if halt.is_set() or job.stop_requested():
            raise _StagingStopped
        loop.call_soon_threadsafe(job.progress, BackfillProgress(name, "staging", label, lines, objects))

    work = asyncio.ensure_future(asyncio.to_thread(assemble.stage_file, staging, op_id, path, staged))
    try:
        stats = await asyncio.shield(work)
    except asyncio.CancelledError:
        halt.set()  # the thread stops at its next chunk; only then may the caller close the connection
        with contextlib.suppress(BaseException):
            await work
        raise
    except _StagingStopped:
        raise BackfillStopped(f"backfill of {name} stopped while staging") from None
    if stats.truncated:
        raise TemporaryFailure(f"bulk result for {name} is truncated ({stats.truncated_reason})")
    if stats.malformed or stats.orphans:
        log.warning("bulk lines quarantined", source=name, malformed=stats.malformed, orphans=stats.orphans)
    return stats


async def _ingest(
    job: ResultJob,
    staging: StagingDb,
    op_id: str,
    stats: assemble.StageStats,
    window: list[str],
    label: str,
) -> int:
    ctx, store = job.ctx, job.store
    start, end = parse_ts(window[0]), parse_ts(window[1])
    first_connected = job.history_cutoff(window)
    now = job.clock()
    count = 0
    batch: list[dict[str, Any]] = []
    lookups: dict[str, bool | None] = {}

    def flush() -> None:
        with store.transaction():
            ingest.ingest_orders(store, ctx, batch, origin="bulk", now=now, first_connected_at=first_connected,
                                 is_new_customer=lookups)
        batch.clear()
        lookups.clear()

    # Forwarded history gets `$is_new_customer` like polled orders; the orders read so far settle most.
    earlier = new_customer.EarlierOrders() if ctx.forward_history else None
    docs = documents.iter_orders(staging, op_id)
    with _fewer_collections():
        try:
            for doc in docs:
                if not in_window(doc["processedAt"], start, end):
                    continue
                if earlier is not None:
                    if ingest.needs_new_customer_lookup(store, ctx, doc, first_connected, now):
                        lookups[doc["id"]] = await earlier.is_new_customer(job.client, ctx.name, doc)
                    earlier.note(doc)
                batch.append(doc)
                count += 1
                if len(batch) >= INGEST_BATCH:
                    flush()
                    job.progress(BackfillProgress(ctx.name, "ingesting", label, count, stats.orders))
                    # Each batch is its own transaction: let the rest of the bridge (other sources,
                    # deliveries, the dashboard, the signal handlers) run between them, then honour a stop.
                    await asyncio.sleep(0)
                    job.check_stop()
            flush()
        finally:
            docs.close()  # releases the read-ahead threads when stopped half-way
    if earlier is not None:
        log.info("new-customer lookups for forwarded history", source=ctx.name, asked=earlier.asked,
                 settled_locally=earlier.settled)
    return count


_collecting_less: list[tuple[int, int, int]] = []  # the thresholds to restore, once per ingest running


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Spare the cyclic garbage collector's work while a result is ingested.

    A parsed order is a tree of a hundred dicts and lists without a cycle: reference counting frees it. But
    each one counts towards the collector's next run, and every run walks all tracked objects of its
    generations — a young one every few orders by default, and now and then every object of the process.
    Objects alive before the ingest (modules, the config, the event loop) are frozen out of those walks
    until it ends, and young collections come every `INGEST_GC_THRESHOLD` allocations instead of 700.
    Backfills of several sources overlap: the first one in changes the settings, the last one out restores.
    """
    if not _collecting_less:
        gc.freeze()
    _collecting_less.append(gc.get_threshold())
    gc.set_threshold(INGEST_GC_THRESHOLD, *_collecting_less[0][1:])
    try:
        yield
    finally:
        first = _collecting_less[0]
        _collecting_less.pop()
        if not _collecting_less:
            gc.set_threshold(*first)
            gc.unfreeze()
