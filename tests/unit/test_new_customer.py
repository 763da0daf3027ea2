"""`$is_new_customer`: the rules, the query asked of Shopify, and the per-customer cache in the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.decide import new_customer as rules
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.errors import TemporaryFailure
from shopify_bridge.service import new_customers
from shopify_bridge.shopify.new_customer import count_earlier_orders, customer_term, earlier_orders_search
from shopify_bridge.store import Store
from shopify_bridge.store.db import StorageFailure
from tests.backend_sql import every_row
from tests.fakes import make_order

T0 = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
ALICE = {"id": "gid://shopify/Customer/77"}
SHOP = "demo.myshopify.com"
CTX = SourceContext(shop=SHOP, name="Demo")
ALL_SCOPES = ["read_orders", "read_all_orders"]


def order(number: int, at: datetime, **overrides: Any) -> dict[str, Any]:
    return make_order(number, at, **overrides)


class Counting:
    """Answers `ordersCount` with a fixed count (and the shop's scopes); keeps the searches it was asked."""

    def __init__(self, count: int | None, scopes: list[str] = ALL_SCOPES) -> None:
        self.count = count
        self.scopes = scopes
        self.searches: list[str] = []
        self.requests = 0

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        if "BridgeShopInfo" in document:
            return {"currentAppInstallation": {"accessScopes": [{"handle": s} for s in self.scopes]}}
        self.requests += 1
        asked = [value for name, value in sorted((variables or {}).items()) if name.startswith("q")]
        self.searches += asked  # one aliased `ordersCount` per order: c0, c1…
        answer = None if self.count is None else {"count": self.count, "precision": "EXACT"}
        return {f"c{i}": answer for i in range(len(asked))}


@pytest.fixture
def store(database: Path | str) -> Iterator[Store]:
    """A store with the shop's source: once on SQLite, once on PostgreSQL."""
    made = Store.open_writer(database)
    made.sources.ensure(SHOP, "Demo")
    yield made
    made.close()


def test_the_customer_is_searched_by_id_and_a_guest_by_email() -> None:
    assert customer_term(order(1, T0, customer=ALICE)) == "customer_id:77"
    assert customer_term(order(2, T0, email=" ann@example.com ")) == "email:'ann@example.com'"
    assert customer_term(order(3, T0, email=None)) is None
    assert customer_term(order(4, T0, email="o'brien@example.com")) == "email:'o\\'brien@example.com'"


async def test_shopify_is_asked_for_orders_up_to_one_second_before() -> None:
    shopify = Counting(0)
    first = order(1, T0, customer=ALICE)
    assert await count_earlier_orders(shopify, "Demo", [first]) == {first["id"]: 0}
    assert shopify.searches == ["customer_id:77 processed_at:<'2026-04-10T11:59:59Z' test:false"]
    assert await count_earlier_orders(Counting(2), "Demo", [first]) == {first["id"]: 2}
    assert await count_earlier_orders(Counting(None), "Demo", [first]) == {}  # no answer: left out
    guest = order(2, T0, customer=None, email="ann@example.com")
    nobody = order(3, T0, customer=None, email=None)
    several = Counting(1)
    assert await count_earlier_orders(several, "Demo", [first, nobody, guest]) == {first["id"]: 1, guest["id"]: 1}
    assert (several.requests, len(several.searches)) == (1, 2)        # one request; no customer, no search
    assert earlier_orders_search(order(1, T0, email=None)) is None


class Failing:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        raise self.error


async def test_a_failed_lookup_is_left_out_but_a_store_failure_goes_through() -> None:
    first = order(1, T0, customer=ALICE)
    # Shopify's failure: the property cannot be determined now; the order is asked about again later.
    assert await count_earlier_orders(Failing(TemporaryFailure("HTTP 503")), "Demo", [first]) == {}
    # A write that failed under the call (the store raising through a callback) is the process's to handle.
    with pytest.raises(StorageFailure):
        await count_earlier_orders(Failing(StorageFailure("disk full")), "Demo", [first])


def test_a_count_means_new_only_when_every_order_is_visible() -> None:
    assert rules.from_count(0, all_orders_visible=True) is True
    assert rules.from_count(0, all_orders_visible=False) is None       # older orders may be invisible
    assert rules.from_count(3, all_orders_visible=False) is False      # an earlier order is visible
    assert rules.from_count(None, all_orders_visible=True) is None


def test_an_order_counts_for_its_customer_and_its_email_and_test_orders_never() -> None:
    both = order(1, T0, customer=ALICE, email=" Ann@Example.com ")
    assert rules.known_keys(both) == ["customer:77", "email:ann@example.com"]
    assert rules.lookup_key(both) == "customer:77"
    assert rules.lookup_key(order(2, T0, customer=None, email="G@x.io")) == "email:g@x.io"
    assert not rules.counts_as_earlier(order(3, T0, test=True))


def test_only_strictly_earlier_orders_settle_as_returning() -> None:
    doc = order(1, T0)
    assert rules.returning(T0 - timedelta(seconds=1), doc)
    assert not rules.returning(T0, doc)                                # the same second: Shopify is asked
    assert not rules.returning(None, doc)
    assert rules.from_complete_history(None, doc, all_orders_visible=True) is True
    assert rules.from_complete_history(None, doc, all_orders_visible=False) is None
    assert rules.from_complete_history(T0 - timedelta(days=3), doc, all_orders_visible=False) is False


async def test_a_customer_is_asked_about_once_and_their_later_orders_are_settled_from_the_store(
    store: Store,
) -> None:
    shopify = Counting(0)
    first = order(1, T0, customer=ALICE)
    assert await new_customers.is_new_customer(shopify, store, CTX, first) is True
    later = order(2, T0 + timedelta(days=3), customer=ALICE)
    assert await new_customers.is_new_customer(shopify, store, CTX, later) is False
    assert len(shopify.searches) == 1
    assert store.sources.scopes(SHOP) == set(ALL_SCOPES)               # read once, then kept


async def test_a_returning_answer_is_kept_for_the_customers_later_orders(store: Store) -> None:
    shopify = Counting(4, scopes=["read_orders"])
    assert await new_customers.is_new_customer(shopify, store, CTX, order(1, T0, customer=ALICE)) is False
    shopify.count = 0   # the search index lags: a later order is settled from what was learned
    assert await new_customers.is_new_customer(shopify, store, CTX, order(2, T0 + timedelta(hours=1),
                                                                          customer=ALICE)) is False
    assert len(shopify.searches) == 1


async def test_without_read_all_orders_true_is_never_asserted(store: Store) -> None:
    shopify = Counting(0, scopes=["read_orders"])
    assert await new_customers.is_new_customer(shopify, store, CTX, order(1, T0, customer=ALICE)) is None


async def test_orders_taken_in_settle_later_orders_of_the_same_email_without_asking(store: Store) -> None:
    new_customers.note_orders(store, SHOP, [order(1, T0, customer=ALICE, email="ann@example.com"),
                                            order(2, T0 - timedelta(days=1), customer=None, email="t@x.io",
                                                  test=True)])
    shopify = Counting(0)
    guest = order(3, T0 + timedelta(days=1), customer=None, email=" ANN@example.com")
    assert await new_customers.is_new_customer(shopify, store, CTX, guest) is False
    tester = order(4, T0, customer=None, email="t@x.io")                # a test order never counts
    assert await new_customers.is_new_customer(shopify, store, CTX, tester) is True
    assert len(shopify.searches) == 1


def test_the_store_keeps_the_earliest_moment_and_no_email(store: Store) -> None:
    store.customers.note(SHOP, {"email:ann@example.com": T0})
    store.customers.note(SHOP, {"email:ann@example.com": T0 + timedelta(days=1)})
    store.customers.note(SHOP, {"email:ann@example.com": T0 - timedelta(days=1)})
    assert store.customers.earliest(SHOP, ["email:ann@example.com", "customer:1"]) == {
        "email:ann@example.com": T0 - timedelta(days=1)}
    dump = every_row(store)
    assert "customer_orders" in dump and "ann@example.com" not in dump
