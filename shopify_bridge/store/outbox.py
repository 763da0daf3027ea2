"""The outbox (deliveries): what is due per destination, claims, outcomes, requeue."""

from __future__ import annotations

import sqlite3


class Outbox:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
