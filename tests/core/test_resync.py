"""`resync` on a fake clock: it finds what the polls missed, decides what never was, and never doubles an event."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from shopify_bridge.service.resync import resync
from tests.core.test_poller_holds import T0, context, cycle, events, poller_for, status
from tests.fakes import make_order


async def test_a_source_that_never_connected_has_nothing_to_resync(database: Path | str, shopify, clock) -> None:
    poller = poller_for(database, shopify, clock, context(delay=None))
    assert await resync(poller, T0 - timedelta(hours=1)) is None
    assert shopify.calls == [] and poller.store.sql.one("SELECT first_connected_at FROM sources") == (None,)


async def test_resync_finds_a_missed_order_re_reads_everything_and_creates_no_event_twice(
    database: Path | str, shopify, clock
) -> None:
    poller = poller_for(database, shopify, clock, context(delay=None))
    await cycle(poller, clock)
    clock.advance(5)
    seen = shopify.put(make_order(1, clock()))
    missed = shopify.put(make_order(2, clock()))
    shopify.searchable_at[missed["id"]] = clock() + timedelta(minutes=20)  # beyond every poll's overlap
    await cycle(poller, clock)
    for _ in range(4):
        clock.advance(5 * 60)
        await poller.cycle()
    assert [e["event_id"] for e in events(poller)] == [seen["legacyResourceId"]]
    cursor = poller.store.sql.one("SELECT cursor FROM sources")[0]

    report = await resync(poller, T0)
    assert report is not None and report.listed == 2
    read = [gid for name, args in shopify.calls if name == "BridgeReadOrders" for gid in args["ids"]]
    assert read.count(seen["id"]) == 2, "resync reads every listed order in full, even one the store has"
    [found] = report.orders
    assert (found.found.name, found.found.new_order, found.status) == (missed["name"], True, "released")
    assert found.found.lag_seconds is not None and found.found.lag_seconds >= 20 * 60
    assert [(e.event_name, e.event_id) for e in report.events] == [("Placed Order", missed["legacyResourceId"])]
    assert poller.store.sql.one("SELECT cursor FROM sources")[0] == cursor, "the polls go on as they were"

    again = await resync(poller, T0)
    assert again is not None and again.orders == [] and again.events == []
    assert sorted(e["event_id"] for e in events(poller)) == sorted([seen["legacyResourceId"],
                                                                     missed["legacyResourceId"]])


async def test_resync_releases_a_due_hold_and_restores_a_lost_order_without_a_second_event(
    database: Path | str, shopify, clock
) -> None:
    poller = poller_for(database, shopify, clock, context(delay=600))
    await cycle(poller, clock)
    clock.advance(5)
    released = shopify.put(make_order(3, clock()))
    held = shopify.put(make_order(4, clock(), processedAt=(clock() + timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")))
    clock.advance(600)
    await cycle(poller, clock)
    assert (status(poller, 3), status(poller, 4)) == ("released", "held")
    # The store lost order 3's row and versions (say, a restored backup); its event is still there.
    poller.store.sql.run("DELETE FROM order_versions WHERE order_id = ?", (released["legacyResourceId"],))
    poller.store.sql.run("DELETE FROM orders WHERE order_id = ?", (released["legacyResourceId"],))
    clock.advance(5 * 60)
    report = await resync(poller, T0)
    assert report is not None
    assert {(o.found.name, o.found.new_order) for o in report.orders} == {(released["name"], True)}
    assert [(e.event_name, e.event_id) for e in report.events] == [("Placed Order", held["legacyResourceId"])]
    assert status(poller, 4) == "released"
    assert [e["event_id"] for e in events(poller)] == [released["legacyResourceId"], held["legacyResourceId"]]
