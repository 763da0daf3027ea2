"""The outbox (deliveries): what is due per destination, claims, outcomes, requeue.

Per destination, events go out in creation order, and a Received Refund waits until that
destination accepted its order's Placed Order. When the Placed Order will never be sent to it
(history, excluded before, the destination did not exist then, or the destination keeps it out:
`filtered` / `skipped`) the refund goes on its own; when the Placed Order is dead, its refunds go dead
with it (`placed_order_dead`).

A delivery is `pending` → `in_flight` (claimed before sending) → `delivered` | `pending` again (retry)
| `dead`, or `filtered` / `skipped` (with its `reason`) when the destination does not take it — at
creation, or when its rules are applied again before sending; `requeue` puts any of them back to
`pending`. Each method is one transaction of its own, or part of the caller's (`Store.transaction()`).

`claim` reads what is due and marks it in flight, with this worker's name, in one transaction; on
PostgreSQL the rows read are locked `FOR UPDATE SKIP LOCKED`, so workers draining one destination at
once each get other rows and no event is sent by two of them. A worker that dies leaves its claims in
flight; `recover_in_flight` hands them back once the worker is silent (its heartbeat in `workers`
expired), so none is stranded (and each of them is sent again: at-least-once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from msgspec import Struct

from shopify_bridge.store.leases import WORKER_TIMEOUT
from shopify_bridge.store.sql import Row, Sql
from shopify_bridge.timeutil import iso, parse_ts

ERROR_MAX_CHARS = 500


class Due(Struct, frozen=True):
    """One delivery to send now: the event's exact wire payload and what the retry policy needs."""

    event_seq: int
    event_id: str
    event_name: str
    payload: str
    attempts: int
    created_at: str  # when the delivery was queued (UTC ISO): a policy's max_age counts from it
    shop: str = ""
    facts: str | None = None  # JSON: the order facts stored with the event (None for events older than them)


# Placed Order states after which its refunds may go: accepted, or never to be sent to this destination.
_PLACED_SETTLED = "('delivered', 'filtered', 'skipped')"

_DUE = f"""
SELECT d.event_seq, e.event_id, e.event_name, e.payload, d.attempts, d.created_at, e.shop, e.facts
FROM deliveries d
JOIN events e ON e.seq = d.event_seq
LEFT JOIN orders o ON e.refund_id IS NOT NULL AND o.shop = e.shop AND o.order_id = e.order_id
LEFT JOIN deliveries p ON p.event_seq = o.placed_event_seq AND p.destination = d.destination
WHERE d.destination = ? AND d.state = 'pending' AND d.next_attempt_at <= ?
  AND (e.refund_id IS NULL OR o.placed_event_seq IS NULL OR p.state IS NULL OR p.state IN {_PLACED_SETTLED})
ORDER BY d.event_seq
LIMIT ?
"""

# Pending refunds whose Placed Order is dead at the same destination. The subquery starts from the (few)
# dead Placed Orders, not from the (many) pending deliveries: SQLite runs it once and then looks each
# refund up by the deliveries index (the plain join form would walk every pending delivery instead).
_ORPHANED_BY_DEAD_PLACED = """
SELECT d.event_seq FROM deliveries d
WHERE d.destination = ? AND d.state = 'pending' AND d.event_seq IN (
    SELECT e.seq FROM deliveries p
    JOIN orders o ON o.placed_event_seq = p.event_seq
    JOIN events e ON e.shop = o.shop AND e.order_id = o.order_id AND e.refund_id IS NOT NULL
    WHERE p.destination = ? AND p.state = 'dead')
"""


def _due(r: Row) -> Due:
    return Due(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5]), str(r[6]), r[7])


