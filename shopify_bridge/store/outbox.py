"""The outbox (deliveries): what is due per destination, claims, outcomes, requeue."""

from __future__ import annotations

from shopify_bridge.store.db import Sql


class Outbox:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
