"""Bulk-operation backfill from `start_date`: resumable, streaming, and handed over without a gap.

The backfill takes a snapshot of every order processed in `[start_date, snapshot)`, where
`snapshot` is the moment the backfill began (persisted before anything is sent). Incremental
polling then starts its `updated_at` cursor at `snapshot`: an order processed before it is in the
snapshot, an order processed after it has `updatedAt >= processedAt >= snapshot` and is polled,
and an order in both is stored once per distinct content. The bulk operation searches Shopify's lagging
index, so an order updated shortly before `snapshot` but not yet searchable then is in neither; the
poller's sweep reaches back before `snapshot` for it (`decide.windows.sweep_floor`).
Re-running over the same range creates no second event (events are unique per event_id).

Lifecycle per window (all state in `sources.backfill_state`, written before the next step):
run → (OPERATION_IN_PROGRESS/LIMIT_REACHED: wait and retry) → poll `bulkOperation(id:)` with capped
backoff → COMPLETED (url null: empty window) → download (no Shopify token; streamed to disk; a cut or
reset resumed, a refused link asked for again; after every retry the cycle fails and the next one
downloads the same operation's result again) → stage (order-independent, flat memory) → ingest in
batches → window done. A truncated file or a result whose link expired runs the window again. FAILED
TIMEOUT splits the window in two; FAILED INTERNAL_SERVER_ERROR retries the window and never trusts
`partialDataUrl`; ACCESS_DENIED names the missing scope (exit 77); CANCELED/EXPIRED run the window
again. A restart resumes the operation recorded in the state instead of starting another, and so does the
next start after a stop, which the backfill honours between its steps (`BackfillStopped`). Running,
polling and cancelling an operation at Shopify is `shopify.bulk.operation`, downloading its result
`shopify.bulk.download`; downloading and staging a result are in `backfill_result`, ingesting the staged
orders `backfill_ingest`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.errors import AuthError, BridgeError, TemporaryFailure
from shopify_bridge.observe.backfill_progress import BackfillProgress, ProgressCallback
from shopify_bridge.observe.log import get_logger
from shopify_bridge.service import backfill_customers, backfill_result
from shopify_bridge.service.backfill_job import BackfillStopped, ResultJob
from shopify_bridge.shopify import queries
from shopify_bridge.shopify.bulk.download import DownloadFailed, ResultSink
from shopify_bridge.shopify.bulk.download import download as download_result
from shopify_bridge.shopify.bulk.operation import BulkOperations
from shopify_bridge.shopify.new_customer import Executes
from shopify_bridge.shopify.scopes import ALL_ORDERS_SCOPE, granted_scopes, is_granted, missing_scopes
from shopify_bridge.store import Store
from shopify_bridge.store.sources import BackfillState
from shopify_bridge.timeutil import Clock, iso, parse_ts

log = get_logger(component="backfill")

MAX_WINDOW_RETRIES = 5
MIN_WINDOW = timedelta(hours=1)


class Backfill:
    def __init__(
        self,
        ctx: SourceContext,
        client: Executes,
        store: Store,
        *,
        clock: Clock,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        data_dir: Path,
        progress: ProgressCallback | None = None,
        download: Callable[[str, ResultSink], Awaitable[int]] | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.store = store
        self.clock = clock
        self.sleep = sleep
        self.data_dir = data_dir
        self.progress = progress or (lambda p: None)
        # Retries of a cut download wait through `sleep` too (the simulator's clock in tests).
        self.download = download or functools.partial(download_result, sleep=sleep)
        self.stop = stop

    def stop_requested(self) -> bool:
        """Whether the bridge is stopping (safe to ask from the staging thread: it only reads a flag)."""
        return self.stop is not None and self.stop.is_set()

    def check_stop(self) -> None:
        """Raise `BackfillStopped` when the bridge is stopping; the saved state resumes the backfill."""
        if self.stop_requested():
            raise BackfillStopped.of(self.ctx.name)

    def _operations(self) -> BulkOperations:
        return BulkOperations(self.client, self.ctx.name, sleep=self.sleep, check_stop=self.check_stop)

    def _result_job(self) -> ResultJob:
        return ResultJob(self.ctx, self.store, self.client, self.clock, self.data_dir, self.progress, self.download,
                         self.stop_requested)

    # -- state --------------------------------------------------------------------------------
    def _initial_state(self, start: datetime) -> BackfillState:
        snapshot = self.clock()
        return {
            "status": "running",
            "start": iso(start),
            "snapshot": iso(snapshot),
            "windows": [[iso(start), iso(snapshot)]],
            "op_id": None,
            "retries": 0,
            "orders": 0,
        }

    def _save(self, state: BackfillState) -> None:
        self.store.sources.save_backfill_state(self.ctx.shop, state)

    async def run(self, start: datetime) -> BackfillState:
        """Backfill `[start, snapshot)`; returns the final state. Idempotent and resumable."""
        state = self.store.sources.backfill_state(self.ctx.shop)
        if state is None or state.get("start") != iso(start):
            if state and (leftover := state.get("op_id")):
                await self._operations().cancel(leftover)  # a leftover of ours for another range
            state = self._initial_state(start)
            self._save(state)
        if state["status"] == "complete":
            return state
        first_connected = self._first_connected(state)
        if self.ctx.forward_history and self.store.sources.first_connected_at(self.ctx.shop) is None:
            # Forwarded history needs `$is_new_customer`: one more bulk operation, before any window's ingest.
            await backfill_customers.index_earlier_orders(
                self.ctx, self.store, self._operations(), self.download, self.data_dir, state["snapshot"]
            )
        while state["windows"]:
            self.check_stop()
            window = state["windows"][0]
            outcome = await self._window(state, window)
            if outcome == "split":
                lo, hi = parse_ts(window[0]), parse_ts(window[1])
                mid = lo + (hi - lo) / 2
                state["windows"][0:1] = [[iso(lo), iso(mid)], [iso(mid), iso(hi)]]
            elif outcome == "retry":
                state["retries"] = state.get("retries", 0) + 1
                if state["retries"] > MAX_WINDOW_RETRIES:
                    self._save(state)
                    raise TemporaryFailure(
                        f"backfill of {self.ctx.name} failed {state['retries']} times "
                        f"on window {window[0]}..{window[1]}"
                    )
            else:
                assert outcome == "done"
                state["windows"].pop(0)
                state["retries"] = 0
            state["op_id"] = None
            self._save(state)
        self.store.sources.complete_backfill(self.ctx.shop, state, first_connected)
        self.progress(
            BackfillProgress(
                self.ctx.name,
                "done",
                f"{state['start']}..{state['snapshot']}",
                state["orders"],
                state["orders"],
            )
        )
        log.info("backfill complete", source=self.ctx.name, orders=state["orders"])
        return state

    def _first_connected(self, state: BackfillState) -> str:
        return self.store.sources.first_connected_at(self.ctx.shop) or state["snapshot"]

    # -- one window ---------------------------------------------------------------------------
    async def _window(self, state: BackfillState, window: list[str]) -> str:
        label = f"{window[0]}..{window[1]}"
        operations = self._operations()
        op = None
        op_id = state.get("op_id")
        if op_id:
            op = await operations.poll_once(op_id)
            if op is None:
                op_id = state["op_id"] = None
        if not op_id:
            op = await operations.start(parse_ts(window[0]), parse_ts(window[1]))
            op_id = state["op_id"] = str(op["id"])
            self._save(state)  # persisted before polling: a restart resumes it

        def running(op: dict[str, Any]) -> None:
            self.progress(BackfillProgress(self.ctx.name, "running", label, int(op.get("objectCount") or 0)))

        op = await operations.wait(op_id, op, running)
        status, error = op["status"], op.get("errorCode")
        if status == "COMPLETED":
            if not op.get("url"):
                log.info("bulk window empty", source=self.ctx.name, window=label)
                return "done"
            try:
                state["orders"] += await backfill_result.ingest_result(self._result_job(), op, window, label)
            except DownloadFailed:
                raise  # the result is still at Shopify: the next cycle downloads it again, same operation
            except TemporaryFailure as exc:
                # A cut or unreadable result, or one whose link expired: a new operation.
                log.warning(
                    "bulk result unusable; running the window again", source=self.ctx.name, window=label, error=str(exc)
                )
                return "retry"
            return "done"
        if status == "FAILED" and error == "ACCESS_DENIED":
            raise await self._access_denied()
        if status == "FAILED" and error == "TIMEOUT":
            lo, hi = parse_ts(window[0]), parse_ts(window[1])
            if hi - lo <= MIN_WINDOW:
                return "retry"
            log.warning("bulk operation timed out; splitting the window", source=self.ctx.name, window=label)
            return "split"
        # INTERNAL_SERVER_ERROR (partial data is never trusted), CANCELED, EXPIRED, anything else.
        log.warning(
            "bulk operation did not complete; running the window again",
            source=self.ctx.name,
            window=label,
            status=status,
            error_code=error,
        )
        return "retry"

    async def _access_denied(self) -> BridgeError:
        try:
            data = await self.client.execute(queries.SHOP_INFO)
            granted = granted_scopes(data)
            # The backfill may reach past 60 days: read_all_orders is suspect even when start_date is recent.
            missing = missing_scopes(granted, None, self.clock().date())
            if not is_granted(granted, ALL_ORDERS_SCOPE):
                missing.append(ALL_ORDERS_SCOPE)
            missing = missing or [ALL_ORDERS_SCOPE]
        except BridgeError:
            missing = ["read_orders", ALL_ORDERS_SCOPE]
        return AuthError(
            f"backfill of {self.ctx.name} denied by Shopify (ACCESS_DENIED): missing scope {', '.join(missing)}"
        )
