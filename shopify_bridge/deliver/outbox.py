"""The outbox: which deliveries are due, in what order, and how their outcome is recorded.

Per destination, events go out in creation order, and a Received Refund waits until that
destination accepted its order's Placed Order. When the Placed Order will never be sent to it
(history, excluded before, or the destination did not exist then) the refund goes on its own;
when the Placed Order is dead, its refunds go dead with it (`placed_order_dead`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from shopify_bridge.store.schema import transaction
from shopify_bridge.timeutil import iso


@dataclass(frozen=True)
class Due:
    event_seq: int
    event_id: str
    event_name: str
    payload: str
    attempts: int


_DUE_SQL = """
SELECT d.event_seq, e.event_id, e.event_name, e.payload, d.attempts
FROM deliveries d
JOIN events e ON e.seq = d.event_seq
LEFT JOIN orders o ON e.refund_id IS NOT NULL AND o.shop = e.shop AND o.order_id = e.order_id
LEFT JOIN deliveries p ON p.event_seq = o.placed_event_seq AND p.destination = d.destination
WHERE d.destination = ? AND d.state = 'pending' AND d.next_attempt_at <= ?
  AND (e.refund_id IS NULL OR o.placed_event_seq IS NULL OR p.state IS NULL OR p.state = 'delivered')
ORDER BY d.event_seq
LIMIT ?
"""

# Starts from the (few) dead Placed Orders, not from the (many) pending deliveries.
_ORPHANED_BY_DEAD_PLACED = """
SELECT d.event_seq FROM deliveries p
CROSS JOIN orders o ON o.placed_event_seq = p.event_seq
CROSS JOIN events e ON e.shop = o.shop AND e.order_id = o.order_id AND e.refund_id IS NOT NULL
CROSS JOIN deliveries d ON d.event_seq = e.seq AND d.destination = p.destination
WHERE p.destination = ? AND p.state = 'dead' AND d.state = 'pending'
"""


def due(conn: sqlite3.Connection, destination: str, now: datetime, limit: int = 500) -> list[Due]:
    rows = conn.execute(_DUE_SQL, (destination, iso(now), limit)).fetchall()
    return [Due(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in rows]


def bury_refunds_of_dead_orders(conn: sqlite3.Connection, destination: str, now: datetime) -> int:
    seqs = [r[0] for r in conn.execute(_ORPHANED_BY_DEAD_PLACED, (destination,)).fetchall()]
    if not seqs:
        return 0
    with transaction(conn):
        conn.executemany(
            "UPDATE deliveries SET state = 'dead', last_error = 'placed_order_dead', next_attempt_at = NULL "
            "WHERE event_seq = ? AND destination = ? AND state = 'pending'",
            [(seq, destination) for seq in seqs],
        )
    return len(seqs)


def mark_in_flight(conn: sqlite3.Connection, destination: str, seqs: list[int]) -> None:
    """Before sending: the rows are visibly in flight; a crash leaves them so until `recover_in_flight`."""
    with transaction(conn):
        conn.executemany(
            "UPDATE deliveries SET state = 'in_flight' WHERE event_seq = ? AND destination = ? AND state = 'pending'",
            [(seq, destination) for seq in seqs],
        )


def recover_in_flight(conn: sqlite3.Connection, now: datetime) -> int:
    """At start-up: whatever was in flight when the process died is sent again (at-least-once)."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ? WHERE state = 'in_flight'",
            (iso(now),),
        )
    return cur.rowcount


def mark_delivered(
    conn: sqlite3.Connection, destination: str, seqs: list[int], now: datetime, status: int | None = None
) -> None:
    with transaction(conn):
        conn.executemany(
            "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, last_status = ?, "
            "last_error = NULL, next_attempt_at = NULL WHERE event_seq = ? AND destination = ?",
            [(iso(now), status, seq, destination) for seq in seqs],
        )


def mark_retry(
    conn: sqlite3.Connection, destination: str, seq: int, next_at: datetime, error: str, status: int | None
) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE deliveries SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ?, "
            "last_status = ? "
            "WHERE event_seq = ? AND destination = ?",
            (iso(next_at), error[:500], status, seq, destination),
        )


def mark_dead(conn: sqlite3.Connection, destination: str, seq: int, error: str, status: int | None) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, next_attempt_at = NULL, last_error = ?, "
            "last_status = ? WHERE event_seq = ? AND destination = ?",
            (error[:500], status, seq, destination),
        )


def requeue(conn: sqlite3.Connection, destination: str, seqs: list[int], now: datetime) -> int:
    """Put deliveries back to pending (replay); same event, same event_id."""
    with transaction(conn):
        cur = conn.executemany(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, last_error = NULL "
            "WHERE event_seq = ? AND destination = ?",
            [(iso(now), seq, destination) for seq in seqs],
        )
    return cur.rowcount


def counts(conn: sqlite3.Connection) -> dict[tuple[str, str], int]:
    rows = conn.execute("SELECT destination, state, COUNT(*) FROM deliveries GROUP BY destination, state").fetchall()
    return {(str(d), str(s)): int(n) for d, s, n in rows}
