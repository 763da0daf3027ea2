"""The event log as operators see it (`events`, `replay`): which events a query picks, and their deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from msgspec import Struct

from shopify_bridge.store.sql import Sql
from shopify_bridge.timeutil import iso


class EventQuery(Struct, frozen=True):
    """Which events: by event id, with a dead delivery, created since, by name, of a source (name or shop)."""

    event_ids: tuple[str, ...] = ()
    dead: bool = False
    since: datetime | None = None
    name: str | None = None
    source: str | None = None
    limit: int = 100  # listing only: a replay acts on every match


class DeliveryState(TypedDict):
    destination: str
    state: str  # pending | in_flight | delivered | dead | filtered | skipped
    reason: str | None  # filtered: the key that matched (events, channels, exclude_tags); skipped: the rule
    attempts: int
    last_status: int | None
    last_error: str | None


class LoggedEvent(TypedDict):
    seq: int
    event_id: str
    event_name: str
    timestamp: str
    created_at: str
    source: str | None  # the source's name, when the store knows the shop
    shop: str
    order: str | None  # the order's name, when the order is stored
    deliveries: list[DeliveryState]


def _where(q: EventQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if q.event_ids:
        clauses.append(f"e.event_id IN ({','.join('?' * len(q.event_ids))})")
        params += list(q.event_ids)
    if q.dead:
        clauses.append("EXISTS (SELECT 1 FROM deliveries x WHERE x.event_seq = e.seq AND x.state = 'dead')")
    if q.since is not None:
        clauses.append("e.created_at >= ?")
        params.append(iso(q.since))
    if q.name:
        clauses.append("e.event_name = ?")
        params.append(q.name)
    if q.source:
        clauses.append("(e.shop = ? OR e.shop IN (SELECT shop FROM sources WHERE name = ?))")
        params += [q.source, q.source]
    return " AND ".join(clauses) or "1 = 1", params


class EventLogReads:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def events(self, query: EventQuery) -> list[LoggedEvent]:
        """The chosen events, newest first, at most `query.limit`, each with its deliveries by destination."""
        where, params = _where(query)
        rows = self.sql.all(
            "SELECT e.seq, e.event_id, e.event_name, e.timestamp, e.created_at, s.name, e.shop, o.name "
            "FROM events e LEFT JOIN orders o ON o.shop = e.shop AND o.order_id = e.order_id "
            f"LEFT JOIN sources s ON s.shop = e.shop WHERE {where} "
            "ORDER BY e.seq DESC LIMIT ?",
            [*params, query.limit],
        )
        deliveries = self._deliveries([int(r[0]) for r in rows])
        return [
            LoggedEvent(
                seq=seq, event_id=event_id, event_name=name, timestamp=ts, created_at=created, source=source,
                shop=shop, order=order_name, deliveries=deliveries.get(seq, []),
            )
            for seq, event_id, name, ts, created, source, shop, order_name in rows
        ]

    def _deliveries(self, seqs: Sequence[int]) -> dict[int, list[DeliveryState]]:
        out: dict[int, list[DeliveryState]] = {}
        if not seqs:
            return out
        marks = ",".join("?" * len(seqs))
        for seq, destination, state, reason, attempts, status, error in self.sql.all(
            "SELECT event_seq, destination, state, reason, attempts, last_status, last_error FROM deliveries "
            f"WHERE event_seq IN ({marks}) ORDER BY event_seq, destination",
            list(seqs),
        ):
            out.setdefault(int(seq), []).append(
                DeliveryState(destination=destination, state=state, reason=reason, attempts=attempts,
                              last_status=status, last_error=error)
            )
        return out

    def replay_targets(self, query: EventQuery, destination: str | None = None) -> dict[str, list[int]]:
        """destination → event seqs that a replay of `query` puts back: with `query.dead` only the dead
        deliveries, else every delivery of the chosen events; only to `destination` when given."""
        where, params = _where(query)
        if query.dead:
            where += " AND d.state = 'dead'"
        if destination is not None:
            where += " AND d.destination = ?"
            params.append(destination)
        targets: dict[str, list[int]] = {}
        for name, seq in self.sql.all(
            f"SELECT d.destination, d.event_seq FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE {where} "
            "ORDER BY d.destination, d.event_seq",
            params,
        ):
            targets.setdefault(str(name), []).append(int(seq))
        return targets

    def unknown_event_ids(self, event_ids: Sequence[str]) -> list[str]:
        """Those of `event_ids` that no stored event has, in the order given."""
        known: set[str] = set()
        for start in range(0, len(event_ids), 500):  # well under SQLite's bound-parameter limit
            chunk = list(event_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.sql.all(f"SELECT event_id FROM events WHERE event_id IN ({marks})", chunk)
            known.update(row[0] for row in rows)
        return [event_id for event_id in event_ids if event_id not in known]

    def sources(self) -> dict[str, str]:
        """shop -> name of every source the store knows (also those no longer in the config)."""
        return {str(shop): str(name) for shop, name in self.sql.all("SELECT shop, name FROM sources")}

    def delivered_count(self, shop: str) -> int:
        """How many deliveries of the shop's events are delivered (a `run --once` counts its own by difference)."""
        row = self.sql.one(
            "SELECT COUNT(*) FROM deliveries d JOIN events e ON e.seq = d.event_seq "
            "WHERE e.shop = ? AND d.state = 'delivered'",
            (shop,),
        )
        return int(row[0]) if row else 0