class Outbox:
    def __init__(self, sql: Sql, owner: str = "") -> None:
        self.sql = sql
        self.owner = owner  # this worker's name on the rows it claims

    def due(self, destination: str, now: datetime, limit: int = 500) -> list[Due]:
        """The deliveries to `destination` due at `now`, in event order, refunds after their Placed Order."""
        return [_due(row) for row in self.sql.all(_DUE, (destination, iso(now), limit))]

    def claim(self, destination: str, now: datetime, limit: int = 500) -> list[Due]:
        """What `due` returns, marked in flight for this worker in the same transaction: no other worker
        gets these rows (on PostgreSQL it passes over them, locked, and then sees them in flight)."""
        with self.sql.transaction():
            rows = self.sql.all(_DUE + self.sql.dialect.skip_locked("d"), (destination, iso(now), limit))
            self.sql.run_many(
                "UPDATE deliveries SET state = 'in_flight', claimed_by = ? "
                "WHERE event_seq = ? AND destination = ? AND state = 'pending'",
                [(self.owner, r[0], destination) for r in rows],
            )
        return [_due(row) for row in rows]

    def next_attempt_at(self, destination: str) -> datetime | None:
        """When the earliest pending delivery to `destination` is due; None when nothing is pending."""
        row = self.sql.one(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE destination = ? AND state = 'pending'", (destination,)
        )
        return None if row is None or row[0] is None else parse_ts(row[0])

    def bury_refunds_of_dead_orders(self, destination: str) -> int:
        """Refunds waiting for a Placed Order that went dead at `destination` go dead too; how many."""
        seqs = [row[0] for row in self.sql.all(_ORPHANED_BY_DEAD_PLACED, (destination, destination))]
        if not seqs:
            return 0
        with self.sql.transaction():
            self.sql.run_many(
                "UPDATE deliveries SET state = 'dead', last_error = 'placed_order_dead', next_attempt_at = NULL "
                "WHERE event_seq = ? AND destination = ? AND state = 'pending'",
                [(seq, destination) for seq in seqs],
            )
        return len(seqs)

    def mark_in_flight(self, destination: str, seqs: Sequence[int]) -> None:
        """Before sending: the rows are visibly in flight; a crash leaves them so until `recover_in_flight`."""
        with self.sql.transaction():
            self.sql.run_many(
                "UPDATE deliveries SET state = 'in_flight', claimed_by = ? "
                "WHERE event_seq = ? AND destination = ? AND state = 'pending'",
                [(self.owner, seq, destination) for seq in seqs],
            )

    def hand_back(self, destination: str) -> int:
        """This worker's claims to `destination` go back to pending, to be sent again; how many rows. After the
        database went away mid-drain: what was sent meanwhile is recorded first (`Deliverer`), so these are
        the claims not sent, or whose failure could not be recorded."""
        with self.sql.transaction():
            return self.sql.run(
                "UPDATE deliveries SET state = 'pending', claimed_by = NULL "
                "WHERE destination = ? AND state = 'in_flight' AND claimed_by = ?",
                (destination, self.owner),
            )

    def recover_in_flight(self, now: datetime, silence: timedelta = WORKER_TIMEOUT) -> int:
        """What was in flight when its worker died is sent again (at-least-once); how many rows.

        SQLite has one writer: at its start-up every row in flight is a dead process's. On PostgreSQL
        only the claims of workers silent for `silence` are taken back (the others are being sent).
        """
        with self.sql.transaction():
            if not self.sql.dialect.postgres:
                return self.sql.run(
                    "UPDATE deliveries SET state = 'pending', claimed_by = NULL, next_attempt_at = ? "
                    "WHERE state = 'in_flight'",
                    (iso(now),),
                )
            return self.sql.run(
                "UPDATE deliveries SET state = 'pending', claimed_by = NULL, next_attempt_at = ? "
                "WHERE state = 'in_flight' AND (claimed_by IS NULL OR claimed_by NOT IN "
                "(SELECT owner FROM workers WHERE seen_at > ?))",
                (iso(now), iso(now - silence)),
            )

    def mark_delivered(self, destination: str, seqs: Sequence[int], now: datetime, status: int | None = None) -> None:
        with self.sql.transaction():
            self.sql.run_many(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, "
                "last_status = ?, last_error = NULL, next_attempt_at = NULL, claimed_by = NULL "
                "WHERE event_seq = ? AND destination = ?",
                [(iso(now), status, seq, destination) for seq in seqs],
            )

    def mark_retry(self, destination: str, seq: int, next_at: datetime, error: str, status: int | None) -> None:
        with self.sql.transaction():
            self.sql.run(
                "UPDATE deliveries SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?, "
                "last_error = ?, last_status = ?, claimed_by = NULL WHERE event_seq = ? AND destination = ?",
                (iso(next_at), error[:ERROR_MAX_CHARS], status, seq, destination),
            )

    def mark_dead(self, destination: str, seq: int, error: str, status: int | None) -> None:
        with self.sql.transaction():
            self.sql.run(
                "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, next_attempt_at = NULL, "
                "last_error = ?, last_status = ?, claimed_by = NULL WHERE event_seq = ? AND destination = ?",
                (error[:ERROR_MAX_CHARS], status, seq, destination),
            )

    def mark_kept_out(self, destination: str, seq: int, state: str, reason: str, detail: str) -> None:
        """The destination does not take this event (`filtered` by a key, `skipped` by a payload rule)."""
        with self.sql.transaction():
            self.sql.run(
                "UPDATE deliveries SET state = ?, reason = ?, last_error = ?, next_attempt_at = NULL, "
                "claimed_by = NULL WHERE event_seq = ? AND destination = ?",
                (state, reason, detail[:ERROR_MAX_CHARS], seq, destination),
            )

    def requeue(self, destination: str, event_seqs: list[int], now: datetime, *, reset_attempts: bool = True) -> int:
        """Put deliveries to `destination` back to pending, due `now`: the same event, the same event_id.

        Whatever their state (dead, delivered, pending), the rows named are sent again; the number put
        back is returned (seqs without a delivery to `destination` count nothing). A requeue is an
        operator's fresh start, so by default the attempts restart at 0 and the delivery counts as queued
        `now`: a retry policy's `max_attempts` and `max_age` allow the full count and age again (else a
        dead letter replayed after the age limit had one attempt before going dead again).
        `reset_attempts=False` keeps both.
        """
        if not event_seqs:
            return 0
        fresh = ", attempts = 0, created_at = ?" if reset_attempts else ""
        stamp = (iso(now),) if reset_attempts else ()
        with self.sql.transaction():
            return self.sql.run_many(
                "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, last_error = NULL, reason = NULL, "
                f"claimed_by = NULL{fresh} WHERE event_seq = ? AND destination = ?",
                [(iso(now), *stamp, seq, destination) for seq in event_seqs],
            )
