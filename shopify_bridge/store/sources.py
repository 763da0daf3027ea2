"""The sources table: identity, first connection, cursor, state, shop facts, bucket, backfill state and progress."""

from __future__ import annotations

import sqlite3


class Sources:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
