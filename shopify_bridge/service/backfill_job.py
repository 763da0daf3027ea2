"""What taking one bulk result in needs from the backfill that ran the operation, and how a stop ends it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from msgspec import Struct

from shopify_bridge.decide import lifecycle
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.observe.backfill_progress import ProgressCallback
from shopify_bridge.shopify import new_customer
from shopify_bridge.shopify.bulk.download import ResultSink
from shopify_bridge.store import Store
from shopify_bridge.timeutil import Clock


class BackfillStopped(Exception):
    """A stop was requested while the backfill ran; its state lets the next start resume it."""

    @classmethod
    def of(cls, source_name: str) -> BackfillStopped:
        return cls(f"backfill of {source_name} stopped; the next start resumes it")


class ResultJob(Struct, frozen=True):
    """What taking one bulk result in needs from the backfill that ran the operation."""

    ctx: SourceContext
    store: Store
    client: new_customer.Executes  # `$is_new_customer` lookups for forwarded history
    clock: Clock
    data_dir: Path  # where the result and its staging database are kept while they are read
    progress: ProgressCallback
    download: Callable[[str, ResultSink], Awaitable[int]]  # the result into a sink, resuming after its bytes
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
