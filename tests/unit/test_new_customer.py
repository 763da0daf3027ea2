"""`$is_new_customer` settled from orders already read, and the query asked of Shopify otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shopify_bridge.shopify.new_customer import EarlierOrders, ask_shopify, customer_term
from tests.fakes import make_order

T0 = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)
ALICE = {"id": "gid://shopify/Customer/77"}


def order(number: int, at: datetime, **overrides: Any) -> dict[str, Any]:
    return make_order(number, at, **overrides)


class Counting:
    """Answers `ordersCount` with a fixed count and keeps the searches it was asked."""

    def __init__(self, count: int | None) -> None:
        self.count = count
        self.searches: list[str] = []

    async def execute(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.searches.append((variables or {})["query"])
        return {"ordersCount": None if self.count is None else {"count": self.count, "precision": "EXACT"}}


def test_the_customer_is_searched_by_id_and_a_guest_by_email() -> None:
    assert customer_term(order(1, T0, customer=ALICE)) == "customer_id:77"
    assert customer_term(order(2, T0, email=" ann@example.com ")) == "email:'ann@example.com'"
    assert customer_term(order(3, T0, email=None)) is None


async def test_shopify_is_asked_for_orders_up_to_one_second_before() -> None:
    shopify = Counting(0)
    assert await ask_shopify(shopify, "Demo", order(1, T0, customer=ALICE)) is True
    assert shopify.searches == ["customer_id:77 processed_at:<'2026-04-10T11:59:59Z' test:false"]
    assert await ask_shopify(Counting(2), "Demo", order(1, T0, customer=ALICE)) is False
    assert await ask_shopify(Counting(None), "Demo", order(1, T0, customer=ALICE)) is None
    assert await ask_shopify(Counting(0), "Demo", order(1, T0, email=None)) is None


async def test_a_later_order_of_a_customer_already_read_is_settled_without_asking() -> None:
    earlier, shopify = EarlierOrders(), Counting(0)
    first = order(1, T0, customer=ALICE)
    assert await earlier.is_new_customer(shopify, "Demo", first) is True
    earlier.note(first)
    assert await earlier.is_new_customer(shopify, "Demo", order(2, T0 + timedelta(days=3), customer=ALICE)) is False
    assert (earlier.asked, earlier.settled, len(shopify.searches)) == (1, 1, 1)


def test_only_strictly_earlier_non_test_orders_of_the_same_customer_settle() -> None:
    earlier = EarlierOrders()
    earlier.note(order(1, T0, customer=ALICE, test=True))
    earlier.note(order(2, T0, email="guest@example.com"))
    later = order(3, T0 + timedelta(hours=1), customer=ALICE)
    assert not earlier.settles_as_returning(later)  # a test order never counts
    assert earlier.settles_as_returning(order(4, T0 + timedelta(hours=1), email="guest@example.com"))
    earlier.note(order(5, T0, customer=ALICE))
    assert not earlier.settles_as_returning(order(6, T0, customer=ALICE))  # the same second: Shopify is asked
    assert earlier.settles_as_returning(order(7, T0 + timedelta(seconds=1), customer=ALICE))
    earlier.note(order(8, T0 - timedelta(days=1), customer=ALICE))  # read later, processed earlier
    assert earlier.settles_as_returning(order(9, T0 - timedelta(hours=1), customer=ALICE))
