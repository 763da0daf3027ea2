"""One completed bulk operation's result into the store: download and stage, then ingest (`backfill_ingest`).

The result is staged as it downloads: no copy of it is kept on disk, the staging thread reads it from a
`ResultPipe` as it arrives. The download resumes after a cut (`shopify.bulk.download`); a link the storage
refuses is asked of the operation again, and once the operation has none left the result is gone
(`ResultUnavailable`: the backfill runs the window again).

The staging database (and its lines file beside it) is named after the source and the operation, so
backfills of several sources running at once never share one: a file another source re-created there
would hand it that source's orders. Both are deleted when the result is in, unless the database holds
quarantined lines: then both are kept for inspection.

A stop request is honoured between steps: between chunks of the staging (its thread stops at the next
chunk), and between ingest batches, each a transaction of its own. The backfill state still names the
operation, so the next start resumes it; ingesting a result again stores nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from shopify_bridge.errors import TemporaryFailure
from shopify_bridge.observe.backfill_progress import BackfillProgress
from shopify_bridge.observe.log import get_logger
from shopify_bridge.service.backfill_ingest import ingest_staged
from shopify_bridge.service.backfill_job import BackfillStopped, ResultJob
from shopify_bridge.shopify.bulk import assemble
from shopify_bridge.shopify.bulk.download import ResultPipe, ResultUrlRefused
from shopify_bridge.shopify.bulk.operation import BulkOperations
from shopify_bridge.shopify.bulk.staging import StagingDb, discard_staging, open_staging, quarantined

log = get_logger(component="backfill")

# New links asked of `bulkOperation(id:)` for one result before the operation is run again.
MAX_LINK_REFRESHES = 2


class _StagingStopped(Exception):
    """Raised on the staging thread to end `stage_file` early."""


class ResultUnavailable(TemporaryFailure):
    """The operation's result can no longer be fetched (its link expired with it): run the operation again."""


async def ingest_result(job: ResultJob, op: dict[str, Any], window: list[str], label: str) -> int:
    """Download and stage, then ingest the result of `op` for `window`; the number of orders ingested."""
    ctx = job.ctx
    op_id = str(op["id"])
    tag = f"{ctx.shop.split('.', 1)[0]}-{op_id.rsplit('/', 1)[-1]}"
    staging_path = job.data_dir / f"staging-{tag}.db"
    keep = False
    try:
        job.data_dir.mkdir(parents=True, exist_ok=True)
        # Its own database file (re-creatable from the download): the staging thread never shares a
        # connection with the event loop's writer.
        staging = open_staging(staging_path)
        try:
            stats = await _download_and_stage(job, op, staging, label)
            job.check_stop()
            count = await ingest_staged(job, staging, op_id, stats, window, label)
            keep = bool(stats.quarantined or quarantined(staging, op_id))
            if keep:
                log.warning("quarantined bulk lines kept for inspection", source=ctx.name,
                            staging=str(staging_path), op_id=op_id)
            # Otherwise the file is deleted below: emptying it first only cost time and memory.
        finally:
            staging.close()
    finally:
        if not keep:
            discard_staging(staging_path)
    job.progress(BackfillProgress(ctx.name, "ingesting", label, count, stats.orders))
    return count


async def _download_and_stage(
    job: ResultJob, op: dict[str, Any], staging: StagingDb, label: str
) -> assemble.StageStats:
    """Stage the result as it downloads: the download writes into a `ResultPipe` the staging thread reads.

    Whichever fails first stops the other: a failed download ends the staging at its next read, a stop or
    failure of the staging cancels the download. Both have ended when this returns or raises; the
    download's error is the one raised when both failed.
    """
    name = job.ctx.name
    total = int(op.get("fileSize") or 0) or None
    objects = int(op.get("objectCount") or 0) or None
    job.progress(BackfillProgress(name, "downloading", label, 0, total))
    pipe = ResultPipe()
    downloading = asyncio.ensure_future(_download(job, op, pipe))

    def ended(task: asyncio.Future[int]) -> None:
        if not task.cancelled() and task.exception() is None:
            pipe.close()
            job.progress(BackfillProgress(name, "downloading", label, task.result(), total))
        else:
            pipe.abort("the download of the result did not complete")

    downloading.add_done_callback(ended)
    staging_work = asyncio.ensure_future(_stage(job, staging, str(op["id"]), pipe, label, objects))
    try:
        await asyncio.wait({downloading, staging_work}, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in (downloading, staging_work):
            task.cancel()
        await asyncio.gather(downloading, staging_work, return_exceptions=True)
    if not downloading.cancelled() and (failure := downloading.exception()) is not None:
        raise failure
    return staging_work.result()


async def _download(job: ResultJob, op: dict[str, Any], pipe: ResultPipe) -> int:
    """`job.download` of the result, with the link asked for again when the storage refuses it.

    Cuts and resets are retried by `download` itself, resuming after what `pipe` received. A refused link
    (403/404) is asked of `bulkOperation(id:)` again and the download resumed from it, at most
    `MAX_LINK_REFRESHES` times; once the operation has no link (it expired with it, 7 days after
    completing) the result is gone and `ResultUnavailable` says so.
    """
    op_id, url = str(op["id"]), str(op["url"])
    refreshes = 0
    while True:
        try:
            return await job.download(url, pipe)
        except ResultUrlRefused as refused:
            fresh = await BulkOperations(job.client, job.ctx.name).poll_once(op_id)
            status = fresh.get("status") if fresh else None
            new_url = fresh.get("url") if fresh else None
            if refreshes >= MAX_LINK_REFRESHES or status != "COMPLETED" or not new_url:
                raise ResultUnavailable(
                    f"the result of {op_id} for {job.ctx.name} can no longer be downloaded "
                    f"(HTTP {refused.status}; the operation is {status or 'unknown to Shopify'})"
                ) from None
            refreshes += 1
            log.info("bulk result link refused; downloading from the operation's link again", source=job.ctx.name,
                     op_id=op_id, status=refused.status, same_link=new_url == url)
            url = str(new_url)


async def _stage(
    job: ResultJob, staging: StagingDb, op_id: str, source: ResultPipe, label: str, objects: int | None
) -> assemble.StageStats:
    """`stage_file` on a thread; it ends before this returns or raises, even when cancelled or stopped."""
    loop = asyncio.get_running_loop()
    name = job.ctx.name
    halt = threading.Event()

    def staged(_bytes: int, lines: int) -> None:  # on the staging thread, after every chunk read
        if halt.is_set() or job.stop_requested():
            raise _StagingStopped
        loop.call_soon_threadsafe(job.progress, BackfillProgress(name, "staging", label, lines, objects))

    work = asyncio.ensure_future(asyncio.to_thread(assemble.stage_file, staging, op_id, source, staged))
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
