"""Reads for dashboards and commands (TUI, explain, events, reconcile, metrics): never writes."""

from __future__ import annotations

import sqlite3


class Reads:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
