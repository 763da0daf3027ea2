"""Benchmark of the dashboard at scale: 100,000 events and 1,000 holds.

Not a test: it prints figures. It builds a store in a temporary directory by inserting rows
directly (schema from `open_writer`): two sources, one order per event plus the holds and some
exclusions, one stored version per order (two for a tenth of the holds), two destinations per
event with delivered / retrying / dead / pending mixed in, and a few hundred errors. Then it times

- the data layer: the first snapshot on a fresh reader (opening the store, parsing every hold's
  newest version once), then warm refresh ticks, filtered ticks and the detail queries;
- the app: `DashboardApp.run_test()` until the first snapshot is on screen, then refresh ticks
  through the app (worker read + applying the rows to the tables).

Targets: opening < 1 s, each refresh tick < 50 ms.

    .venv/bin/python bench/tui.py
    .venv/bin/python bench/tui.py --events 100000 --holds 1000 --ticks 30 --extra-indexes
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

# The repo root goes first: this file is itself named `tui`, and the package must win over it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shopify_bridge.store.schema import open_writer, transaction
from shopify_bridge.timeutil import iso
from tests.tui.store_builder import NOW, order_doc, placed_payload, refund_payload
from tui.app import DashboardApp
from tui.data import DashboardStore
from tui.messages import SnapshotLoaded
from tui.models import EventFilter

SHOPS = ("convergestore.myshopify.com", "outlet.myshopify.com")
# Indexes the dashboard would like (proposed to the lead; measured with --extra-indexes).
EXTRA_INDEXES = (
    "CREATE INDEX IF NOT EXISTS orders_first_seen ON orders (shop, first_seen_at)",
    "CREATE INDEX IF NOT EXISTS events_name ON events (event_name, seq)",
    "CREATE INDEX IF NOT EXISTS events_shop ON events (shop, seq)",
)


def build(path: Path, events: int, holds: int, extra_indexes: bool) -> None:
    conn = open_writer(path, synchronous="normal").conn
    refunds = events // 10
    placed = events - refunds
    with transaction(conn):
        for shop in SHOPS:
            conn.execute(
                "INSERT INTO sources (shop, name, state, last_poll_ok_at, cursor, bucket_available, "
                "bucket_max, timezone, currency) "
                "VALUES (?, ?, 'polling', ?, ?, 1990, 2000, 'America/Toronto', 'CAD')",
                (shop, shop.split(".")[0].title(), iso(NOW), iso(NOW)),
            )
        orders, versions = [], []
        for n in range(placed + holds + 2000):
            shop = SHOPS[n % 2]
            oid, name = str(5_800_000_000_000 + n), f"#{1000 + n}"
            status = "released" if n < placed else ("held" if n < placed + holds else "excluded")
            seen = NOW - timedelta(seconds=(placed + holds + 2000 - n) * 5)
            release = iso(NOW + timedelta(seconds=n - placed)) if status == "held" else None
            rule = ("channel", "pos") if status == "excluded" else (None, None)
            orders.append(
                (
                    shop,
                    oid,
                    f"gid://shopify/Order/{oid}",
                    name,
                    iso(seen),
                    iso(seen),
                    iso(seen),
                    "59.90",
                    status,
                    release,
                    *rule,
                )
            )
            items = [("Tee", 1 + n % 3, "19.95"), ("Mug", 1, "19.95")]
            count = 2 if status == "held" and n % 10 == 0 else 1
            for version in range(1, count + 1):
                versions.append(
                    (
                        shop,
                        oid,
                        version,
                        iso(seen),
                        iso(seen),
                        "poll",
                        f"h{n}-{version}",
                        order_doc(oid, name, "59.90", items[: version + 0] if version == 1 else items),
                    )
                )
        conn.executemany(
            "INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, total, "
            "status, release_at, exclusion_rule, exclusion_value) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            orders,
        )
        conn.executemany(
            "INSERT INTO order_versions (shop, order_id, version, updated_at, fetched_at, origin, "
            "content_hash, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            versions,
        )
        event_rows: list[tuple[object, ...]] = []
        deliveries: list[tuple[object, ...]] = []
        for seq in range(1, events + 1):
            n = seq - 1 if seq <= placed else (seq - placed) * 7 % placed
            shop, oid, name = SHOPS[n % 2], str(5_800_000_000_000 + n), f"#{1000 + n}"
            created = iso(NOW - timedelta(seconds=(events - seq) * 5))
            if seq <= placed:
                event_rows.append(
                    (
                        seq,
                        shop,
                        oid,
                        "Placed Order",
                        oid,
                        None,
                        created,
                        created,
                        placed_payload(oid, name, "59.90", "CAD"),
                    )
                )
            else:
                rid = str(900_000 + seq)
                event_rows.append(
                    (
                        seq,
                        shop,
                        f"{oid}-refund-{rid}",
                        "Received Refund",
                        oid,
                        rid,
                        created,
                        created,
                        refund_payload(oid, rid, name, "19.95", "CAD"),
                    )
                )
            converge = (
                ("dead", 12) if seq % 100 == 0 else ("pending", 3) if seq % 200 == 1 else ("delivered", 1)
            )
            if seq > events - 100:
                converge = ("pending", 0)
            for destination, (state, attempts) in (("events-file", ("delivered", 1)), ("converge", converge)):
                deliveries.append(
                    (seq, destination, state, attempts, created, created if state == "delivered" else None)
                )
        conn.executemany(
            "INSERT INTO events (seq, shop, event_id, event_name, order_id, refund_id, timestamp, "
            "created_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            event_rows,
        )
        conn.executemany(
            "INSERT INTO deliveries (event_seq, destination, state, attempts, created_at, delivered_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            deliveries,
        )
        conn.executemany(
            "INSERT INTO errors (at, shop, kind, message) VALUES (?, ?, 'source', ?)",
            [
                (iso(NOW - timedelta(minutes=i)), SHOPS[i % 2], f"poll failed: HTTP 502 ({i})")
                for i in range(500)
            ],
        )
        if extra_indexes:
            for statement in EXTRA_INDEXES:
                conn.execute(statement)
    conn.close()  # no ANALYZE: the bridge's own store has no statistics either


class Writer:
    """The bridge's side: one commit between ticks, so that the dashboard has to read again."""

    def __init__(self, path: Path) -> None:
        self.conn = open_writer(path, synchronous="normal").conn
        self.count = 0

    def commit_something(self) -> None:
        self.count += 1
        self.conn.execute(
            "INSERT INTO errors (at, shop, kind, message) VALUES (?, ?, 'source', ?)",
            (iso(NOW), SHOPS[0], f"poll failed: HTTP 503 (bench {self.count})"),
        )


