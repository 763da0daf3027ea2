"""Orders and their versions: the newest version's hash, new versions, status, holds, decisions."""

from __future__ import annotations

import sqlite3


class Orders:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
