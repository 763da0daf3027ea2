"""Ingest order versions and turn them into decisions and events, inside the caller's transaction.

Everything here is synchronous SQL on the writer connection and runs inside one transaction
opened by the caller, together with the cursor advance: a crash at any instant either keeps all
of a page's effects or none of them. All network reads (refund details, re-reads at release,
the new-customer lookup) happen *before*, in the poller; this module never does I/O beyond SQLite.

Order states: new → held → released | excluded | gone, or history (processed before the
source's first connection). A Placed Order is built once, from the version the release decided
on; later versions are stored but never re-sent.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta
from typing import Any

import orjson

from shopify_bridge.decide.exclusions import decide_exclusion
from shopify_bridge.decide.mapping import build_placed_order, build_received_refund, dumps_event
from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id, merge_refund_details
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.timeutil import iso, parse_ts

DECIDED = ("released", "excluded", "history", "gone")


def _refund_ts(refund: dict[str, Any]) -> str | None:
    return refund.get("createdAt") or refund.get("processedAt")


def order_row(conn: sqlite3.Connection, shop: str, order_id: str) -> sqlite3.Row | None:
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row  # on this cursor only: the connection keeps plain tuples
    row: sqlite3.Row | None = cursor.execute(
        "SELECT * FROM orders WHERE shop = ? AND order_id = ?", (shop, order_id)
    ).fetchone()
    return row


def latest_version(conn: sqlite3.Connection, shop: str, order_id: str) -> tuple[int, str] | None:
    """The newest stored version's number and content hash (the document itself is not loaded)."""
    row = conn.execute(
        "SELECT version, content_hash FROM order_versions WHERE shop = ? AND order_id = ? "
        "ORDER BY version DESC LIMIT 1",
        (shop, order_id),
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def needs_new_customer_lookup(
    conn: sqlite3.Connection, ctx: SourceContext, doc: OrderDoc, first_connected_at: str, now: datetime
) -> bool:
    """Whether ingesting `doc` now may release it (then the poller looks up $is_new_customer first)."""
    row = order_row(conn, ctx.shop, legacy_id(doc["id"]))
    if row is not None and row["status"] in DECIDED:
        return False
    if parse_ts(doc["processedAt"]) < parse_ts(first_connected_at):
        return False
    return release_at(ctx, doc) <= now


def release_at(ctx: SourceContext, doc: OrderDoc) -> datetime:
    processed = parse_ts(doc["processedAt"])
    return processed + timedelta(seconds=ctx.upsell_delay_seconds or 0)


def store_version(
    conn: sqlite3.Connection, ctx: SourceContext, doc: OrderDoc, origin: str, now: datetime
) -> int | None:
    """Store `doc` as a new version when its content differs from the newest; its number, or None."""
    order_id = legacy_id(doc["id"])
    canonical = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)  # hashed and stored: one serialization
    digest = hashlib.sha256(canonical).hexdigest()
    latest = latest_version(conn, ctx.shop, order_id)
    if latest is not None and latest[1] == digest:
        return None
    version = 1 if latest is None else latest[0] + 1
    conn.execute(
        "INSERT INTO order_versions (shop, order_id, version, updated_at, fetched_at, origin, content_hash, doc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (ctx.shop, order_id, version, doc["updatedAt"], iso(now), origin, digest, canonical.decode()),
    )
    return version


