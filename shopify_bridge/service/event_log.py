"""`events` and `replay`: the outbox as operators see it, and re-sending with the same event_id."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shopify_bridge.store.schema import transaction
from shopify_bridge.timeutil import iso


@dataclass(frozen=True)
class EventFilter:
    event_ids: tuple[str, ...] = ()
    dead: bool = False
    since: datetime | None = None
    name: str | None = None
    source: str | None = None
    limit: int = 100


def _where(f: EventFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if f.event_ids:
        clauses.append(f"e.event_id IN ({','.join('?' * len(f.event_ids))})")
        params += list(f.event_ids)
    if f.dead:
        clauses.append("EXISTS (SELECT 1 FROM deliveries x WHERE x.event_seq = e.seq AND x.state = 'dead')")
    if f.since is not None:
        clauses.append("e.created_at >= ?")
        params.append(iso(f.since))
    if f.name:
        clauses.append("e.event_name = ?")
        params.append(f.name)
    if f.source:
        clauses.append("(e.shop = ? OR e.shop IN (SELECT shop FROM sources WHERE name = ?))")
        params += [f.source, f.source]
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_events(conn: sqlite3.Connection, f: EventFilter) -> list[dict[str, Any]]:
    where, params = _where(f)
    rows = conn.execute(
        f"SELECT e.seq, e.event_id, e.event_name, e.timestamp, e.created_at, e.shop, o.name "
        f"FROM events e LEFT JOIN orders o ON o.shop = e.shop AND o.order_id = e.order_id{where} "
        f"ORDER BY e.seq DESC LIMIT ?",
        [*params, f.limit],
    ).fetchall()
    out = []
    for seq, event_id, name, ts, created, shop, order_name in rows:
        deliveries = conn.execute(
            "SELECT destination, state, attempts, last_status, last_error FROM deliveries WHERE event_seq = ? "
            "ORDER BY destination",
            (seq,),
        ).fetchall()
        out.append(
            {
                "seq": seq,
                "event_id": event_id,
                "event_name": name,
                "timestamp": ts,
                "created_at": created,
                "shop": shop,
                "order": order_name,
                "deliveries": [
                    {"destination": d, "state": s, "attempts": a, "last_status": st, "last_error": err}
                    for d, s, a, st, err in deliveries
                ],
            }
        )
    return out


def replay(conn: sqlite3.Connection, f: EventFilter, now: datetime, destination: str | None = None) -> int:
    """Put the chosen deliveries back to pending; returns how many. Same payload, same event_id.

    With `--dead`, only the dead deliveries are re-sent; otherwise every delivery of the chosen
    events (to `destination` when given) is sent again. Refunds keep waiting for their Placed
    Order as usual, so replaying both re-sends them in order.
    """
    where, params = _where(f)
    state_clause = " AND d.state = 'dead'" if f.dead else ""
    dest_clause = " AND d.destination = ?" if destination else ""
    extra = [destination] if destination else []
    with transaction(conn):
        cur = conn.execute(
            f"UPDATE deliveries SET state = 'pending', next_attempt_at = ?, last_error = NULL, attempts = 0 "
            f"WHERE rowid IN (SELECT d.rowid FROM deliveries d JOIN events e ON e.seq = d.event_seq{where}"
            f"{' AND ' if where else ' WHERE '}1=1{state_clause}{dest_clause})",
            [iso(now), *params, *extra],
        )
    return cur.rowcount
