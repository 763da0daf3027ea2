"""Orders and their versions: the newest version's hash, new versions, status, holds, decisions."""

from __future__ import annotations

from shopify_bridge.store.db import Sql


class Orders:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