def ingest_order(
    conn: sqlite3.Connection,
    ctx: SourceContext,
    doc: OrderDoc,
    *,
    origin: str,
    now: datetime,
    first_connected_at: str,
    is_new_customer: bool | None = None,
) -> list[int]:
    """Store one fetched order and act on it; returns the seqs of events created."""
    order_id = legacy_id(doc["id"])
    version = store_version(conn, ctx, doc, origin, now)
    row = order_row(conn, ctx.shop, order_id)
    total = ((doc.get("currentTotalPriceSet") or {}).get("shopMoney") or {}).get("amount")
    if row is None:
        history = parse_ts(doc["processedAt"]) < parse_ts(first_connected_at)
        status = "history" if history else "new"
        # History is never forwarded, but its exclusion is still decided so that its later refunds
        # follow it (a refund of a POS order from before the first connection is excluded too).
        history_exclusion = decide_exclusion(doc, ctx.rules, ctx.channel_table) if history else None
        conn.execute(
            "INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, total, status, "
            "exclusion_rule, exclusion_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ctx.shop,
                order_id,
                doc["id"],
                doc["name"],
                doc["processedAt"],
                doc["updatedAt"],
                iso(now),
                total,
                status,
                history_exclusion.rule if history_exclusion else None,
                history_exclusion.value if history_exclusion else None,
            ),
        )
    elif version is not None:
        conn.execute(
            "UPDATE orders SET updated_at = ?, total = ?, name = ? WHERE shop = ? AND order_id = ?",
            (doc["updatedAt"], total, doc["name"], ctx.shop, order_id),
        )
    elif row["status"] not in ("new",):
        # Same content as before and nothing pending on the order itself: only refunds may move.
        return settle_refunds(conn, ctx, doc, first_connected_at=first_connected_at, now=now)

    created: list[int] = []
    status = row["status"] if row is not None else status
    if status == "new":
        due = release_at(ctx, doc)
        if ctx.upsell_delay_seconds and due > now:
            conn.execute(
                "UPDATE orders SET status = 'held', release_at = ? WHERE shop = ? AND order_id = ?",
                (iso(due), ctx.shop, order_id),
            )
        else:
            created += release(conn, ctx, doc, now=now, is_new_customer=is_new_customer)
    created += settle_refunds(conn, ctx, doc, first_connected_at=first_connected_at, now=now)
    return created


def release(
    conn: sqlite3.Connection,
    ctx: SourceContext,
    doc: OrderDoc,
    *,
    now: datetime,
    is_new_customer: bool | None,
) -> list[int]:
    """Decide the exclusion on this version and build the Placed Order from it, once."""
    order_id = legacy_id(doc["id"])
    latest = latest_version(conn, ctx.shop, order_id)
    built_version = latest[0] if latest else None
    exclusion = decide_exclusion(doc, ctx.rules, ctx.channel_table)
    if exclusion is not None:
        conn.execute(
            "UPDATE orders SET status = 'excluded', exclusion_rule = ?, exclusion_value = ?, released_at = ?, "
            "built_version = ? WHERE shop = ? AND order_id = ?",
            (exclusion.rule, exclusion.value, iso(now), built_version, ctx.shop, order_id),
        )
        return []
    event = build_placed_order(
        doc,
        store_domain=ctx.shop,
        currency=ctx.currency,
        channel_table=ctx.channel_table,
        is_new_customer=is_new_customer,
    )
    seq = insert_event(conn, ctx, event, order_id=order_id, refund_id=None, now=now)
    conn.execute(
        "UPDATE orders SET status = 'released', released_at = ?, built_version = ?, placed_event_seq = ? "
        "WHERE shop = ? AND order_id = ?",
        (iso(now), built_version, seq, ctx.shop, order_id),
    )
    return [seq] if seq is not None else []


def mark_gone(conn: sqlite3.Connection, ctx: SourceContext, order_id: str, now: datetime) -> None:
    conn.execute(
        "UPDATE orders SET status = 'gone', released_at = ? WHERE shop = ? AND order_id = ?",
        (iso(now), ctx.shop, order_id),
    )


