"""Reads for dashboards and commands (TUI, explain, events, reconcile, demo): never writes.

One object per reader family, all on the same connection: `dashboard` (the TUI's snapshot and detail
views), `orders` (explain, reconcile, totals) and `event_log` (`events` and what `replay` picks).
The metrics collector reads on a connection of its own (`reads_metrics.StoreScraper`).
"""

from __future__ import annotations

import sqlite3

from shopify_bridge.store.reads_dashboard import DashboardReads
from shopify_bridge.store.reads_events import EventLogReads
from shopify_bridge.store.reads_orders import OrderReads


class Reads:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.dashboard = DashboardReads(conn)
        self.orders = OrderReads(conn)
        self.event_log = EventLogReads(conn)