def timed(fn: Callable[[], object], repeat: int, before: Callable[[], None] | None = None) -> list[float]:
    out = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(label: str, ms: list[float], target: float | None = None) -> None:
    p95 = sorted(ms)[max(0, int(len(ms) * 0.95) - 1)]
    verdict = "" if target is None else ("  ok" if max(ms) < target else f"  OVER {target:.0f} ms")
    print(f"{label:<44} median {statistics.median(ms):7.1f} ms  p95 {p95:7.1f}  max {max(ms):7.1f}{verdict}")


def bench_data(path: Path, ticks: int, writer: Writer) -> None:
    store = DashboardStore(path)
    report("first snapshot (open + parse holds)", timed(lambda: store.snapshot(NOW, EventFilter()), 1), 1000)
    report("tick, store unchanged", timed(lambda: store.snapshot(NOW, EventFilter()), ticks), 50)
    change = writer.commit_something
    report(
        "tick, store changed, no filter", timed(lambda: store.snapshot(NOW, EventFilter()), ticks, change), 50
    )
    for label, flt in (
        ("tick, changed, state=dead", EventFilter(state="dead")),
        ("tick, changed, state=retrying", EventFilter(state="retrying")),
        ("tick, changed, state=pending", EventFilter(state="pending")),
        ("tick, changed, source=outlet", EventFilter(shop=SHOPS[1])),
        ("tick, changed, event=Received Refund", EventFilter(event_name="Received Refund")),
        ("tick, changed, refund + dead", EventFilter(event_name="Received Refund", state="dead")),
        ("tick, changed, older page (seq < 50,000)", EventFilter(before_seq=50_000)),
    ):
        report(label, timed(lambda flt=flt: store.snapshot(NOW, flt), ticks, change), 50)  # type: ignore[misc]
    report("event detail", timed(lambda: store.event_detail(12_345), ticks), 50)
    report("order detail", timed(lambda: store.order_detail(SHOPS[0], str(5_800_000_000_000)), ticks), 50)
    store.close()


async def bench_app(path: Path, ticks: int, writer: Writer) -> None:
    app = DashboardApp(path, refresh_seconds=3600, clock=lambda: NOW)
    start = time.perf_counter()
    async with app.run_test(size=(200, 50)):
        while app.refresh_count == 0:
            await asyncio.sleep(0.001)
        report("app: start until first snapshot shown", [(time.perf_counter() - start) * 1000], 1000)
        # The overview shows the 1,000 holds with live countdowns and the recent events: no key needed.
        for label, change in (("unchanged", None), ("changed", writer.commit_something)):
            tick_ms = []
            for _ in range(ticks):
                if change is not None:
                    change()
                before, start = app.refresh_count, time.perf_counter()
                app.request_refresh()
                while app.refresh_count == before:
                    await asyncio.sleep(0.0005)
                tick_ms.append((time.perf_counter() - start) * 1000)
            report(f"app: tick end to end, store {label}", tick_ms, 50)
        snapshot = app.store.snapshot(NOW, EventFilter())
        report(
            "app: apply an unchanged snapshot",
            timed(lambda: app.on_snapshot_loaded(SnapshotLoaded(snapshot)), ticks),
            50,
        )

        def apply_changed() -> None:
            app._last_shown.clear()  # as if every panel's rows had changed
            app.on_snapshot_loaded(SnapshotLoaded(snapshot))

        report("app: apply a changed snapshot", timed(apply_changed, ticks), 50)
        report("app: countdown tick, 1,000 holds", timed(app._tick_countdowns, ticks), 50)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--holds", type=int, default=1_000)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument(
        "--extra-indexes", action="store_true", help="add the indexes proposed for the dashboard"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        start = time.perf_counter()
        build(path, args.events, args.holds, args.extra_indexes)
        size = path.stat().st_size / 1e6
        print(
            f"built {args.events:,} events, {args.holds:,} holds in {time.perf_counter() - start:.1f} s "
            f"({size:.0f} MB){' with extra indexes' if args.extra_indexes else ''}"
        )
        writer = Writer(path)
        bench_data(path, args.ticks, writer)
        asyncio.run(bench_app(path, args.ticks, writer))
        writer.conn.close()


if __name__ == "__main__":
    main()
