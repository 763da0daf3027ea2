"""A quiet poll (nothing changed) is one listing request and no write; its notes are written in batches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any

from shopify_bridge.service.poll_notes import PollNotes
from shopify_bridge.service.poller import SourcePoller
from shopify_bridge.store import Store
from shopify_bridge.store.sql import Sql
from shopify_bridge.timeutil import iso
from tests.core.test_poll_windows import cursor, listings, located, make_poller
from tests.core.test_poller_holds import SHOP, cycle
from tests.fakes import FakeClock, FakeShopify, make_order

WRITES = ("INSERT", "UPDATE", "DELETE")


class StatementSpy:
    """Every statement and transaction the store's runner is asked for while `watching`."""

    def __init__(self, sql: Sql) -> None:
        self.statements: list[str] = []
        self.transactions = 0
        self._on = False
        cursor, run_many, transaction = sql.cursor, sql.run_many, sql.transaction

        def spied_cursor(statement: str, params: Any = ()) -> Any:
            if self._on:
                self.statements.append(statement)
            return cursor(statement, params)

        def spied_run_many(statement: str, rows: Any) -> int:
            if self._on:
                self.statements.append(statement)
            return run_many(statement, rows)

        def spied_transaction() -> AbstractContextManager[None]:
            self.transactions += self._on
            return transaction()

        sql.cursor = spied_cursor  # type: ignore[method-assign]
        sql.run_many = spied_run_many  # type: ignore[method-assign]
        sql.transaction = spied_transaction  # type: ignore[method-assign]

    @contextmanager
    def watching(self) -> Iterator[None]:
        self.statements.clear()
        self.transactions = 0
        self._on = True
        try:
            yield
        finally:
            self._on = False

    @property
    def writes(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith(WRITES)]


def quiet_poller(database: Any, shopify: FakeShopify, clock: FakeClock) -> tuple[SourcePoller, PollNotes]:
    """A poller whose quiet windows' cursors go to batched notes, as the bridge's do."""
    poller = make_poller(database, shopify, clock)
    poller.notes = notes = PollNotes(poller.store)
    return poller, notes


async def settled(poller: SourcePoller, clock: FakeClock) -> None:
    """Past the first poll (which records the first connection) and the first sweep (which records its time)."""
    await cycle(poller, clock)
    clock.advance(20)
    await cycle(poller, clock)


async def test_a_quiet_poll_is_one_listing_and_writes_nothing(database, shopify: FakeShopify, clock) -> None:
    poller, notes = quiet_poller(database, shopify, clock)
    spy = StatementSpy(poller.store.sql)
    await settled(poller, clock)
    notes.flush()
    before = cursor(poller)
    calls = len(shopify.calls)
    clock.advance(15)
    with spy.watching():
        await poller.cycle()
    assert [name for name, _ in shopify.calls[calls:]] == ["BridgeListOrders"]
    assert spy.writes == [] and spy.transactions == 0
    assert cursor(poller) == before, "the cursor waits for the batch"
    assert len(notes) == 1
    notes.flush()
    assert cursor(poller) > before


async def test_the_next_quiet_window_starts_from_the_cursor_not_yet_written(
    database, shopify: FakeShopify, clock
) -> None:
    poller, _notes = quiet_poller(database, shopify, clock)
    await settled(poller, clock)
    clock.advance(15)
    await poller.cycle()
    first = listings(shopify)[-1]
    clock.advance(15)
    await poller.cycle()
    assert listings(shopify)[-1] != first, "the window moved on with the cursor kept in memory"


async def test_an_order_is_written_with_its_cursor_and_nothing_is_missed_after_a_restart(
    database, shopify: FakeShopify, clock
) -> None:
    poller, _notes = quiet_poller(database, shopify, clock)
    await settled(poller, clock)
    clock.advance(15)
    await poller.cycle()  # quiet: its cursor only in the notes, never flushed (the process dies)
    clock.advance(5)
    shopify.put(make_order(1, clock()))
    restarted = make_poller(database, shopify, clock)
    await cycle(restarted, clock)
    stored = restarted.store.sql.one("SELECT COUNT(*) FROM orders")[0]
    assert stored == 1
    assert cursor(restarted) == iso(clock() - timedelta(seconds=2)), "the order's window commits its cursor"


async def test_notes_never_move_a_cursor_back_and_a_state_written_keeps_its_own(database, clock) -> None:
    store = Store.open_writer(located(database))
    store.sources.ensure(SHOP, "Demo")
    store.sources.advance_cursor(SHOP, clock())
    notes = PollNotes(store)

    def row() -> tuple[Any, ...]:
        return tuple(store.sql.one("SELECT cursor, state, bucket_available FROM sources WHERE shop = ?", (SHOP,)))

    notes.polled(SHOP, clock(), (2000.0, 1500.0, 100.0))
    assert row() == (iso(clock()), "polling", 1500.0), "the first good poll is shown at once"
    notes.advanced(SHOP, clock() - timedelta(seconds=30))  # a late note: the cursor went further meanwhile
    notes.polled(SHOP, clock(), (2000.0, 1000.0, 100.0))
    assert row() == (iso(clock()), "polling", 1500.0), "later ones wait for the batch"
    notes.state_written(SHOP)  # the source failed meanwhile: that state is written at once
    store.sources.set_state(SHOP, "failed", "boom", clock())
    assert notes.flush() == 1
    assert row() == (iso(clock()), "failed", 1500.0)
    later = clock() + timedelta(seconds=15)
    notes.polled(SHOP, later, (2000.0, 900.0, 100.0))
    assert row() == (iso(clock()), "polling", 900.0), "a recovery is shown at once"
    notes.advanced(SHOP, later)
    assert notes.flush() == 1
    assert row() == (iso(later), "polling", 900.0)
    assert notes.flush() == 0


async def test_many_sources_notes_are_one_transaction(database, clock) -> None:
    store = Store.open_writer(located(database))
    shops = [f"shop-{n}.myshopify.com" for n in range(50)]
    for shop in shops:
        store.sources.ensure(shop, shop)
    notes = PollNotes(store)
    for shop in shops:
        notes.polled(shop, clock(), (2000.0, 1000.0, 100.0))  # shown polling at once
    clock.advance(15)
    spy = StatementSpy(store.sql)
    with spy.watching():
        for shop in shops:
            notes.polled(shop, clock(), (2000.0, 1000.0, 100.0))
            notes.advanced(shop, clock())
        assert spy.statements == [], "quiet polls write nothing by themselves"
        assert notes.flush() == 50
    assert spy.transactions == 1 and len(spy.writes) == 3
    assert store.sql.one("SELECT COUNT(*) FROM sources WHERE cursor = ?", (iso(clock()),))[0] == 50
    assert store.sql.one("SELECT COUNT(*) FROM sources WHERE last_poll_at = ?", (iso(clock()),))[0] == 50
