"""Bulk query operations: `bulkOperationRunQuery`, `bulkOperationCancel` and their lifecycle on the clock.

`bulkOperationRunQuery` answers CREATED at once (notes §1.1, the recorded run payload) with the operation
*planned* over the orders the search index shows at that moment (a snapshot, `bulk_run`); the result file is
then *written* while the operation runs, as Shopify writes it: CREATED for `start_delay_seconds`, RUNNING with
`objectCount` / `rootObjectCount` counting the objects written, at most `objects_per_second`, then COMPLETED
with `completedAt` = the moment the last object was written (not the moment somebody polled) and a signed URL
on the simulator (`bulk_files`). Every read of `state.bulk_operations` (`bulkOperation(id:)`, `node(id:)`,
`bulkOperations`, `currentBulkOperation`) first brings the operations up to the clock, writing at most
`SYNC_WRITE_LINES` lines of what the clock allows, so a ManualClock drives the whole lifecycle and no request
waits long. When the simulator serves HTTP, a background task also writes ahead of the clock, a batch at a
time between requests, so that a large file is ready by the time the clock allows it; an operation whose file
is not written when the clock would end it stays RUNNING until it is (its `completedAt` is then that moment).

Concurrency as captured: from API 2026-01 up to 5 query operations may be CREATED / RUNNING / CANCELING at
once, before 2026-01 only 1; the next run gets OPERATION_IN_PROGRESS listing the running ids. A client's
cancel answers CANCELING and the operation stays CANCELING (still holding its slot) until a later request
polls it, which sees CANCELED. A COMPLETED operation turns EXPIRED when its URL expires, 7 days on.

Fault kinds (`state.inject("bulk_timeout")`, or `POST /_sim/faults`), each spent by the next operation:
`bulk_timeout` / `bulk_internal_error` (FAILED halfway, `partialDataUrl` → the lines written so far),
`bulk_access_denied` (FAILED at once), `bulk_canceled` (CANCELED by Shopify halfway), `bulk_expired`,
`bulk_no_url` (COMPLETED, `url: null`), `bulk_truncated` (COMPLETED, the file's last line cut; `fileSize`
still the size of the whole file); and, spent by the next run, `bulk_in_progress` / `bulk_limit_reached`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from graphql import GraphQLSchema

from shopify_bridge.simulator.bulk_files import URL_LIFETIME_SECONDS, BulkFiles
from shopify_bridge.simulator.bulk_rules import BulkQueryInvalid, check_bulk_query
from shopify_bridge.simulator.bulk_run import BulkOutput, plan_bulk_query
from shopify_bridge.simulator.clock import wire_time
from shopify_bridge.simulator.faults import BULK_OUTCOME_FAULTS, BULK_RUN_FAULTS
from shopify_bridge.simulator.orders import Doc, gid
from shopify_bridge.simulator.resolvers import parse_gid
from shopify_bridge.simulator.schema import simulator_schema
from shopify_bridge.simulator.state import ShopState

if TYPE_CHECKING:
    from aiohttp import web


ACTIVE = ("CREATED", "RUNNING", "CANCELING")
FIVE_AT_ONCE_FROM = "2026-01"
IN_PROGRESS = "A bulk query operation for this app and shop is already in progress: {ids}."
LIMIT_REACHED = "Bulk operations limit reached. Please try again later."  # the enum's description
DOES_NOT_EXIST = "Bulk operation does not exist"
NOT_CANCELABLE = "A bulk operation cannot be canceled when it is {status}"
# Lines one request may write to catch an operation up with the clock, and lines the background task writes
# before it lets requests run again (a line takes ~0.2 ms).
SYNC_WRITE_LINES = 2_000
BACKGROUND_WRITE_LINES = 500
# How far an operation gets before a fault ends it (a fraction of its objects), and how it ends.
FAULT_ENDINGS: dict[str | None, tuple[float, str, str | None]] = {
    None: (1.0, "COMPLETED", None),
    "bulk_truncated": (1.0, "COMPLETED", None),
    "bulk_no_url": (1.0, "COMPLETED", None),
    "bulk_expired": (1.0, "EXPIRED", None),
    "bulk_timeout": (0.5, "FAILED", "TIMEOUT"),
    "bulk_internal_error": (0.5, "FAILED", "INTERNAL_SERVER_ERROR"),
    "bulk_canceled": (0.5, "CANCELED", None),
    "bulk_access_denied": (0.0, "FAILED", "ACCESS_DENIED"),
}


@dataclass
class BulkJob:
    doc: Doc  # what the API serves (also held in state.bulk_operations)
    output: BulkOutput
    created: datetime
    fault: str | None = None
    behind: bool = False  # a read found fewer objects written than the clock allowed
    written_at: datetime | None = None  # when the background task wrote the last object
    cancel_request: int | None = None  # serial of the request that asked to cancel
    url_path: str | None = None
    partial_path: str | None = None
    url_expires: int | None = None

    @property
    def last(self) -> int:
        """The objects written before the operation ends: all of them, or a fault's share (plans the file)."""
        return int(self.output.objects * FAULT_ENDINGS[self.fault][0])


