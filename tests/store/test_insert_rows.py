"""`Sql.insert_rows`: many rows in multi-row INSERTs of `INSERT_CHUNK` rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from shopify_bridge.store import Store
from shopify_bridge.store.sql import INSERT_CHUNK

INTO = "customer_orders (shop, customer_key, earliest_at)"


def rows(count: int) -> list[tuple[str, str, str]]:
    return [(f"shop-{n % 3}", f"key-{n}", f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}+00:00") for n in range(count)]


def stored(store: Store) -> list[tuple[str, str, str]]:
    return sorted(tuple(row) for row in store.sql.all("SELECT shop, customer_key, earliest_at FROM customer_orders"))


def test_every_row_goes_in_over_several_statements(store: Store) -> None:
    wanted = rows(2 * INSERT_CHUNK + 7)  # two full statements and a shorter one
    with store.sql.transaction():
        assert store.sql.insert_rows(INTO, wanted) == len(wanted)
    assert stored(store) == sorted(wanted)


def test_no_rows_run_no_statement(store: Store) -> None:
    assert store.sql.insert_rows(INTO, []) == 0
    assert stored(store) == []


def test_a_failing_row_fails_the_call_and_its_transaction_keeps_nothing(store: Store) -> None:
    wanted = rows(INSERT_CHUNK + 3)
    with pytest.raises(store.sql.errors), store.sql.transaction():
        store.sql.insert_rows(INTO, [*wanted, wanted[0]])  # the same key again, in the second statement
    assert stored(store) == []


def test_a_conflict_clause_applies_to_every_row(store: Store) -> None:
    first = rows(INSERT_CHUNK + 5)
    with store.sql.transaction():
        store.sql.insert_rows(INTO, first)
    # Each key again: the odd ones a minute earlier (kept), the even ones a minute later (ignored).
    again = [(shop, key, at.replace("2026-01-01T00", "2025-12-31T23" if n % 2 else "2026-01-01T01"))
             for n, (shop, key, at) in enumerate(first)]
    with store.sql.transaction():
        store.sql.insert_rows(INTO, again, "ON CONFLICT (shop, customer_key) DO UPDATE SET earliest_at = "
                              "excluded.earliest_at WHERE excluded.earliest_at < customer_orders.earliest_at")
    assert stored(store) == sorted(again[n] if n % 2 else first[n] for n in range(len(first)))
