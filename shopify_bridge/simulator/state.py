"""The simulated shop: its orders, clock, rate-limit bucket and faults — the Python control object.

Everything the HTTP API serves comes from here, and everything an operator or a test may do to the
shop (create, edit, tag, cancel, delete, refund, settle, advance the clock, inject faults) is a
method here; the `/_sim` control API only translates JSON into these calls.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from shopify_bridge.simulator import changes
from shopify_bridge.simulator.bulk import BulkEngine
from shopify_bridge.simulator.clock import Clock, ManualClock, system_clock
from shopify_bridge.simulator.data import APPS, Product, Variant, build_catalog, random_customer
from shopify_bridge.simulator.faults import Fault, FaultQueue
from shopify_bridge.simulator.orders import Doc, gid, gid_number, public_doc
from shopify_bridge.simulator.store import OrderStore
from shopify_bridge.simulator.throttle import DEFAULT_MAXIMUM, DEFAULT_RESTORE_RATE, LeakyBucket

DEFAULT_SCOPES = ("read_customer_events", "read_customers", "read_orders", "read_products", "read_all_orders")
DEFAULT_API_VERSIONS = ("2025-07", "2025-10", "2026-01", "2026-04", "2026-07")
ID_BASES = {
    "Order": 5801234500001,
    "LineItem": 19495196160001,
    "Refund": 1028613300001,
    "RefundLineItem": 654574900001,
    "OrderTransaction": 10572748200001,
    "Customer": 7001234500001,
    "MailingAddress": 8801234500001,
    "RefundShippingLine": 3101234500001,
    "BulkOperation": 7933223700001,
}


class ManualClockRequired(RuntimeError):
    """The clock can only be advanced when the simulator runs on a ManualClock."""


class IdSequence:
    """Shopify-looking numeric ids, one increasing sequence per resource type."""

    def __init__(self) -> None:
        self._next = dict(ID_BASES)
        self._order_number = 1001

    def next(self, kind: str) -> int:
        value = self._next.setdefault(kind, 9000000000001)
        self._next[kind] = value + 1
        return value

    def next_order_number(self) -> int:
        value = self._order_number
        self._order_number += 1
        return value


class SimulatorState:
    def __init__(
        self,
        *,
        token: str,
        seed: int = 0,
        orders: int = 0,
        clock: Clock | None = None,
        search_lag_seconds: float = 2.0,
        api_versions: Sequence[str] = DEFAULT_API_VERSIONS,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        shop_currency: str = "CAD",
        shop_domain: str = "sim-snowboards.myshopify.com",
        bucket_size: int = DEFAULT_MAXIMUM,
        restore_rate: int = DEFAULT_RESTORE_RATE,
        history_days: int = 30,
    ) -> None:
        self.token = token
        self.clock: Clock = clock or system_clock
        self.rng = random.Random(seed)
        self.search_lag_seconds = search_lag_seconds
        self.api_versions = tuple(sorted(api_versions))
        self.scopes = list(scopes)
        self.ids = IdSequence()
        self.store = OrderStore()
        self.bucket = LeakyBucket(self.clock, bucket_size, restore_rate)
        self.faults = FaultQueue()
        self.catalog: list[Product] = build_catalog()
        self.customers: list[dict[str, Any]] = []
        # Extension points for bulk operations (another module): operations by gid, and mutation
        # resolvers by field name, called as handler(state, **arguments) -> payload dict.
        self.bulk_operations: dict[str, Doc] = {}
        self.mutation_handlers: dict[str, Any] = {}
        self.bulk = BulkEngine(self)  # fills both: bulk_operations becomes a clock-aware mapping
        self.shop: Doc = {
            "__typename": "Shop",
            "id": gid("Shop", 69004571954),
            "name": "Sim Snowboards",
            "myshopifyDomain": shop_domain,
            "email": "owner@sim-snowboards.example",
            "currencyCode": shop_currency,
            "ianaTimezone": "America/Toronto",
            "timezoneOffsetMinutes": -240,
            "taxesIncluded": False,
        }
        self.location: Doc = {
            "__typename": "Location",
            "id": gid("Location", 80123456789),
            "legacyResourceId": "80123456789",
            "name": "Queen Street Store",
        }
        for _ in range(max(5, orders // 3)):
            self.add_customer(random_customer(self.rng, self.rng.randint(10, 99999)))
        self._seed(orders, history_days)

    # -- time ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    def advance(self, seconds: float) -> datetime:
        if not isinstance(self.clock, ManualClock):
            raise ManualClockRequired(
                "the simulator runs on the system clock; only a ManualClock can be advanced"
            )
        return self.clock.advance(seconds)

    # -- lookups ------------------------------------------------------------------------------
    def resolve_order(self, ref: str | int) -> int:
        """An order number from a numeric id, a gid or a name like "#1001"; KeyError if unknown."""
        text = str(ref).strip()
        if text.startswith("#") or (text.isdigit() and len(text) < 9):
            wanted = text if text.startswith("#") else f"#{text}"
            for doc in self.store.all_current():
                if doc["name"] == wanted:
                    return gid_number(doc["id"])
            raise KeyError(ref)
        number = gid_number(text)
        if self.store.current(number) is None:
            raise KeyError(ref)
        return number

    def order(self, ref: str | int) -> Doc:
        """The current document of an order (without private keys)."""
        doc = self.store.current(self.resolve_order(ref))
        assert doc is not None
        return public_doc(doc)

    def orders(self) -> list[Doc]:
        return [public_doc(doc) for doc in self.store.all_current()]

    def variant(self, variant_id: int) -> tuple[Product, Variant]:
        for product in self.catalog:
            for variant in product.variants:
                if variant.variant_id == variant_id:
                    return product, variant
        raise KeyError(f"no product variant {variant_id} in the simulator's catalogue")

    def customer_by_id(self, legacy_id: int) -> Doc:
        from shopify_bridge.simulator.records import customer_doc

        for person in self.customers:
            if int(person["legacyId"]) == legacy_id:
                return customer_doc(person)
        raise KeyError(f"no customer {legacy_id}")

    def add_customer(self, person: dict[str, Any]) -> dict[str, Any]:
        person = {
            **person,
            "legacyId": self.ids.next("Customer"),
            "addressId": self.ids.next("MailingAddress"),
        }
        self.customers.append(person)
        return person

    def app_for_source(self, source: str | None) -> Doc | None:
        if source not in APPS:
            return None
        app_id, name = APPS[source]
        icon = {
            "__typename": "Image",
            "id": None,
            "url": f"https://cdn.shopify.com/app-store/listing_images/{app_id}.png",
            "altText": name,
            "width": 64,
            "height": 64,
        }
        return {"__typename": "OrderApp", "id": gid("App", app_id), "name": name, "icon": icon}

    # -- changes ------------------------------------------------------------------------------
    def create_order(self, **fields: Any) -> Doc:
        """A new order: random unless fields are given (camelCase, as in `data.random_order_spec`)."""
        return public_doc(changes.create_order(self, fields))

    def add_line_item(
        self, ref: str | int, line: Mapping[str, Any] | None = None, *, paid: bool = True
    ) -> Doc:
        return public_doc(changes.add_line_item(self, self.resolve_order(ref), line, paid=paid))

    def add_tag(self, ref: str | int, tag: str) -> Doc:
        return public_doc(changes.add_tag(self, self.resolve_order(ref), tag))

    def cancel(self, ref: str | int, reason: str = "CUSTOMER") -> Doc:
        return public_doc(changes.cancel(self, self.resolve_order(ref), reason))

    def delete(self, ref: str | int) -> None:
        changes.delete(self, self.resolve_order(ref))

    def refund(
        self,
        ref: str | int,
        lines: Sequence[Mapping[str, Any]] = (),
        *,
        shipping: bool | Decimal | str = False,
        status: str = "SUCCESS",
        note: str | None = None,
        amount: Decimal | str | None = None,
    ) -> Doc:
        """Refund `lines` ([{lineItemId, quantity, restockType}]) and optionally shipping; the new refund."""
        number = self.resolve_order(ref)
        made = changes.refund(self, number, lines, shipping=shipping, status=status, note=note, amount=amount)
        return public_doc(made)

    def refund_all(self, ref: str | int, *, status: str = "SUCCESS", note: str | None = None) -> Doc:
        """Refund every unit still on the order and all shipping not yet refunded."""
        doc = self.order(ref)
        lines = [
            {"lineItemId": line["id"], "quantity": line["currentQuantity"], "restockType": "RETURN"}
            for line in doc["lineItems"]
            if line["currentQuantity"] > 0
        ]
        return self.refund(ref, lines, shipping=True, status=status, note=note)

    def settle_refund(self, refund_ref: str | int, status: str = "SUCCESS") -> Doc:
        refund_gid = (
            str(refund_ref) if str(refund_ref).startswith("gid://") else gid("Refund", int(refund_ref))
        )
        return public_doc(changes.settle_refund(self, refund_gid, status))

    def inject(self, kind: str, count: int = 1, **params: Any) -> Fault:
        return self.faults.add(kind, count, **params)

    # -- seeding ------------------------------------------------------------------------------
    def _seed(self, count: int, history_days: int) -> None:
        """`count` orders processed over the last `history_days`, with a few later changes each."""
        now = self.now()
        start = now - timedelta(days=history_days)
        moments = sorted(
            start + timedelta(seconds=self.rng.uniform(0, history_days * 86400 - 600)) for _ in range(count)
        )
        for moment in moments:
            order = changes.create_order(self, {}, at=moment)
            number = gid_number(order["id"])
            self._seed_history(number, order, moment, now)

    def _seed_history(self, number: int, order: Doc, moment: datetime, now: datetime) -> None:
        roll = self.rng.random()
        later = moment + timedelta(hours=self.rng.uniform(1, 48))
        if later >= now:
            return
        if roll < 0.03:
            changes.cancel(self, number, "CUSTOMER", at=later)
        elif roll < 0.09 and order["displayFinancialStatus"] == "PAID":
            line = order["lineItems"][0]
            changes.refund(
                self,
                number,
                [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}],
                note="Customer changed their mind",
                at=later,
            )
        elif roll < 0.13:
            changes.add_line_item(self, number, at=moment + timedelta(minutes=self.rng.uniform(1, 5)))
