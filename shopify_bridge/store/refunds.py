"""Refunds of orders: what was seen, their details and settling state."""

from __future__ import annotations

from shopify_bridge.store.db import Sql


class Refunds:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql
