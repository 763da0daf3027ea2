"""Reads for dashboards and commands (TUI, explain, events, reconcile, demo): never writes.

One object per reader family, all on the same connection: `dashboard` (the TUI's snapshot and detail
views), `orders` (explain, reconcile, totals) and `event_log` (`events` and what `replay` picks).
The metrics collector reads on a connection of its own (`reads_metrics.StoreScraper`).

Each family is imported when first used: every process opens a store, but only the dashboard needs the
dashboard's modules (~10 ms of start-up for `run`, which never shows one).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from shopify_bridge.store.sql import Sql

if TYPE_CHECKING:
    from shopify_bridge.store.reads_dashboard import DashboardReads
    from shopify_bridge.store.reads_events import EventLogReads
    from shopify_bridge.store.reads_orders import OrderReads


class Reads:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    @cached_property
    def dashboard(self) -> DashboardReads:
        from shopify_bridge.store.reads_dashboard import DashboardReads

        return DashboardReads(self.sql)

    @cached_property
    def orders(self) -> OrderReads:
        from shopify_bridge.store.reads_orders import OrderReads

        return OrderReads(self.sql)

    @cached_property
    def event_log(self) -> EventLogReads:
        from shopify_bridge.store.reads_events import EventLogReads

        return EventLogReads(self.sql)
