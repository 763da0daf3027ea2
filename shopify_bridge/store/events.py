"""Events: inserted once per event_id, with one outbox row per destination in the same transaction."""

from __future__ import annotations

import sqlite3


class Events:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
