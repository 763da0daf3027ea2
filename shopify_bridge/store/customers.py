"""What the bridge knows of each customer's orders: by when a non-test order of theirs existed.

One row per shop and customer key (`decide.new_customer`: `customer:<id>` or `email:<email>`), keeping the
earliest such moment known; the key is stored as its SHA-256, so this table holds no email address. It
settles `$is_new_customer` for later orders without asking Shopify again. Also the state of a backfill's
one bulk operation over earlier orders, so that a restart resumes it instead of starting another; and the
property looked up for each held order while it waits, with (the SHA-256 of) the customer key it answers
for, which its release uses (`service.new_customers`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import orjson
from msgspec import Struct

from shopify_bridge.decide.orderdoc import OrderDoc
from shopify_bridge.store.db import Sql
from shopify_bridge.timeutil import iso, parse_ts

KEYS_PER_QUERY = 500
ANSWERS = {True: "new", False: "returning", None: "omitted"}  # `$is_new_customer` as kept on a held order
VALUES = {text: value for value, text in ANSWERS.items()}


class KeptAnswer(Struct, frozen=True):
    value: bool | None  # None: omitted (Shopify's answer cannot tell, or the order has no customer or email)


def hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Customers:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def earliest(self, shop: str, keys: Iterable[str]) -> dict[str, datetime]:
        """By key, the earliest moment a non-test order of that customer is known to have existed."""
        wanted = {hashed(key): key for key in keys}
        found: dict[str, datetime] = {}
        digests = list(wanted)
        for start in range(0, len(digests), KEYS_PER_QUERY):
            chunk = digests[start : start + KEYS_PER_QUERY]
            rows = self.sql.all(
                f"SELECT customer_key, earliest_at FROM customer_orders WHERE shop = ? "
                f"AND customer_key IN ({', '.join('?' * len(chunk))})",
                (shop, *chunk),
            )
            found.update({wanted[digest]: parse_ts(at) for digest, at in rows})
        return found

    def note(self, shop: str, earliest: Mapping[str, datetime]) -> None:
        """Remember that a non-test order of each customer existed by then (the earlier moment stays)."""
        if not earliest:
            return
        # In key order: the keys are hashes, and many written at random would touch pages all over the table.
        # Each moment formatted once: an order's customer and email keys share it (a backfill notes ~2 keys an
        # order, and `iso` costs 0.9 µs).
        stamps = {at: iso(at) for at in set(earliest.values())}
        rows = sorted((hashed(key), stamps[at]) for key, at in earliest.items())
        with self.sql.transaction():
            self.sql.insert_rows(
                "customer_orders (shop, customer_key, earliest_at)",
                [(shop, digest, at) for digest, at in rows],
                "ON CONFLICT (shop, customer_key) DO UPDATE SET earliest_at = excluded.earliest_at "
                "WHERE excluded.earliest_at < customer_orders.earliest_at",
            )

    # -- a backfill's bulk operation over earlier orders ---------------------------------------
    def index_state(self, shop: str) -> dict[str, Any] | None:
        row = self.sql.one("SELECT value FROM meta WHERE key = ?", (f"earlier_orders:{shop}",))
        return None if row is None else dict(orjson.loads(row[0]))

    def save_index_state(self, shop: str, state: Mapping[str, Any]) -> None:
        with self.sql.transaction():
            self.sql.run(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (f"earlier_orders:{shop}", orjson.dumps(dict(state)).decode()),
            )

    # -- the property looked up for held orders -----------------------------------------------------
    def awaiting_answer(self, shop: str, limit: int) -> list[OrderDoc]:
        """Held orders of `shop` whose `$is_new_customer` was never looked up, earliest release first: the
        newest stored version of each."""
        rows = self.sql.all(
            "SELECT o.order_id, v.doc FROM orders o JOIN order_versions v "
            "ON v.shop = o.shop AND v.order_id = o.order_id AND v.version = "
            "(SELECT MAX(w.version) FROM order_versions w WHERE w.shop = o.shop AND w.order_id = o.order_id) "
            "WHERE o.shop = ? AND o.status = 'held' AND o.new_customer IS NULL "
            "ORDER BY o.release_at, o.order_id LIMIT ?",
            (shop, limit),
        )
        return [orjson.loads(doc) for _, doc in rows]

    def keep_answers(self, shop: str, answers: Iterable[tuple[str, str | None, bool | None]]) -> None:
        """Keep each order's property (order id, the customer key it answers for, the value; None: omitted)."""
        with self.sql.transaction():
            self.sql.run_many(
                "UPDATE orders SET new_customer = ?, new_customer_key = ? WHERE shop = ? AND order_id = ?",
                [(ANSWERS[value], hashed(key) if key else "", shop, order_id) for order_id, key, value in answers],
            )

    def answer(self, shop: str, order_id: str, key: str | None) -> KeptAnswer | None:
        """The property kept for the order when it answers for the customer `key` (None: never looked up, or
        looked up for another customer)."""
        row = self.sql.one("SELECT new_customer, new_customer_key FROM orders WHERE shop = ? AND order_id = ?",
                           (shop, order_id))
        if row is None or row[0] is None or row[1] != (hashed(key) if key else ""):
            return None
        return KeptAnswer(VALUES[row[0]])
