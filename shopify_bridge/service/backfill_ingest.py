"""A staged bulk result into the store: its orders a batch at a time, each batch one transaction.

The orders come out of the staging file in creation order (`documents.iter_orders`); those outside the
window are skipped (the search is a superset of it). A batch of `INGEST_BATCH` orders is one transaction
with its events and their outbox rows, so that a crash keeps a whole batch or none of it; ingesting a
result again stores nothing twice. Within it `ingest.ingest_orders` takes `DECIDE_BATCH` orders at a time —
their facts read at once, each order decided by the pure lifecycle, the decisions written at once. Between
batches the rest of the bridge runs and a stop is honoured.

Forwarded history (`forward_history`) first gets `$is_new_customer` for each order it may release, as a
polled order does, settled from the earlier orders the backfill noted with one bulk operation
(`backfill_customers`): no request per order or customer.

Parsing is most of the work, and a parsed order is a hundred dicts and lists: `_fewer_collections` keeps
the cyclic garbage collector from walking them over and over.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from shopify_bridge.observe.backfill_progress import BackfillProgress
from shopify_bridge.service import backfill_customers, ingest, new_customers
from shopify_bridge.service.backfill_job import ResultJob
from shopify_bridge.shopify.bulk import assemble, documents
from shopify_bridge.shopify.bulk.query import in_window
from shopify_bridge.shopify.bulk.staging import StagingDb
from shopify_bridge.timeutil import parse_ts

# Orders per transaction: between two the rest of the bridge runs and a stop is honoured. Each commit
# writes again every page its transaction touched (index pages, the newest pages of each table) and fsyncs.
INGEST_BATCH = 1_000
# Orders parsed and decided at once within a transaction. A parsed order is ~17 KB of dicts and lists, and
# parsing slows down the more of them are alive (allocator and cache): at 20k orders decided 50 at a time
# rather than 500 the whole backfill took ~0.3 CPU s less (`bench/backfill.py --whole`); 20 at a time
# gave part of it back in per-batch queries.
DECIDE_BATCH = 50
# The orders' customers (`new_customers`) are written every this many, in key order, rather than with
# each batch: their keys are hashes, so each write touches pages all over the table, and each commit
# writes every page it touched again. Until written they are only in memory; a backfill cut short takes
# its orders in again when it resumes (the result is ingested from its start), noting them again.
CUSTOMERS_PER_WRITE = 20_000
# Allocations between two young-generation collections while a result is ingested (Python's default: 700).
INGEST_GC_THRESHOLD = 100_000


async def ingest_staged(
    job: ResultJob,
    staging: StagingDb,
    op_id: str,
    stats: assemble.StageStats,
    window: list[str],
    label: str,
) -> int:
    """Ingest the staged orders of `op_id` that lie in `window`; how many."""
    ctx, store = job.ctx, job.store
    start, end = parse_ts(window[0]), parse_ts(window[1])
    first_connected = job.history_cutoff(window)
    now = job.clock()
    count = 0
    batch: list[dict[str, Any]] = []
    lookups: dict[str, bool | None] = {}
    customers: dict[str, datetime] = {}
    # Forwarded history settles `$is_new_customer` from the customers noted: each batch's go in with it.
    customers_per_write = 0 if ctx.forward_history else CUSTOMERS_PER_WRITE

    def decide(last: bool = False) -> None:
        """Take `batch` in, within the caller's transaction."""
        ingest.ingest_orders(store, ctx, batch, origin="bulk", now=now, first_connected_at=first_connected,
                             is_new_customer=lookups, customers=customers)
        if last or len(customers) >= customers_per_write:
            store.customers.note(ctx.shop, customers)
            customers.clear()
        batch.clear()
        lookups.clear()

    def ingest_some(wanted: Iterator[dict[str, Any]]) -> int:
        """Up to `INGEST_BATCH` orders of `wanted`, `DECIDE_BATCH` at a time, in one transaction; how many."""
        taken = 0
        with store.transaction():
            for doc in wanted:
                if ctx.forward_history and ingest.needs_new_customer_lookup(store, ctx, doc, first_connected, now):
                    lookups[doc["id"]] = backfill_customers.from_history(store, ctx, doc, visible)
                batch.append(doc)
                taken += 1
                if taken >= INGEST_BATCH:
                    break
                if len(batch) >= DECIDE_BATCH:
                    decide()
            decide(last=taken < INGEST_BATCH)
        return taken

    visible = await new_customers.all_orders_visible(job.client, store, ctx.shop) if ctx.forward_history else False
    docs = documents.iter_orders(staging, op_id)
    with _fewer_collections():
        try:
            wanted = (doc for doc in docs if in_window(doc["processedAt"], start, end))
            while (taken := ingest_some(wanted)) == INGEST_BATCH:
                count += taken
                job.progress(BackfillProgress(ctx.name, "ingesting", label, count, stats.orders))
                # Each batch is its own transaction: let the rest of the bridge (other sources,
                # deliveries, the dashboard, the signal handlers) run between them, then honour a stop.
                await asyncio.sleep(0)
                job.check_stop()
            count += taken
        finally:
            docs.close()  # closes the lines file when stopped half-way
    return count


_collecting_less: list[tuple[int, int, int]] = []  # the thresholds to restore, once per ingest running


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Spare the cyclic garbage collector's work while a result is ingested.

    A parsed order is a tree of a hundred dicts and lists without a cycle: reference counting frees it. But
    each one counts towards the collector's next run, and every run walks all tracked objects of its
    generations still alive — by default a young collection every 700 allocations, a few orders, walking
    the batch being ingested each time. While a result is ingested young collections come every
    `INGEST_GC_THRESHOLD` allocations instead. (What start-up made is frozen out of every collection by
    the console script: `cli.startup`.) Backfills of several sources overlap: the first one in raises the
    threshold, the last one out restores it.
    """
    _collecting_less.append(gc.get_threshold())
    gc.set_threshold(INGEST_GC_THRESHOLD, *_collecting_less[0][1:])
    try:
        yield
    finally:
        first = _collecting_less[0]
        _collecting_less.pop()
        if not _collecting_less:
            gc.set_threshold(*first)
