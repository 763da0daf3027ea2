"""Refunds of orders: what was seen, their details and settling state."""

from __future__ import annotations

import sqlite3


class Refunds:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