def insert_event(
    conn: sqlite3.Connection,
    ctx: SourceContext,
    event: dict[str, Any],
    *,
    order_id: str,
    refund_id: str | None,
    now: datetime,
) -> int | None:
    """Insert an event and its outbox rows; an event_id that exists already is never created twice."""
    cursor = conn.execute(
        "INSERT INTO events (shop, event_id, event_name, order_id, refund_id, timestamp, created_at, payload) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop, event_id) DO NOTHING",
        (
            ctx.shop,
            event["event_id"],
            event["event_name"],
            order_id,
            refund_id,
            event["timestamp"],
            iso(now),
            dumps_event(event).decode(),
        ),
    )
    if cursor.rowcount == 0:
        return None
    seq = int(cursor.lastrowid or 0)
    conn.executemany(
        "INSERT INTO deliveries (event_seq, destination, state, created_at, next_attempt_at) "
        "VALUES (?, ?, 'pending', ?, ?)",
        [(seq, dest, iso(now), iso(now)) for dest in ctx.destinations],
    )
    return seq


def settle_refunds(
    conn: sqlite3.Connection, ctx: SourceContext, doc: OrderDoc, *, first_connected_at: str, now: datetime
) -> list[int]:
    """Record new refunds of `doc` and emit Received Refund for those that are ready."""
    order_id = legacy_id(doc["id"])
    row = order_row(conn, ctx.shop, order_id)
    assert row is not None
    order_status = row["status"]
    connected = parse_ts(first_connected_at)
    created: list[int] = []
    for refund in doc.get("refunds") or []:
        refund_id = legacy_id(refund["id"])
        ts = _refund_ts(refund)
        known = conn.execute(
            "SELECT status FROM refunds WHERE shop = ? AND refund_id = ?", (ctx.shop, refund_id)
        ).fetchone()
        detail = orjson.dumps(refund).decode() if "transactions" in refund else None
        if known is None:
            if ts is not None and parse_ts(ts) < connected:
                status = "history"
            elif order_status == "excluded" or row["exclusion_rule"] is not None:
                status = "excluded"
            else:
                status = "waiting"
            conn.execute(
                "INSERT INTO refunds (shop, refund_id, order_id, gid, timestamp, status, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ctx.shop, refund_id, order_id, refund["id"], ts, status, detail),
            )
        else:
            status = known[0]
            if detail is not None:
                conn.execute(
                    "UPDATE refunds SET detail = ?, timestamp = ? WHERE shop = ? AND refund_id = ?",
                    (detail, ts, ctx.shop, refund_id),
                )
        if status != "waiting":
            continue
        if order_status == "excluded":
            _set_refund(conn, ctx, refund_id, "excluded")
            continue
        if order_status in ("new", "held"):
            continue  # waits for the Placed Order to be built
        outcome = build_received_refund(
            doc, refund, store_domain=ctx.shop, currency=ctx.currency, channel_table=ctx.channel_table
        )
        if outcome.status == "waiting":
            continue
        if outcome.status == "zero_amount_refund":
            _set_refund(conn, ctx, refund_id, "zero_amount_refund")
            continue
        assert outcome.event is not None
        seq = insert_event(conn, ctx, outcome.event, order_id=order_id, refund_id=refund_id, now=now)
        conn.execute(
            "UPDATE refunds SET status = 'evented', event_seq = ? WHERE shop = ? AND refund_id = ?",
            (seq, ctx.shop, refund_id),
        )
        if seq is not None:
            created.append(seq)
    return created


def _set_refund(conn: sqlite3.Connection, ctx: SourceContext, refund_id: str, status: str) -> None:
    conn.execute("UPDATE refunds SET status = ? WHERE shop = ? AND refund_id = ?", (status, ctx.shop, refund_id))


def known_refund_details(conn: sqlite3.Connection, shop: str, order_id: str) -> dict[str, dict[str, Any]]:
    """Refund details already read, keyed by refund gid, for refunds whose money is settled."""
    rows = conn.execute(
        "SELECT gid, detail, status FROM refunds WHERE shop = ? AND order_id = ? AND detail IS NOT NULL",
        (shop, order_id),
    ).fetchall()
    return {gid: orjson.loads(detail) for gid, detail, status in rows if status != "waiting"}


def with_cached_details(conn: sqlite3.Connection, shop: str, doc: OrderDoc) -> OrderDoc:
    return merge_refund_details(doc, known_refund_details(conn, shop, legacy_id(doc["id"])))
