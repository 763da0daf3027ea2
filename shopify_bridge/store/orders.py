"""Orders and their versions: the facts the lifecycle decides on, and its decisions written.

`facts` reads what `decide.lifecycle` needs of one order; `record` writes the `OrderDecision` it
returned — the new version, the order row, the hold / exclusion / release with its Placed Order, and
each refund's step with its Received Refund — in one transaction (the caller's when it opened one,
so that a page's orders, events and the cursor advance commit together).

`facts_many` and `record_many` do the same for a batch of distinct orders (a bulk result is taken in
hundreds at a time): three reads for the whole batch, and one statement per table for its new versions
and new orders, instead of a few statements per order. `facts` and `record` are their one-order case.

Deciding is read, decide, write: two transactions doing it for one order at once would both decide on
the facts before the other's commit. SQLite's one writer never lets them (`BEGIN IMMEDIATE`). On
PostgreSQL — a `resync` beside the process that polls the shop, or a lease changing hands mid-cycle —
`facts_many` inside a transaction first takes the shop's transaction lock (`shop_lock_key`): the second
waits until the first commits and decides on what it wrote.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime

import orjson
from msgspec import Struct

from shopify_bridge.decide.decisions import (
    Exclude,
    Gone,
    Hold,
    LatestVersion,
    OrderDecision,
    OrderFacts,
    Release,
    StoredOrder,
)
from shopify_bridge.decide.orderdoc import OrderDoc
from shopify_bridge.decide.settling import RecordedRefund
from shopify_bridge.decide.windows import StoredStamp
from shopify_bridge.store.db import Sql
from shopify_bridge.store.events import Events
from shopify_bridge.store.refunds import Refunds
from shopify_bridge.store.sql import in_chunks, marks
from shopify_bridge.timeutil import iso, parse_ts

# The first key of the shops' PostgreSQL transaction locks (two-key form: apart from the migration's one-key lock).
SHOP_LOCK_CLASS = 0x5B0D


def shop_lock_key(shop: str) -> tuple[int, int]:
    """The (class, object) keys of `shop`'s transaction lock: the same in every process, for every shop its own
    but for a 1 in 2^32 chance of two shops sharing a lock (they then only take turns needlessly)."""
    return SHOP_LOCK_CLASS, int.from_bytes(hashlib.sha256(shop.encode()).digest()[:4], "big", signed=True)


_VERSIONS = "order_versions (shop, order_id, version, updated_at, fetched_at, origin, content_hash, doc)"
_ORDERS = (
    "orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, total, status, exclusion_rule, "
    "exclusion_value)"
)


class OrderRef(Struct, frozen=True):
    order_id: str  # numeric legacyResourceId
    gid: str


class Orders:
    def __init__(self, sql: Sql, events: Events, refunds: Refunds) -> None:
        self.sql = sql
        self.events = events
        self.refunds = refunds

    # -- facts --------------------------------------------------------------------------------
    def status(self, shop: str, order_id: str) -> str | None:
        """The order's status; None when it was never stored."""
        row = self.sql.one("SELECT status FROM orders WHERE shop = ? AND order_id = ?", (shop, order_id))
        return None if row is None else str(row[0])

    def updated_at(self, shop: str, order_id: str) -> str | None:
        """The `updatedAt` of the order's newest stored version; None when it was never stored."""
        row = self.sql.one("SELECT updated_at FROM orders WHERE shop = ? AND order_id = ?", (shop, order_id))
        return None if row is None else str(row[0])

    def updated_at_many(self, shop: str, order_ids: Sequence[str]) -> dict[str, str]:
        """`updated_at` of those of `order_ids` that are stored."""
        found: dict[str, str] = {}
        for ids in in_chunks(order_ids):
            rows = self.sql.all(
                f"SELECT order_id, updated_at FROM orders WHERE shop = ? AND order_id IN ({marks(len(ids))})",
                (shop, *ids),
            )
            found.update((str(order_id), str(at)) for order_id, at in rows)
        return found

    def latest_version(self, shop: str, order_id: str) -> LatestVersion | None:
        """The newest stored version's number and content hash (the document itself is not loaded)."""
        row = self.sql.one(
            "SELECT version, content_hash FROM order_versions WHERE shop = ? AND order_id = ? "
            "ORDER BY version DESC LIMIT 1",
            (shop, order_id),
        )
        return None if row is None else LatestVersion(int(row[0]), str(row[1]))

    def facts(self, shop: str, order_id: str, refund_ids: Sequence[str] = ()) -> OrderFacts:
        """What the lifecycle decides on: the order's status and exclusion, its newest version, and the
        recorded status of those of `refund_ids` that are recorded."""
        return self.facts_many(shop, {order_id: refund_ids})[order_id]

    def facts_many(self, shop: str, wanted: Mapping[str, Sequence[str]]) -> dict[str, OrderFacts]:
        """`facts` of several orders (order id → the refund ids of its fetched version), read together;
        within a transaction on PostgreSQL, after taking the shop's turn (see the module docstring)."""
        if self.sql.dialect.postgres and self.sql.in_transaction:
            self.sql.one("SELECT pg_advisory_xact_lock(?, ?)", shop_lock_key(shop))
        order_ids = list(wanted)
        stored: dict[str, StoredOrder] = {}
        latest: dict[str, LatestVersion] = {}
        for ids in in_chunks(order_ids):
            rows = self.sql.all(
                "SELECT order_id, status, exclusion_rule FROM orders "
                f"WHERE shop = ? AND order_id IN ({marks(len(ids))})",
                (shop, *ids),
            )
            stored.update((str(order_id), StoredOrder(str(status), rule)) for order_id, status, rule in rows)
        # Versions and refunds are only ever written with their order's row (`record_many`): an order not
        # stored has none, and a backfill into an empty store asks for nothing more.
        for ids in in_chunks([order_id for order_id in order_ids if order_id in stored]):
            rows = self.sql.all(
                "SELECT v.order_id, v.version, v.content_hash FROM order_versions v "
                f"WHERE v.shop = ? AND v.order_id IN ({marks(len(ids))}) AND v.version = "
                "(SELECT max(w.version) FROM order_versions w WHERE w.shop = v.shop AND w.order_id = v.order_id)",
                (shop, *ids),
            )
            latest.update((str(order_id), LatestVersion(int(number), str(digest))) for order_id, number, digest in rows)
        refund_ids = [refund_id for order_id, ids in wanted.items() if order_id in stored for refund_id in ids]
        recorded: dict[str, RecordedRefund] = {}
        for ids in in_chunks(refund_ids):
            recorded.update(self.refunds.recorded(shop, ids))
        return {
            order_id: OrderFacts(
                order=stored.get(order_id),
                latest=latest.get(order_id),
                refunds={refund_id: recorded[refund_id] for refund_id in wanted[order_id] if refund_id in recorded},
            )
            for order_id in order_ids
        }

    def stamps(self, shop: str, order_ids: Sequence[str]) -> dict[str, StoredStamp]:
        """Per stored order of `order_ids`: its newest version's updatedAt, fetch time and number."""
        found: dict[str, StoredStamp] = {}
        for chunk in in_chunks(order_ids):
            rows = self.sql.all(
                "SELECT v.order_id, v.updated_at, v.fetched_at, v.version FROM order_versions v "
                f"WHERE v.shop = ? AND v.order_id IN ({marks(len(chunk))}) AND v.version = "
                "(SELECT MAX(w.version) FROM order_versions w WHERE w.shop = v.shop AND w.order_id = v.order_id)",
                (shop, *chunk),
            )
            for order_id, updated_at, fetched_at, version in rows:
                found[str(order_id)] = StoredStamp(parse_ts(updated_at), parse_ts(fetched_at), int(version))
        return found

    def due_holds(self, shop: str, now: datetime, limit: int | None = None) -> list[OrderRef]:
        """Held orders of `shop` whose release time has come, earliest first (at most `limit`)."""
        sql = (
            "SELECT order_id, gid FROM orders WHERE shop = ? AND status = 'held' AND release_at <= ? "
            "ORDER BY release_at"
        )
        params: tuple[object, ...] = (shop, iso(now))
        if limit is not None:
            sql, params = f"{sql} LIMIT ?", (*params, limit)
        rows = self.sql.all(sql, params)
        return [OrderRef(str(order_id), str(gid)) for order_id, gid in rows]

    def next_release_at(self, shop: str) -> datetime | None:
        """When the earliest hold of `shop` is due (None: nothing is held)."""
        row = self.sql.one("SELECT MIN(release_at) FROM orders WHERE shop = ? AND status = 'held'", (shop,))
        return parse_ts(row[0]) if row and row[0] else None

    def latest_doc(self, shop: str, order_id: str) -> OrderDoc | None:
        """The newest stored version's document; None when the order has none."""
        row = self.sql.one(
            "SELECT doc FROM order_versions WHERE shop = ? AND order_id = ? ORDER BY version DESC LIMIT 1",
            (shop, order_id),
        )
        if row is None:
            return None
        doc: OrderDoc = orjson.loads(row[0])
        return doc

    # -- decisions ----------------------------------------------------------------------------
    def record(self, decision: OrderDecision) -> list[int]:
        """Write `decision`; the seqs of the events it created (an event_id that exists is not created)."""
        return self.record_many([decision])

    def record_many(self, decisions: Sequence[OrderDecision]) -> list[int]:
        """Write the decisions of distinct orders, in one transaction; the seqs of the events they created."""
        assert len({d.order_id for d in decisions}) == len(decisions), "one decision per order"
        created: list[int] = []
        stamps = {now: iso(now) for now in {d.now for d in decisions}}  # a batch shares its `now`
        with self.sql.transaction():
            self.sql.insert_rows(_VERSIONS, [
                (d.shop, d.order_id, v.number, v.updated_at, stamps[d.now], v.origin, v.content_hash, v.doc)
                for d in decisions if (v := d.version) is not None
            ])
            self.sql.insert_rows(_ORDERS, [
                (d.shop, d.order_id, new.gid, new.name, new.processed_at, new.updated_at, stamps[d.now], new.total,
                 new.status, new.exclusion_rule, new.exclusion_value)
                for d in decisions if (new := d.new_order) is not None
            ])
            for decision in decisions:
                created += self._apply(decision)
        return created

    def _apply(self, decision: OrderDecision) -> list[int]:
        """What follows the version and the new order row: the refresh, the transition, the refunds."""
        shop, order_id = decision.shop, decision.order_id
        if (refresh := decision.refresh) is not None:
            self.sql.run(
                "UPDATE orders SET updated_at = ?, total = ?, name = ? WHERE shop = ? AND order_id = ?",
                (refresh.updated_at, refresh.total, refresh.name, shop, order_id),
            )
        created = self._transition(decision, iso(decision.now)) if decision.transition is not None else []
        for step in decision.refunds:
            seq = self.events.create(step.event, decision.now) if step.event is not None else None
            self.refunds.record(shop, order_id, step, seq)
            if seq is not None:
                created.append(seq)
        return created

    def _transition(self, decision: OrderDecision, at: str) -> list[int]:
        shop, order_id, transition = decision.shop, decision.order_id, decision.transition
        if isinstance(transition, Hold):
            self.sql.run(
                "UPDATE orders SET status = 'held', release_at = ? WHERE shop = ? AND order_id = ?",
                (iso(transition.release_at), shop, order_id),
            )
        elif isinstance(transition, Exclude):
            self.sql.run(
                "UPDATE orders SET status = 'excluded', exclusion_rule = ?, exclusion_value = ?, released_at = ?, "
                "built_version = ? WHERE shop = ? AND order_id = ?",
                (transition.rule, transition.value, at, transition.built_version, shop, order_id),
            )
        elif isinstance(transition, Release):
            seq = self.events.create(transition.placed, decision.now)
            self.sql.run(
                "UPDATE orders SET status = 'released', released_at = ?, built_version = ?, placed_event_seq = ? "
                "WHERE shop = ? AND order_id = ?",
                (at, transition.built_version, seq, shop, order_id),
            )
            return [] if seq is None else [seq]
        elif isinstance(transition, Gone):
            self.sql.run(
                "UPDATE orders SET status = 'gone', released_at = ? WHERE shop = ? AND order_id = ?",
                (at, shop, order_id),
            )
        return []
