"""Builds a dashboard store by inserting rows directly (the schema comes from `Store.open_writer`), on
SQLite or PostgreSQL.

Used by the dashboard tests and by `bench/tui.py`. The rows follow the store's documented
shapes (schema.py); values are chosen to exercise every display state, never real secrets.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shopify_bridge.store import Store
from shopify_bridge.timeutil import iso

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
SHOP = "convergestore.myshopify.com"
OUTLET = "outlet.myshopify.com"
LineItemSpec = tuple[str, int, str]  # (title, current quantity, unit price)


def order_doc(
    order_id: str, name: str, total: str, items: Sequence[LineItemSpec], currency: str = "EUR"
) -> str:
    line_items = [
        {
            "id": f"gid://shopify/LineItem/{order_id}{index}",
            "title": title,
            "quantity": quantity,
            "currentQuantity": quantity,
            "originalUnitPriceSet": {"shopMoney": {"amount": price, "currencyCode": currency}},
        }
        for index, (title, quantity, price) in enumerate(items)
    ]
    doc = {
        "id": f"gid://shopify/Order/{order_id}",
        "legacyResourceId": order_id,
        "name": name,
        "currentTotalPriceSet": {"shopMoney": {"amount": total, "currencyCode": currency}},
        "lineItems": line_items,
        "refunds": [],
    }
    return json.dumps(doc, separators=(",", ":"))


def placed_payload(order_id: str, name: str, total: str, currency: str = "EUR") -> str:
    # The wire bytes keep Shopify's decimal text (e.g. 10.10) exactly as mapping writes it.
    return (
        f'{{"event_name":"Placed Order","event_id":"{order_id}","timestamp":"2026-05-01T10:00:00+00:00",'
        f'"properties":{{"id":"{order_id}","order_name":"{name}","total_price":{total},"currency":"{currency}",'
        f'"items":[{{"name":"Tee","quantity":1,"price":{total}}}]}},'
        f'"profile_properties":{{"$email":"ann@example.com"}},"aliases":["urn:email:ann@example.com"]}}'
    )


def refund_payload(order_id: str, refund_id: str, name: str, amount: str, currency: str = "EUR") -> str:
    return (
        f'{{"event_name":"Received Refund","event_id":"{order_id}-refund-{refund_id}",'
        f'"timestamp":"2026-05-01T11:00:00+00:00","properties":{{"id":"{refund_id}","order_id":"{order_id}",'
        f'"order_name":"{name}","total_refunded":{amount},"currency":"{currency}"}},'
        f'"profile_properties":{{}},"aliases":["urn:shopify_order_id:{order_id}"]}}'
    )


class StoreBuilder:
    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.store = Store.open_writer(path, synchronous="normal")
        self.sql = self.store.sql
        self.conn: Any = self.store.conn  # the driver's own, for the tests that write SQLite rows by hand

    def close(self) -> None:
        self.store.close()

    def source(self, shop: str, name: str, **columns: Any) -> None:
        row: dict[str, Any] = {
            "shop": shop,
            "name": name,
            "state": "polling",
            "timezone": "UTC",
            "currency": "EUR",
        }
        row.update(columns)
        self._insert("sources", row)

    def order(
        self,
        shop: str,
        order_id: str,
        name: str,
        *,
        status: str,
        total: str = "10.00",
        processed_at: datetime | None = None,
        first_seen_at: datetime | None = None,
        release_at: datetime | None = None,
        versions: Sequence[Sequence[LineItemSpec]] = ((("Tee", 1, "10.00"),),),
        rule: str | None = None,
        value: str | None = None,
    ) -> None:
        processed = processed_at or first_seen_at or NOW - timedelta(hours=1)
        seen = first_seen_at or processed
        self._insert(
            "orders",
            {
                "shop": shop,
                "order_id": order_id,
                "gid": f"gid://shopify/Order/{order_id}",
                "name": name,
                "processed_at": iso(processed),
                "updated_at": iso(seen),
                "first_seen_at": iso(seen),
                "total": total,
                "status": status,
                "release_at": iso(release_at) if release_at else None,
                "exclusion_rule": rule,
                "exclusion_value": value,
            },
        )
        for number, items in enumerate(versions, start=1):
            fetched = iso(seen + timedelta(minutes=number - 1))
            self._insert(
                "order_versions",
                {
                    "shop": shop,
                    "order_id": order_id,
                    "version": number,
                    "updated_at": fetched,
                    "fetched_at": fetched,
                    "origin": "poll",
                    "content_hash": f"h{order_id}-{number}",
                    "doc": order_doc(order_id, name, total, items),
                },
            )

    def event(
        self,
        shop: str,
        order_id: str,
        payload: str,
        *,
        event_name: str = "Placed Order",
        refund_id: str | None = None,
        created_at: datetime = NOW - timedelta(minutes=30),
        deliveries: dict[str, tuple[str, int]] | None = None,
    ) -> int:
        event_id = order_id if refund_id is None else f"{order_id}-refund-{refund_id}"
        (seq,) = self.sql.returning(
            "INSERT INTO events (shop, event_id, event_name, order_id, refund_id, timestamp, created_at, "
            "payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
            (shop, event_id, event_name, order_id, refund_id, iso(created_at), iso(created_at), payload),
        ) or (0,)
        for destination, (state, attempts) in (deliveries or {}).items():
            self._insert(
                "deliveries",
                {
                    "event_seq": seq,
                    "destination": destination,
                    "state": state,
                    "attempts": attempts,
                    "last_status": 200 if state == "delivered" else (400 if state == "dead" else None),
                    "last_error": "HTTP 400: bad request" if state == "dead" else None,
                    "next_attempt_at": iso(NOW + timedelta(minutes=1)) if state == "pending" else None,
                    "created_at": iso(created_at),
                    "delivered_at": iso(created_at) if state == "delivered" else None,
                },
            )
        return seq

    def error(self, at: datetime, shop: str | None, kind: str, message: str) -> None:
        self._insert("errors", {"at": iso(at), "shop": shop, "kind": kind, "message": message})

    def _insert(self, table: str, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        self.sql.run(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))


FAKE_TOKEN = "shpat_0123456789abcdef0123456789abcdef"


def build_demo_store(path: Path | str) -> dict[str, int]:
    """The small store every dashboard test and snapshot looks at; returns event seqs by label."""
    b = StoreBuilder(path)
    b.source(
        SHOP,
        "Convergestore Store Backend",
        last_poll_ok_at=iso(NOW - timedelta(seconds=15)),
        last_poll_at=iso(NOW - timedelta(seconds=15)),
        cursor="2026-05-01T11:59:40+00:00",
        bucket_available=1990.0,
        bucket_max=2000.0,
        bucket_restore=100.0,
    )
    b.source(
        OUTLET,
        "Outlet Store",
        state="failed",
        state_reason="401 Unauthorized: check the access token",
        last_poll_ok_at=iso(NOW - timedelta(hours=3)),
        cursor="2026-05-01T08:59:00+00:00",
    )
    b.order(
        SHOP, "5801", "#1001", status="released", total="2629.95", first_seen_at=NOW - timedelta(minutes=40)
    )
    b.order(
        SHOP, "5802", "#1002", status="released", total="10.10", first_seen_at=NOW - timedelta(minutes=35)
    )
    b.order(
        SHOP,
        "5803",
        "#1003",
        status="held",
        total="49.00",
        first_seen_at=NOW - timedelta(minutes=6),
        release_at=NOW + timedelta(minutes=4, seconds=12),
        versions=[[("Mug", 2, "12.00"), ("Tee", 1, "25.00")]],
    )
    b.order(
        SHOP,
        "5804",
        "#1004",
        status="held",
        total="75.50",
        first_seen_at=NOW - timedelta(minutes=1),
        release_at=NOW + timedelta(minutes=9),
        versions=[[("Hoodie", 1, "60.50")], [("Hoodie", 1, "60.50"), ("Socks", 3, "5.00")]],
    )
    b.order(
        SHOP,
        "5805",
        "#1005",
        status="excluded",
        rule="channel",
        value="pos",
        first_seen_at=NOW - timedelta(minutes=20),
    )
    b.order(
        SHOP,
        "5806",
        "#1006",
        status="excluded",
        rule="test_order",
        value="true",
        first_seen_at=NOW - timedelta(days=1),
    )
    b.order(OUTLET, "7001", "#2001", status="released", total="99.00", first_seen_at=NOW - timedelta(hours=4))
    both = ("events-file", "converge")
    seqs = {
        "outlet": b.event(
            OUTLET,
            "7001",
            placed_payload("7001", "#2001", "99.00"),
            created_at=NOW - timedelta(hours=4),
            deliveries={"events-file": ("pending", 0)},
        ),
        "placed": b.event(
            SHOP,
            "5801",
            placed_payload("5801", "#1001", "2629.95"),
            created_at=NOW - timedelta(minutes=30),
            deliveries=dict.fromkeys(both, ("delivered", 1)),
        ),
        "retrying": b.event(
            SHOP,
            "5802",
            placed_payload("5802", "#1002", "10.10"),
            created_at=NOW - timedelta(minutes=25),
            deliveries={"events-file": ("delivered", 1), "converge": ("pending", 3)},
        ),
        "refund": b.event(
            SHOP,
            "5801",
            refund_payload("5801", "901", "#1001", "20.00"),
            event_name="Received Refund",
            refund_id="901",
            created_at=NOW - timedelta(minutes=10),
            deliveries={"events-file": ("delivered", 1), "converge": ("dead", 12)},
        ),
    }
    b.error(NOW - timedelta(hours=3), OUTLET, "source", "poll failed: 401 Unauthorized")
    b.error(
        NOW - timedelta(minutes=5),
        SHOP,
        "delivery",
        f"converge: HTTP 400 (header X-Shopify-Access-Token: {FAKE_TOKEN})",
    )
    b.close()
    return seqs
