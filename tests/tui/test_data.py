"""The dashboard's data layer against a store built row by row."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from shopify_bridge.store.schema import StoreError
from tests.tui.store_builder import NOW, OUTLET, SHOP, StoreBuilder, build_demo_store, placed_payload
from tui.data import DashboardStore
from tui.models import EventFilter

Demo = tuple[Path | str, dict[str, int]]


@pytest.fixture
def demo_store(database: Path | str) -> Demo:
    """The dashboard tests' store (tests/tui/conftest.py), here on SQLite and on PostgreSQL."""
    return database, build_demo_store(database)


def test_sources_show_state_age_todays_orders_bucket_and_backlog(demo_store: Demo) -> None:
    snapshot = DashboardStore(demo_store[0]).snapshot(NOW, EventFilter())
    main, outlet = snapshot.sources
    assert (main.name, main.state, main.state_reason) == ("Convergestore Store Backend", "polling", None)
    assert main.last_poll_ok_at == NOW - timedelta(seconds=15)
    assert main.cursor == "2026-05-01T11:59:40+00:00"
    assert (main.bucket_available, main.bucket_max) == (1990.0, 2000.0)
    # #1006 was processed yesterday; the other five today.
    assert main.orders_today == 5
    # The retrying delivery of #1002 is pending; the refund's converge delivery is dead.
    assert (main.pending_deliveries, main.dead_deliveries) == (1, 1)
    assert (outlet.state, outlet.state_reason) == ("failed", "401 Unauthorized: check the access token")
    assert (outlet.pending_deliveries, outlet.dead_deliveries) == (1, 0)


def test_orders_today_is_counted_in_the_shops_timezone(database: Path | str) -> None:
    builder = StoreBuilder(database)
    # 12:00 UTC is 05:00 in Los Angeles: its day began at 07:00 UTC, so 06:00 UTC was yesterday there.
    builder.source(SHOP, "West", timezone="America/Los_Angeles")
    builder.order(SHOP, "1", "#1", status="released", processed_at=NOW - timedelta(hours=4))
    builder.order(SHOP, "2", "#2", status="released", processed_at=NOW - timedelta(hours=6))
    builder.close()
    (source,) = DashboardStore(database).snapshot(NOW, EventFilter()).sources
    assert source.orders_today == 1


def test_holds_come_soonest_first_with_newest_version_items_and_edit_mark(demo_store: Demo) -> None:
    holds = DashboardStore(demo_store[0]).snapshot(NOW, EventFilter()).holds
    assert [h.name for h in holds] == ["#1003", "#1004"]
    first, edited = holds
    assert (first.total, first.currency, first.item_count, first.edited) == (
        Decimal("49.00"),
        "EUR",
        3,
        False,
    )
    assert first.release_at == NOW + timedelta(minutes=4, seconds=12)
    # Version 2 added three pairs of socks during the hold: counted from the newest version only.
    assert (edited.item_count, edited.versions, edited.edited) == (4, 2, True)


def test_events_are_newest_first_with_money_exact_and_delivery_states(demo_store: Demo) -> None:
    seqs = demo_store[1]
    events = DashboardStore(demo_store[0]).snapshot(NOW, EventFilter()).events
    assert [e.seq for e in events] == [seqs["refund"], seqs["retrying"], seqs["placed"], seqs["outlet"]]
    refund, retrying, placed, outlet = events
    assert (refund.event_name, refund.order_name, refund.total) == (
        "Received Refund",
        "#1001",
        Decimal("20.00"),
    )
    assert str(retrying.total) == "10.10"  # the wire text, not a float's idea of it
    assert placed.total == Decimal("2629.95")
    assert {d.destination: (d.state, d.attempts) for d in refund.deliveries} == {
        "converge": ("dead", 12),
        "events-file": ("delivered", 1),
    }
    assert {d.destination: d.state for d in retrying.deliveries} == {
        "converge": "retrying",
        "events-file": "delivered",
    }
    assert [(d.destination, d.state) for d in outlet.deliveries] == [("events-file", "pending")]


