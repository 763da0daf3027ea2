"""One bulk operation's life at Shopify: run the query, wait for it to finish, cancel a leftover.

`BulkOperations` only talks to Shopify and answers with the operation as Shopify describes it (`id`,
`status`, `errorCode`, `url`, `objectCount`, `fileSize`, …); what to do with an outcome (split, retry,
ingest) is the backfill's. Waits go through the injected `sleep`, and `check_stop` is called after each
one, so a stopping bridge leaves between steps.

- run: `OPERATION_IN_PROGRESS` / `LIMIT_REACHED` (the app's bulk slot is busy) waits and asks again, up
  to `MAX_BUSY_WAITS` times; any other user error is a bug in our query (`ShopifyBulkBug`).
- wait: polls `bulkOperation(id:)` with a backoff from `POLL_MIN_SECONDS` doubling to `POLL_MAX_SECONDS`
  while CREATED / RUNNING / CANCELING; an operation Shopify no longer knows is answered as EXPIRED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from shopify_bridge.errors import BridgeError, TemporaryFailure
from shopify_bridge.observe.log import get_logger
from shopify_bridge.shopify.bulk.query import BULK_CANCEL, BULK_OPERATION, BULK_RUN_QUERY, bulk_orders_query
from shopify_bridge.shopify.new_customer import Executes

log = get_logger(component="backfill")

POLL_MIN_SECONDS = 1.0
POLL_MAX_SECONDS = 30.0
BUSY_RETRY_SECONDS = 30.0
MAX_BUSY_WAITS = 40
UNFINISHED = ("CREATED", "RUNNING", "CANCELING")

Operation = dict[str, Any]


class ShopifyBulkBug(BridgeError):
    exit_code = 1


def _no_stop() -> None:
    return None


class BulkOperations:
    def __init__(
        self,
        client: Executes,
        source_name: str,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        check_stop: Callable[[], None] = _no_stop,
    ) -> None:
        self.client = client
        self.source_name = source_name
        self.sleep = sleep
        self.check_stop = check_stop

    async def start(self, start: datetime, end: datetime) -> Operation:
        """Run the orders bulk query for `[start, end)`; the created operation."""
        return await self.run_query(bulk_orders_query(start, end))

    async def run_query(self, document: str) -> Operation:
        """Run a bulk query document; the created operation."""
        for _ in range(MAX_BUSY_WAITS):
            data = await self.client.execute(BULK_RUN_QUERY, {"query": document})
            payload = data.get("bulkOperationRunQuery") or {}
            errors = payload.get("userErrors") or []
            if payload.get("bulkOperation") and not errors:
                return dict(payload["bulkOperation"])
            codes = {e.get("code") for e in errors}
            if codes & {"OPERATION_IN_PROGRESS", "LIMIT_REACHED"}:
                log.info(
                    "bulk operation slot busy; waiting",
                    source=self.source_name,
                    blocking=errors[0].get("message"),
                )
                await self.sleep(BUSY_RETRY_SECONDS)
                self.check_stop()
                continue
            raise ShopifyBulkBug(
                f"Shopify refused the backfill query for {self.source_name}: "
                + "; ".join(str(e.get("message")) for e in errors)
            )
        raise TemporaryFailure(f"no bulk operation slot free for {self.source_name} after {MAX_BUSY_WAITS} waits")

    async def poll_once(self, op_id: str) -> Operation | None:
        """The operation as Shopify describes it now; None when Shopify does not know it (any more)."""
        data = await self.client.execute(BULK_OPERATION, {"id": op_id})
        op = data.get("bulkOperation")
        return dict(op) if op else None

    async def wait(
        self, op_id: str, op: Operation | None, on_running: Callable[[Operation], None] = lambda op: None
    ) -> Operation:
        """Poll until the operation is finished (COMPLETED, FAILED, CANCELED, EXPIRED); `on_running` sees
        each unfinished answer before the wait that follows it."""
        delay = POLL_MIN_SECONDS
        while op is None or op["status"] in UNFINISHED:
            if op is not None:
                on_running(op)
                await self.sleep(delay)
                self.check_stop()
                delay = min(POLL_MAX_SECONDS, delay * 2)
            op = await self.poll_once(op_id)
            if op is None:
                return {"id": op_id, "status": "EXPIRED", "errorCode": None}
        return op

    async def cancel(self, op_id: str) -> None:
        """Ask Shopify to cancel an operation of ours; a refusal is only logged (it expires anyway)."""
        try:
            await self.client.execute(BULK_CANCEL, {"id": op_id})
        except BridgeError as exc:
            log.warning("could not cancel a leftover bulk operation", source=self.source_name, error=str(exc))
