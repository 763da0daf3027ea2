"""Events: inserted once per event_id, with one outbox row per destination in the same transaction."""

from __future__ import annotations

from shopify_bridge.store.db import Sql


class Events:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
