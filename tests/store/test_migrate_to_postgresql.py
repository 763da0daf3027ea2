"""`shopify-bridge migrate --to postgresql://…`: the SQLite store, copied whole, verified, and usable."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import app
from shopify_bridge.store import Store
from shopify_bridge.store.copy import PROCESS_META, TABLES
from shopify_bridge.store.writer_heartbeat import record_heartbeat
from tests.core.test_poller_holds import SHOP, T0, context, poller_for
from tests.fakes import FakeClock, FakeShopify, make_order, money

TOKEN = "shpat_migrate_canary"


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "shopify-bridge.toml"
    path.write_text(
        'database = "bridge.db"\n\n[[sources]]\nname = "Demo"\nstore = "demo"\naccess_token = "${TOKEN}"\n\n'
        '[[destinations]]\nname = "events-file"\ntype = "jsonl"\npath = "events.jsonl"\n'
    )
    return path


async def lived_in_store(tmp_path: Path) -> tuple[FakeShopify, FakeClock]:
    """An SQLite store with a bit of everything: history, a hold, released orders, an edit, a refund,
    deliveries delivered, pending, dead and filtered, an error, an alert sent, a cursor and a first
    connection."""
    clock = FakeClock(T0)
    shopify = FakeShopify(clock)
    shopify.put(make_order(1, T0 - timedelta(hours=1)))  # history
    poller = poller_for(tmp_path / "bridge.db", shopify, clock, context(delay=600))
    await poller.cycle()
    clock.advance(5)
    edited = shopify.put(make_order(2, clock()))
    shopify.put(make_order(3, clock()))
    await poller.cycle()
    clock.advance(700)
    await poller.cycle()  # 2 and 3 released
    shopify.put(make_order(4, clock()))
    await poller.cycle()  # 4 held
    shopify.edit(edited["id"], currentTotalPriceSet=money("9.5"))
    clock.advance(5)
    await poller.cycle()
    store = poller.store
    [first, second] = [d.event_seq for d in store.outbox.claim("events-file", clock())]
    store.outbox.mark_delivered("events-file", [first], clock())
    store.outbox.mark_dead("events-file", second, "HTTP 400", 400)
    store.sources.set_state(SHOP, "failed", "boom", clock())
    store.alerts.record_sent("source_failed", "Demo", clock())
    store.outbox.mark_kept_out("events-file", first, "filtered", "channels", "pos is not one of ['web']")
    store.close()
    return shopify, clock


def dump(store: Store, table: str) -> list[tuple[Any, ...]]:
    where = f" WHERE key NOT IN ({', '.join(repr(k) for k in PROCESS_META)})" if table == "meta" else ""
    return sorted(store.sql.all(f"SELECT * FROM {table}{where}"), key=repr)


async def test_every_table_is_copied_and_verified_and_the_copy_is_a_working_store(
    tmp_path: Path, postgres_url: str
) -> None:
    shopify, clock = await lived_in_store(tmp_path)
    result = CliRunner().invoke(app, ["--config", str(config_file(tmp_path)), "migrate", "--to", postgres_url],
                                env={"TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert "every table's count matches" in result.output
    sqlite, pg = Store.open_reader(tmp_path / "bridge.db"), Store.open_writer(postgres_url)
    try:
        schema = {name for (name,) in sqlite.sql.all("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                    "AND name NOT LIKE 'sqlite_%'")}
        assert schema - set(TABLES) == {"workers", "leases"}      # every table but the processes' own is copied
        for table in TABLES:
            assert dump(pg, table) == dump(sqlite, table), table
        assert len(dump(pg, "orders")) == 4 and len(dump(pg, "deliveries")) >= 2
        assert len(dump(pg, "alerts_sent")) == 1 and pg.alerts.last_sent() == sqlite.alerts.last_sent()
        assert len(dump(pg, "customer_orders")) == 4                  # each order's customer: not asked again
        assert pg.reads.orders.totals() == sqlite.reads.orders.totals()
        # The copy goes on where the SQLite store stopped: same cursor, the hold still due, new seqs above.
        last_seq = pg.sql.one("SELECT MAX(seq) FROM events")[0]
        poller = poller_for(postgres_url, shopify, clock, context(delay=600))
        clock.advance(700)
        stats = await poller.cycle()
        assert [order["status"] for order in pg.reads.orders.orders_matching(
            order_id="5800000000004", name="", gid="")] == ["released"]
        assert stats.events_created and min(stats.events_created) > last_seq
        assert pg.sql.one("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM events") == (3, 3)  # 2 before, 1 after
        poller.store.close()
    finally:
        sqlite.close()
        pg.close()


async def test_a_store_is_never_copied_over_another_nor_from_under_a_running_bridge(
    tmp_path: Path, postgres_url: str
) -> None:
    await lived_in_store(tmp_path)
    config = config_file(tmp_path)
    other = Store.open_writer(postgres_url)
    other.sources.ensure("other.myshopify.com", "Other")
    other.close()
    secret_url = postgres_url.replace("postgres@", "postgres:pw-canary@")
    refused = CliRunner().invoke(app, ["--config", str(config), "migrate", "--to", secret_url], env={"TOKEN": TOKEN})
    assert refused.exit_code == exit_codes.CONFIG, refused.output
    assert "already holds a store (sources 1)" in refused.output and "pw-canary" not in refused.output
    check = Store.open_reader(postgres_url)
    assert check.sql.one("SELECT COUNT(*) FROM orders")[0] == 0  # nothing was written
    check.close()

    writer = Store.open_writer(tmp_path / "bridge.db")
    from datetime import UTC, datetime

    record_heartbeat(writer.sql, 4242, datetime.now(UTC))
    writer.close()
    busy = CliRunner().invoke(app, ["--config", str(config), "migrate", "--to", postgres_url], env={"TOKEN": TOKEN})
    assert busy.exit_code == exit_codes.TEMPFAIL and "pid 4242" in busy.output, busy.output

    running = Store.open_writer(tmp_path / "bridge.db", exclusive=True)    # a bridge holding the writer lock
    try:
        locked = CliRunner().invoke(app, ["--config", str(config), "migrate", "--to", postgres_url],
                                    env={"TOKEN": TOKEN})
    finally:
        running.close()
    assert locked.exit_code == exit_codes.TEMPFAIL, locked.output
    assert f"(pid {os.getpid()}) is already writing" in locked.output, locked.output


@pytest.mark.parametrize("to", ["mysql://x/y", "postgresql://host-without-db"])
def test_a_bad_target_is_a_usage_error(tmp_path: Path, to: str) -> None:
    result = CliRunner().invoke(app, ["--config", str(config_file(tmp_path)), "migrate", "--to", to],
                                env={"TOKEN": TOKEN})
    assert result.exit_code == exit_codes.USAGE, result.output