@pytest.mark.parametrize(
    ("event_filter", "expected"),
    [
        (EventFilter(shop=OUTLET), ["outlet"]),
        (EventFilter(event_name="Received Refund"), ["refund"]),
        (EventFilter(state="dead"), ["refund"]),
        (EventFilter(state="retrying"), ["retrying"]),
        (EventFilter(state="pending"), ["outlet"]),
        (EventFilter(state="delivered"), ["refund", "retrying", "placed"]),
        (EventFilter(shop=SHOP, event_name="Placed Order", state="delivered"), ["retrying", "placed"]),
        (EventFilter(shop=OUTLET, state="dead"), []),
    ],
)
def test_event_filters_narrow_by_source_name_and_state(
    demo_store: Demo, event_filter: EventFilter, expected: list[str]
) -> None:
    seqs = demo_store[1]
    events = DashboardStore(demo_store[0]).snapshot(NOW, event_filter).events
    assert [e.seq for e in events] == [seqs[label] for label in expected]


def _many_events(path: Path | str) -> list[tuple[int, str, dict[str, str]]]:
    """450 events whose per-destination states follow different rhythms, so state streams interleave."""
    builder = StoreBuilder(path)
    builder.source(SHOP, "Main")
    rows = []
    for n in range(450):
        states = {
            "a-file": "dead" if n % 7 == 0 else "delivered",
            "b-http": "dead" if n % 11 == 3 else ("pending" if n % 5 == 1 else "delivered"),
        }
        deliveries = {d: (s, 0 if s != "dead" else 4) for d, s in states.items()}
        name = "Received Refund" if n % 3 == 0 else "Placed Order"
        seq = builder.event(
            SHOP,
            str(n),
            placed_payload(str(n), f"#{n}", "1.00"),
            event_name=name,
            refund_id="1" if name == "Received Refund" else None,
            deliveries=deliveries,
        )
        rows.append((seq, name, states))
    builder.close()
    return rows


@pytest.mark.parametrize("state", ["dead", "pending", "delivered"])
@pytest.mark.parametrize("limit", [5, 150])
def test_state_filter_pages_through_the_index_like_a_full_scan(
    database: Path | str, state: str, limit: int
) -> None:
    rows = _many_events(database)
    store = DashboardStore(database)
    for flt in (EventFilter(state=state), EventFilter(state=state, event_name="Received Refund")):
        expected = sorted(
            (
                seq
                for seq, name, states in rows
                if state in states.values() and flt.event_name in (None, name)
            ),
            reverse=True,
        )
        page = [e.seq for e in store.snapshot(NOW, flt, events_limit=limit).events]
        assert page == expected[:limit]
        older = EventFilter(state=flt.state, event_name=flt.event_name, before_seq=page[-1])
        assert [e.seq for e in store.snapshot(NOW, older, events_limit=limit).events] == expected[
            limit : 2 * limit
        ]


def test_keyset_paging_returns_the_next_older_page(demo_store: Demo) -> None:
    seqs = demo_store[1]
    store = DashboardStore(demo_store[0])
    first = store.snapshot(NOW, EventFilter(), events_limit=2).events
    assert [e.seq for e in first] == [seqs["refund"], seqs["retrying"]]
    older = store.snapshot(NOW, EventFilter(before_seq=first[-1].seq), events_limit=2).events
    assert [e.seq for e in older] == [seqs["placed"], seqs["outlet"]]


def test_exclusions_and_errors_newest_first(demo_store: Demo) -> None:
    snapshot = DashboardStore(demo_store[0]).snapshot(NOW, EventFilter())
    assert [(x.name, x.rule, x.value) for x in snapshot.exclusions] == [
        ("#1005", "channel", "pos"),
        ("#1006", "test_order", "true"),
    ]
    assert [(e.kind, e.shop) for e in snapshot.errors] == [("delivery", SHOP), ("source", OUTLET)]