class ObservedOperations(dict[str, Doc]):
    """`state.bulk_operations`: reading it first brings every operation up to the clock (a poll)."""

    def __init__(self, engine: BulkEngine) -> None:
        super().__init__()
        self._engine = engine

    def get(self, key: str, default: Any = None) -> Any:
        self._engine.observe()
        return super().get(key, default)

    def __getitem__(self, key: str) -> Doc:
        self._engine.observe()
        return super().__getitem__(key)

    def values(self) -> Any:
        self._engine.observe()
        return super().values()


def _user_error(message: str, code: str | None, field: list[str] | None = None) -> Doc:
    return {"field": field, "message": message, "code": code}


class BulkEngine:
    def __init__(
        self, state: ShopState, *, objects_per_second: float = 1000.0, start_delay_seconds: float = 0.5
    ) -> None:
        self.state = state
        self.objects_per_second = objects_per_second
        self.start_delay_seconds = start_delay_seconds
        self.schema: GraphQLSchema = simulator_schema()  # what bulk queries are validated against
        self.files = BulkFiles(state.clock, state.faults, state.options.bulk_honours_range)
        self.api_version = state.api_versions[-1]
        self.origin = "http://127.0.0.1"
        self.request_serial = 0
        self.jobs: dict[str, BulkJob] = {}
        self._writer: asyncio.Task[None] | None = None
        state.bulk_operations = ObservedOperations(self)
        state.mutation_handlers["bulkOperationRunQuery"] = self.run_query
        state.mutation_handlers["bulkOperationCancel"] = self.cancel

    def add_routes(self, app: web.Application) -> None:
        self.files.add_routes(app)
        app.on_cleanup.append(self._stop_writer)

    def begin_request(self, api_version: str, origin: str) -> None:
        """The HTTP layer's notice of a new GraphQL request: its served version and the simulator's origin."""
        self.request_serial += 1
        self.api_version = api_version
        self.origin = origin.rstrip("/")

    # -- mutations ------------------------------------------------------------------------------
    def run_query(self, state: ShopState, query: str, groupObjects: bool = False) -> Doc:
        self.refresh()
        try:
            document, _ = check_bulk_query(query, self.schema)
        except BulkQueryInvalid as exc:
            return {
                "bulkOperation": None,
                "userErrors": [_user_error(m, "INVALID", ["query"]) for m in exc.messages],
            }
        refusal = state.faults.take_bulk(BULK_RUN_FAULTS)
        running = [op_id for op_id, job in self.jobs.items() if job.doc["status"] in ACTIVE]
        if refusal is not None and refusal.kind == "bulk_limit_reached":
            return {"bulkOperation": None, "userErrors": [_user_error(LIMIT_REACHED, "LIMIT_REACHED")]}
        if refusal is not None:
            # Held by another process of this app that the simulator does not show.
            running = running or [gid("BulkOperation", state.ids.next("BulkOperation"))]
        if refusal is not None or len(running) >= (5 if self.api_version >= FIVE_AT_ONCE_FROM else 1):
            message = IN_PROGRESS.format(ids=", ".join(running))
            return {"bulkOperation": None, "userErrors": [_user_error(message, "OPERATION_IN_PROGRESS")]}
        outcome = state.faults.take_bulk(BULK_OUTCOME_FAULTS)
        number = state.ids.next("BulkOperation")
        now = state.now()
        op_id = gid("BulkOperation", number)
        doc: Doc = {
            "__typename": "BulkOperation",
            "id": op_id,
            "status": "CREATED",
            "type": "QUERY",
            "errorCode": None,
            "createdAt": wire_time(now),
            "completedAt": None,
            "objectCount": "0",
            "rootObjectCount": "0",
            "fileSize": None,
            "url": None,
            "partialDataUrl": None,
            "query": query,
        }
        output = plan_bulk_query(state, document, now, grouped=groupObjects, seed=number)
        self.jobs[op_id] = BulkJob(doc, output, now, outcome.kind if outcome else None)
        state.bulk_operations[op_id] = doc
        self._start_writer()
        return {"bulkOperation": doc, "userErrors": []}

    def cancel(self, state: ShopState, id: str) -> Doc:
        parse_gid(id)
        self.refresh()
        job = self.jobs.get(id)
        if job is None:
            return {"bulkOperation": None, "userErrors": [{"field": ["id"], "message": DOES_NOT_EXIST}]}
        status = job.doc["status"]
        if status in ("CREATED", "RUNNING"):
            job.doc["status"] = "CANCELING"
            job.cancel_request = self.request_serial
        elif status != "CANCELING":
            message = NOT_CANCELABLE.format(status=status.lower())
            return {"bulkOperation": job.doc, "userErrors": [{"field": None, "message": message}]}
        return {"bulkOperation": job.doc, "userErrors": []}

    # -- lifecycle ------------------------------------------------------------------------------
    def observe(self) -> None:
        """A poll: the clock's progress, and cancels requested by an earlier request become CANCELED."""
        self.refresh()
        for job in self.jobs.values():
            if job.doc["status"] == "CANCELING" and (job.cancel_request or 0) < self.request_serial:
                job.doc["status"] = "CANCELED"

    def refresh(self) -> None:
        now = self.state.now()
        for job in self.jobs.values():
            self._advance(job, now)
            job.doc["url"] = self.origin + job.url_path if job.url_path else None
            job.doc["partialDataUrl"] = self.origin + job.partial_path if job.partial_path else None

    def _advance(self, job: BulkJob, now: datetime) -> None:
        doc, output = job.doc, job.output
        if doc["status"] == "COMPLETED" and job.url_expires is not None and now.timestamp() > job.url_expires:
            doc["status"] = "EXPIRED"
        if doc["status"] not in ("CREATED", "RUNNING"):
            return
        started = job.created + timedelta(seconds=self.start_delay_seconds)
        if now < started:
            return
        last = job.last
        ends = started + timedelta(seconds=last / self.objects_per_second)
        allowed = last if now >= ends else min(last, int((now - started).total_seconds() * self.objects_per_second))
        output.write(min(allowed, output.written + SYNC_WRITE_LINES))
        if output.written < allowed:
            job.behind = True
        if output.written >= last:
            # Written in step with the clock, the operation ends when the clock says; else when it was written.
            finished = max(ends, job.written_at or now) if job.behind else ends
            if now >= finished:
                self._finish(job, finished, last)
                return
        doc["status"] = "RUNNING"
        self._count(job, min(allowed, output.written))

    def _count(self, job: BulkJob, objects: int) -> None:
        job.doc["objectCount"] = str(objects)
        job.doc["rootObjectCount"] = str(job.output.roots(objects))

    def _finish(self, job: BulkJob, at: datetime, objects: int) -> None:
        doc, output = job.doc, job.output
        _, status, error_code = FAULT_ENDINGS[job.fault]
        self._count(job, objects)
        doc.update(status=status, errorCode=error_code)
        expires = int(at.timestamp()) + URL_LIFETIME_SECONDS
        number = doc["id"].rsplit("/", 1)[-1]
        if status == "FAILED" and objects:
            job.partial_path = self.files.publish(
                f"bulk-{number}-partial.jsonl", output.content(objects), expires
            )
        if status in ("COMPLETED", "EXPIRED"):
            doc["completedAt"] = wire_time(at)
        if status != "COMPLETED" or job.fault == "bulk_no_url" or not objects:
            return
        whole = output.content()
        content = (
            whole[: len(whole) - 1 - len(output.lines[-1]) // 2] if job.fault == "bulk_truncated" else whole
        )
        job.url_path = self.files.publish(f"bulk-{number}.jsonl", content, expires)
        job.url_expires = expires
        doc["fileSize"] = str(len(whole))

    # -- writing ahead ---------------------------------------------------------------------------
    def _start_writer(self) -> None:
        """Write result files in the background while an event loop runs (the HTTP server); else reads do."""
        if self._writer is not None and not self._writer.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._writer = loop.create_task(self._write_ahead())

    async def _write_ahead(self) -> None:
        while True:
            job = next((j for j in self.jobs.values() if j.doc["status"] in ("CREATED", "RUNNING")
                        and j.output.written < j.last), None)
            if job is None:
                return
            job.output.write(min(job.last, job.output.written + BACKGROUND_WRITE_LINES))
            if job.output.written >= job.last:
                job.written_at = self.state.now()
            await asyncio.sleep(0)  # requests run between batches

    async def _stop_writer(self, _app: web.Application) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def operations(self) -> list[Doc]:
        """Every operation, oldest first, as the API would show it now (the control API's listing)."""
        self.refresh()
        return [job.doc for job in self.jobs.values()]
