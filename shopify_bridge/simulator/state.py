"""One simulated shop's data: its orders, customers, ids, clock, bucket and faults — nothing that acts on them.

Everything else in the simulator depends on this module and it depends on none of them (a test walks the
imports): resolvers read it, `changes` and `refunds` write orders into it, `bulk` registers its operations
and mutation handlers in it, and `shop.SimulatorState` (the Python control object) puts the parts together.
Lookups that only read the data (an order by name, a catalogue variant) live here too.
"""

from __future__ import annotations

import random
from collections.abc import Callable, MutableMapping
from datetime import datetime
from typing import Any

from shopify_bridge.simulator.clock import Clock, system_clock
from shopify_bridge.simulator.data import APPS, Product, Variant, build_catalog
from shopify_bridge.simulator.faults import FaultQueue
from shopify_bridge.simulator.money import check_currency
from shopify_bridge.simulator.options import TYPICAL_LAG_SECONDS, SimulatorOptions
from shopify_bridge.simulator.orders import Doc, gid, gid_number, public_doc
from shopify_bridge.simulator.store import OrderStore
from shopify_bridge.simulator.throttle import LeakyBucket

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
# A mutation resolver registered by another module: handler(state, **arguments) -> payload dict.
MutationHandler = Callable[..., Doc]


class IdSequence:
    """Shopify-looking numeric ids, one increasing sequence per resource type."""

    def __init__(self, offset: int = 0, first_order_number: int = 1001) -> None:
        self._next = {kind: base + offset for kind, base in ID_BASES.items()}
        self._offset = offset
        self._order_number = first_order_number

    def next(self, kind: str) -> int:
        value = self._next.setdefault(kind, 9000000000001 + self._offset)
        self._next[kind] = value + 1
        return value

    def next_order_number(self) -> int:
        value = self._order_number
        self._order_number += 1
        return value


class ShopState:
    """The data of one shop. `options` says how harsh it is; the parts below are shared by every module."""

    def __init__(self, *, token: str, options: SimulatorOptions, clock: Clock | None = None) -> None:
        options.validated()
        check_currency(options.shop_currency)
        for currency in options.presentment_currencies:
            check_currency(currency)
        self.token = token
        self.options = options
        self.clock: Clock = clock or system_clock
        self.rng = random.Random(options.seed)
        # The lag draws have their own stream, so turning lag on does not change the generated shop.
        self.lag_rng = random.Random(options.seed + 1)
        self.search_lag_seconds = options.search_lag_seconds
        self.api_versions = tuple(sorted(options.api_versions))
        self.scopes = list(options.scopes)
        self.ids = IdSequence(options.id_offset, options.first_order_number)
        self.store = OrderStore()
        self.bucket = LeakyBucket(
            self.clock, options.bucket_size, options.restore_rate, options.competing_app_share
        )
        self.faults = FaultQueue()
        self.catalog: list[Product] = build_catalog(options.shop_currency)
        self.customers: list[dict[str, Any]] = []
        # Filled by the bulk engine: operations by gid (reading them brings them up to the clock) and
        # the mutation resolvers by field name.
        self.bulk_operations: MutableMapping[str, Doc] = {}
        self.mutation_handlers: dict[str, MutationHandler] = {}
        self.request_count = 0  # GraphQL requests served (faults may target the n-th)
        self.shop: Doc = {
            "__typename": "Shop",
            "id": gid("Shop", 69004571954),
            "name": "Sim Snowboards",
            "myshopifyDomain": "sim-snowboards.myshopify.com",
            "email": "owner@sim-snowboards.example",
            "currencyCode": options.shop_currency,
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

    # -- time ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock()

    def draw_lag(self) -> float:
        """Seconds until one change becomes searchable (notes §2.3; see `SimulatorOptions`)."""
        ceiling = self.options.search_lag_max_seconds
        if ceiling is None:
            return self.search_lag_seconds
        if self.lag_rng.random() < self.options.search_lag_late_share:
            return self.lag_rng.uniform(0.0, ceiling)
        return self.lag_rng.uniform(0.0, min(TYPICAL_LAG_SECONDS, ceiling))

    def save(self, number: int, doc: Doc, written_at: datetime) -> None:
        """Store a new version of an order; the search index sees it after its own lag."""
        self.store.put(number, doc, written_at, self.draw_lag())

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

    def person(self, legacy_id: int) -> dict[str, Any]:
        for person in self.customers:
            if int(person["legacyId"]) == legacy_id:
                return person
        raise KeyError(f"no customer {legacy_id}")

    def add_customer(self, person: dict[str, Any]) -> dict[str, Any]:
        person = {**person, "legacyId": self.ids.next("Customer"), "addressId": self.ids.next("MailingAddress")}
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