def test_event_detail_carries_the_exact_payload_and_every_delivery(demo_store: Demo) -> None:
    path, seqs = demo_store
    detail = DashboardStore(path).event_detail(seqs["retrying"])
    assert detail is not None
    assert detail.payload == placed_payload("5802", "#1002", "10.10")
    assert [(d.destination, d.state, d.attempts) for d in detail.event.deliveries] == [
        ("converge", "retrying", 3),
        ("events-file", "delivered", 1),
    ]
    assert DashboardStore(path).event_detail(999) is None


def test_order_detail_lists_newest_items_and_all_versions(demo_store: Demo) -> None:
    detail = DashboardStore(demo_store[0]).order_detail(SHOP, "5804")
    assert detail is not None
    assert [(i.title, i.quantity, i.unit_price) for i in detail.items] == [
        ("Hoodie", 1, Decimal("60.50")),
        ("Socks", 3, Decimal("5.00")),
    ]
    assert [v.version for v in detail.versions] == [1, 2]
    assert DashboardStore(demo_store[0]).order_detail(SHOP, "nope") is None


def test_a_quiet_tick_reads_nothing_and_a_commit_elsewhere_is_seen(demo_store: Demo) -> None:
    store = DashboardStore(demo_store[0])
    first = store.snapshot(NOW, EventFilter())
    if isinstance(demo_store[0], Path):
        # SQLite's counter moves only when another connection commits; PostgreSQL's (the WAL position)
        # also with any other activity on the server, so there a quiet tick may read again.
        assert store.snapshot(NOW + timedelta(seconds=1), EventFilter()) is first
    builder = StoreBuilder(demo_store[0])  # the bridge, committing on its own connection
    builder.error(NOW, SHOP, "source", "poll failed: 503")
    builder.close()
    fresh = store.snapshot(NOW + timedelta(seconds=2), EventFilter())
    assert fresh is not first and fresh.errors[0].message == "poll failed: 503"
    # A new filter, or a new quarter hour (the day may have turned in some shop), reads again.
    assert store.snapshot(NOW, EventFilter(state="dead")) is not fresh
    assert store.snapshot(NOW + timedelta(minutes=15), EventFilter()) is not fresh


def test_a_missing_database_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database"):
        DashboardStore(tmp_path / "absent.db").snapshot(NOW, EventFilter())


def test_the_dashboard_never_writes(demo_store: Demo) -> None:
    store = DashboardStore(demo_store[0])
    store.snapshot(NOW, EventFilter())
    with pytest.raises(Exception, match=r"readonly|read-only"), store._reading() as reads:
        reads.sql.run("DELETE FROM events")


def test_kept_out_deliveries_show_their_reason_filter_by_state_and_are_no_backlog(database: Path | str) -> None:
    builder = StoreBuilder(database)
    builder.source(SHOP, "Main")
    seq = builder.event(SHOP, "1", placed_payload("1", "#1", "1.00"),
                        deliveries={"events-file": ("delivered", 1), "ga4": ("skipped", 0), "meta": ("filtered", 0)})
    builder.sql.run("UPDATE deliveries SET reason = 'too_old_for_destination' WHERE destination = 'ga4'")
    builder.sql.run("UPDATE deliveries SET reason = 'channels', last_error = 'kept out by its channels = "
                    "[''web'']' WHERE destination = 'meta'")
    builder.close()
    store = DashboardStore(database)
    snapshot = store.snapshot(NOW, EventFilter(state="filtered"))
    [event] = snapshot.events
    assert event.seq == seq
    assert [(d.destination, d.state, d.reason) for d in event.deliveries] == [
        ("events-file", "delivered", None),
        ("ga4", "skipped", "too_old_for_destination"),
        ("meta", "filtered", "channels"),
    ]
    assert [e.seq for e in store.snapshot(NOW, EventFilter(state="skipped")).events] == [seq]
    [source] = snapshot.sources
    assert (source.pending_deliveries, source.dead_deliveries) == (0, 0)
