"""The sources table: identity, first connection, cursor, state, shop facts, bucket, backfill state and progress."""

from __future__ import annotations

from shopify_bridge.store.db import Sql


class Sources:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
