"""The outbox (deliveries): what is due per destination, claims, outcomes, requeue."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from shopify_bridge.store.schema import transaction
from shopify_bridge.timeutil import iso


class Outbox:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def requeue(self, destination: str, event_seqs: list[int], now: datetime, *, reset_attempts: bool = True) -> int:
        """Put these deliveries back to pending, due `now` (replay: same event, same event_id); returns how many.

        `reset_attempts` restarts the retry budget, as a replay does: a dead delivery comes back with a
        full set of attempts instead of dying again on its next failure.
        """
        attempts = ", attempts = 0" if reset_attempts else ""
        with transaction(self.conn):
            cur = self.conn.executemany(
                f"UPDATE deliveries SET state = 'pending', next_attempt_at = ?, last_error = NULL{attempts} "
                "WHERE event_seq = ? AND destination = ?",
                [(iso(now), seq, destination) for seq in event_seqs],
            )
        return cur.rowcount
