"""Reads for dashboards and commands (TUI, explain, events, reconcile, demo): never writes.

One object per reader family, all on the same connection: `dashboard` (the TUI's snapshot and detail
views), `orders` (explain, reconcile, totals) and `event_log` (`events` and what `replay` picks).
The metrics collector reads on a connection of its own (`reads_metrics.StoreScraper`).
"""

from __future__ import annotations

from shopify_bridge.store.reads_dashboard import DashboardReads
from shopify_bridge.store.reads_events import EventLogReads
from shopify_bridge.store.reads_orders import OrderReads
from shopify_bridge.store.sql import Sql


class Reads:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self.dashboard = DashboardReads(sql)
        self.orders = OrderReads(sql)
        self.event_log = EventLogReads(sql)
