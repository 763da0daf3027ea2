"""Transitional: the outbox calls on a bare connection, for the callers not yet on `Store.outbox`.

The outbox is `shopify_bridge.store.outbox.Outbox` (reach it as `Store.outbox`); these functions only
delegate to it. They remain while `service/actions.py` (`requeue`), `tests/core/test_event_log.py`
(`due`, `mark_dead`) and `tests/ops/test_metrics_parts.py` (`mark_dead`) still call them; delete this
module once they use `Store.outbox`.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from shopify_bridge.store.db import Sql
from shopify_bridge.store.outbox import Due, Outbox

__all__ = ["Due", "due", "mark_dead", "requeue"]


def _outbox(conn: sqlite3.Connection) -> Outbox:
    return Outbox(Sql(conn))


def due(conn: sqlite3.Connection, destination: str, now: datetime, limit: int = 500) -> list[Due]:
    return _outbox(conn).due(destination, now, limit)


def mark_dead(conn: sqlite3.Connection, destination: str, seq: int, error: str, status: int | None) -> None:
    _outbox(conn).mark_dead(destination, seq, error, status)


def requeue(conn: sqlite3.Connection, destination: str, seqs: list[int], now: datetime) -> int:
    """`Outbox.requeue` with its default: the attempts restart, as a replay's do."""
    return _outbox(conn).requeue(destination, seqs, now)
