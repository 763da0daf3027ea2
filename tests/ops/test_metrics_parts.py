"""The parts of metrics and health on their own: store gauges, hooks, the health verdict."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shopify_bridge import exit_codes
from shopify_bridge.deliver.destinations.base import DeliveryResult, Outgoing
from shopify_bridge.observe.backfill_progress import BackfillProgress
from shopify_bridge.observe.health import HealthCheck, default_stale_after, evaluate
from shopify_bridge.observe.metrics import BridgeMetrics, BridgeObserver
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.store import Store
from shopify_bridge.store.reads_metrics import StoreScraper
from shopify_bridge.store.sql import Sql
from shopify_bridge.timeutil import iso
from tests.ops.scrape import SOURCE, T0, ops_config

SHOP = "sim-snowboards.myshopify.com"


def samples(metrics: BridgeMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = metrics.exposition().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def at(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def add_order(sql: Sql, order_id: str, status: str, *, shop: str = SHOP, versions: int = 1) -> None:
    sql.run("INSERT INTO orders (shop, order_id, gid, name, processed_at, updated_at, first_seen_at, status) "
                 "VALUES (?, ?, ?, ?, '2026', '2026', '2026', ?)", (shop, order_id, f"gid:{order_id}", "#1", status))
    for version in range(1, versions + 1):
        sql.run("INSERT INTO order_versions (shop, order_id, version, updated_at, fetched_at, origin, "
                     "content_hash, doc) VALUES (?, ?, ?, 'u', 'f', 'poll', 'h', '{}')", (shop, order_id, version))


def add_event(sql: Sql, order_id: str, name: str, created: str, destinations: list[str]) -> int:
    (seq,) = sql.returning(
        "INSERT INTO events (shop, event_id, event_name, order_id, timestamp, created_at, payload) "
        "VALUES (?, ?, ?, ?, 't', ?, '{}') RETURNING seq", (SHOP, f"{order_id}-{name}", name, order_id, created)
    ) or (0,)
    for destination in destinations:
        sql.run("INSERT INTO deliveries (event_seq, destination, state, next_attempt_at, created_at) "
                "VALUES (?, ?, 'pending', ?, ?)", (seq, destination, created, created))
    return seq


def test_store_gauges_and_totals_come_from_the_store_and_grow_with_it(tmp_path: Path, database: Path | str) -> None:
    clock = ManualClock(T0)
    config = ops_config(tmp_path, "http://127.0.0.1:9", broken_destination=True, database=database)
    metrics = BridgeMetrics(config, clock=clock)
    assert at(samples(metrics), "shopify_bridge_orders_stored", source=SOURCE) is None   # no database yet: no error

    store = Store.open_writer(config.database)
    conn = store.sql
    add_order(conn, "1", "held", versions=2)
    add_order(conn, "2", "released")
    add_order(conn, "9", "released", shop="gone-store.myshopify.com")        # a source no longer configured
    seq = add_event(conn, "2", "Placed Order", iso(T0 - timedelta(seconds=90)), ["events-file", "broken-file"])
    found = samples(metrics)
    assert at(found, "shopify_bridge_orders_stored", source=SOURCE) == 2
    assert at(found, "shopify_bridge_orders_stored", source="gone-store.myshopify.com") == 1
    assert at(found, "shopify_bridge_order_versions_stored_total", source=SOURCE) == 3
    assert at(found, "shopify_bridge_events_created_total", source=SOURCE, event_name="Placed Order") == 1
    assert at(found, "shopify_bridge_holds_pending", source=SOURCE) == 1
    assert at(found, "shopify_bridge_deliveries", destination="broken-file", state="pending") == 1
    assert at(found, "shopify_bridge_oldest_pending_delivery_age_seconds", destination="events-file") == 90
    assert at(found, "shopify_bridge_throttle_available_points", source=SOURCE) is None   # no cycle yet

    # Later scrapes add only what is new, and follow state changes.
    add_order(conn, "3", "held", versions=1)
    add_event(conn, "2", "Received Refund", iso(T0), ["events-file"])
    store.outbox.mark_dead("broken-file", seq, "HTTP 400", 400)
    conn.run("UPDATE deliveries SET state = 'delivered' WHERE destination = 'events-file'")
    conn.run("INSERT INTO sources (shop, name, bucket_available, bucket_max) VALUES (?, ?, 1500, 2000)",
             (SHOP, SOURCE))
    found = samples(metrics)
    assert at(found, "shopify_bridge_orders_stored", source=SOURCE) == 3
    assert at(found, "shopify_bridge_order_versions_stored_total", source=SOURCE) == 4
    assert at(found, "shopify_bridge_events_created_total", source=SOURCE, event_name="Placed Order") == 1
    assert at(found, "shopify_bridge_events_created_total", source=SOURCE, event_name="Received Refund") == 1
    assert at(found, "shopify_bridge_holds_pending", source=SOURCE) == 2
    assert at(found, "shopify_bridge_dead_letters", destination="broken-file") == 1
    assert at(found, "shopify_bridge_deliveries", destination="broken-file", state="dead") == 1
    assert at(found, "shopify_bridge_deliveries", destination="broken-file", state="pending") == 0
    assert at(found, "shopify_bridge_oldest_pending_delivery_age_seconds", destination="events-file") == 0
    assert at(found, "shopify_bridge_throttle_available_points", source=SOURCE) == 1500
    assert at(found, "shopify_bridge_throttle_maximum_points", source=SOURCE) == 2000
    store.close()
    metrics.close()


def test_an_unreadable_store_skips_the_scrape_and_the_next_one_reads_again(tmp_path: Path) -> None:
    path = tmp_path / "bridge.db"
    path.write_bytes(b"not a database, not yet" * 100)
    scraper = StoreScraper(path)
    assert scraper.scrape(["events-file"], ["pending"]) is None
    path.unlink()
    store = Store.open_writer(path)
    add_order(store.sql, "1", "held")
    add_event(store.sql, "1", "Placed Order", iso(T0), ["events-file"])
    scrape = scraper.scrape(["events-file"], ["pending"])
    assert scrape is not None
    assert (scrape.orders, scrape.held, scrape.deliveries) == ({(SHOP,): 1}, {SHOP: 1}, {("events-file", "pending"): 1})
    assert scrape.oldest_pending == {"events-file": T0}
    store.close()
    scraper.close()


def test_poll_outcomes_are_counted_by_kind_and_only_success_marks_the_source_alive(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    metrics = BridgeMetrics(ops_config(tmp_path, "http://127.0.0.1:9"), clock=clock)
    metrics.poll_finished(SOURCE, exit_codes.OK)
    clock.advance(30)
    for code in (exit_codes.TEMPFAIL, exit_codes.NOPERM, exit_codes.CONFIG, exit_codes.UNAVAILABLE, 1):
        metrics.poll_finished(SOURCE, code)
    found = samples(metrics)
    for outcome in ("ok", "temporary", "auth", "config", "unavailable", "error"):
        assert at(found, "shopify_bridge_polls_total", source=SOURCE, outcome=outcome) == 1
    assert at(found, "shopify_bridge_source_up", source=SOURCE) == 0
    assert metrics.last_success[SOURCE] == T0
    assert at(found, "shopify_bridge_last_successful_poll_timestamp_seconds", source=SOURCE) == T0.timestamp()


def test_backfill_progress_keeps_a_source_alive_and_times_each_bulk_operation(tmp_path: Path) -> None:
    clock, monotonic = ManualClock(T0), Monotonic()
    metrics = BridgeMetrics(ops_config(tmp_path, "http://127.0.0.1:9"), clock=clock, monotonic=monotonic)
    window = "2026-01-01..2026-02-01"
    metrics.backfill_progress(BackfillProgress(SOURCE, "running", window, 0))
    monotonic.now += 40
    clock.advance(40)
    metrics.backfill_progress(BackfillProgress(SOURCE, "running", window, 500))   # still the same operation
    monotonic.now += 20
    metrics.backfill_progress(BackfillProgress(SOURCE, "downloading", window, 0, 1000))
    metrics.backfill_progress(BackfillProgress(SOURCE, "downloading", window, 1000, 1000))
    found = samples(metrics)
    assert at(found, "shopify_bridge_bulk_operation_duration_seconds_count", source=SOURCE) == 1
    assert at(found, "shopify_bridge_bulk_operation_duration_seconds_sum", source=SOURCE) == 60
    assert at(found, "shopify_bridge_bulk_operation_duration_seconds_bucket", source=SOURCE, le="60.0") == 1
    assert at(found, "shopify_bridge_bulk_operation_duration_seconds_bucket", source=SOURCE, le="15.0") == 0
    assert metrics.last_alive[SOURCE] == clock() and SOURCE not in metrics.last_success


async def test_the_counting_destination_counts_each_outcome_and_passes_results_through(tmp_path: Path) -> None:
    metrics = BridgeMetrics(ops_config(tmp_path, "http://127.0.0.1:9"), clock=ManualClock(T0))

    class Mixed:
        name, batch_size = "events-file", 3
        opened = closed = False

        async def open(self) -> None:
            self.opened = True

        async def close(self) -> None:
            self.closed = True

        async def send(self, items: list[Outgoing]) -> list[DeliveryResult]:
            return [DeliveryResult("delivered"), DeliveryResult("retry", 503), DeliveryResult("dead", 400)]

    inner = Mixed()
    counting = metrics.observe_destination(inner)
    assert (counting.name, counting.batch_size) == ("events-file", 3)
    await counting.open()
    results = await counting.send([Outgoing("1", b"{}"), Outgoing("2", b"{}"), Outgoing("3", b"{}")])
    await counting.close()
    assert [r.outcome for r in results] == ["delivered", "retry", "dead"] and inner.opened and inner.closed
    found = samples(metrics)
    for outcome in ("delivered", "retry", "dead"):
        assert at(found, "shopify_bridge_delivery_attempts_total", destination="events-file", outcome=outcome) == 1
    assert BridgeObserver().observe_destination(inner) is inner       # without metrics: the destination itself


def test_health_judges_each_source_never_polled_failed_or_stale_against_its_window() -> None:
    assert (default_stale_after(15), default_stale_after(30)) == (60, 90)   # max(3 × interval, 60 s)
    windows = {"A": 60.0, "B": 60.0, "C": 60.0, "D": 60.0}
    alive = {"A": T0 + timedelta(seconds=100), "C": T0 + timedelta(seconds=10), "D": T0 + timedelta(seconds=100)}
    states = {"A": ("polling", None), "C": ("polling", None), "D": ("failed", "token rejected: 401")}
    report = evaluate(windows, alive, alive, now=T0 + timedelta(seconds=150), states=states)
    assert report.healthy is False
    assert report.unhealthy == {
        "B": "never polled",
        "C": f"stale since {iso(T0 + timedelta(seconds=10))} (no successful poll for 140 s, limit 60 s)",
        "D": "failed: token rejected: 401",                                 # failed now, however recent
    }
    body = report.as_dict()
    assert body["status"] == "unhealthy" and body["sources"]["A"]["healthy"] is True
    assert body["sources"]["A"]["last_success"] == iso(T0 + timedelta(seconds=100))
    assert body["store"] == {"writable": True, "problem": None}

    only_a = evaluate({"A": 60.0}, alive, alive, now=T0 + timedelta(seconds=150), states=states)
    assert only_a.healthy and only_a.summary() == "ok"
    unwritable = evaluate({"A": 60.0}, alive, alive, now=T0 + timedelta(seconds=150), states=states,
                          store_problem="heartbeat not written: attempt to write a readonly database")
    assert not unwritable.healthy and unwritable.as_dict()["store"]["writable"] is False


def test_health_check_reads_the_metrics_and_the_bridge_states_and_hides_secrets(tmp_path: Path) -> None:
    from shopify_bridge.observe.log import register_secrets

    secret = "shpat_health_canary_00112233"
    register_secrets([secret])
    clock = ManualClock(T0)
    metrics = BridgeMetrics(ops_config(tmp_path, "http://127.0.0.1:9"), clock=clock)
    state = {"now": ("polling", None)}
    check = HealthCheck(metrics, {SOURCE: 70.0}, lambda: {SOURCE: state["now"]})
    assert check.report().unhealthy == {SOURCE: "never polled"}
    metrics.poll_finished(SOURCE, exit_codes.OK)
    assert check.report().healthy
    clock.advance(71)
    assert check.report().unhealthy[SOURCE].startswith(f"stale since {iso(T0)}")
    state["now"] = ("failed", f"token {secret} rejected")
    assert check.report().as_dict()["unhealthy"] == {SOURCE: "failed: token *** rejected"}


async def test_a_taken_port_is_one_clear_error(tmp_path: Path) -> None:
    import socket

    from shopify_bridge.errors import BridgeError
    from shopify_bridge.observe.health import serving
    from shopify_bridge.service.bridge import Bridge

    config = ops_config(tmp_path, "http://127.0.0.1:9")
    metrics = BridgeMetrics(config)
    bridge = Bridge(config, metrics=metrics)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with pytest.raises(BridgeError) as caught:
            async with serving(bridge, metrics, port=busy):
                pass
    bridge.close()
    assert caught.value.exit_code == exit_codes.CONFIG                 # the port in the config must change
    assert f"127.0.0.1:{busy}" in str(caught.value)


def test_a_bridge_without_metrics_never_imports_them(tmp_path: Path) -> None:
    # `run --once` and `run` without --metrics-port start faster without prometheus_client and the scrape
    # queries; on SQLite, without psycopg and sqlite_utils (the store's connections are plain sqlite3).
    config = tmp_path / "shopify-bridge.toml"
    config.write_text(
        f'database = "{tmp_path / "bridge.db"}"\n[[sources]]\nname = "S"\nstore = "sim-snowboards"\n'
        'access_token = "shpat_x"\nstart_date = "2026-01-01"\n'
    )
    code = (
        "import asyncio, sys; from shopify_bridge.service.bridge import Bridge\n"
        "async def no_cycle(self): return []\n"
        "Bridge.run_cycle = no_cycle  # only the start-up is looked at\n"
        "from pathlib import Path\nfrom shopify_bridge.cli.run import _run\n"
        "from shopify_bridge.config import load_config\n"
        f"asyncio.run(_run(load_config(Path({str(config)!r})), once=True))\n"
        "print(sorted(m for m in ('prometheus_client', 'shopify_bridge.observe.metrics', 'psycopg', 'sqlite_utils')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
