"""Seeded, realistic shop data: a product catalogue, a customer pool, and random order specs.

All randomness comes from one `random.Random(seed)`, so a seed reproduces a shop exactly.
The shapes follow the recordings: MoneyBags on both currency sides (some orders presented in
USD to a CAD shop), guests with `customer: null`, custom line items without product/variant/sku,
`sourceName` values that are not an enum (web, pos, shopify_draft_order, mobile_app, the Shop
app's "3890849", an app's numeric id), test orders, orders tagged "Exclude".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from shopify_bridge.simulator.clock import wire_time

APP_SOURCE_ID = "347082227713"
SOURCE_WEIGHTS: dict[str, int] = {
    "web": 52,
    "pos": 10,
    "shopify_draft_order": 8,
    "mobile_app": 8,
    "3890849": 8,
    APP_SOURCE_ID: 8,
    "subscription_contract": 6,
}
APPS: dict[str, tuple[int, str]] = {
    "web": (580111, "Online Store"),
    "pos": (129785, "Point of Sale"),
    "shopify_draft_order": (1354745, "Draft Orders"),
    "mobile_app": (2329312, "Mobile App"),
    "3890849": (3890849, "Shop"),
    APP_SOURCE_ID: (347082227713, "Upsell Pro"),
    "subscription_contract": (1830279, "Subscriptions"),
}
CHECKOUT_SOURCES = {"web", "mobile_app", "3890849", "subscription_contract"}
# Canadian dollars per unit of each currency (constructed, roughly mid-2026): the catalogue is priced in CAD
# and converted into a shop in another currency; a buyer's rate is the ratio of two entries.
PRESENTMENT_RATES: dict[str, Decimal] = {
    "CAD": Decimal("1"),
    "USD": Decimal("1.37"),
    "EUR": Decimal("1.49"),
    "GBP": Decimal("1.72"),
    "JPY": Decimal("0.0091"),
    "KRW": Decimal("0.001"),
    "KWD": Decimal("4.45"),
    "BHD": Decimal("3.64"),
}
DISCOUNTS: dict[str, tuple[str, Decimal]] = {
    "SAVE5": ("fixed", Decimal("5")),
    "WELCOME10": ("percent", Decimal("0.10")),
    "BFCM20": ("percent", Decimal("0.20")),
}
FIRST_NAMES = [
    "Ann",
    "Bob",
    "Chloé",
    "Dev",
    "Emma",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Keira",
    "Liam",
]
LAST_NAMES = ["Lee", "Martin", "Nguyen", "Okafor", "Patel", "Quinn", "Roy", "Singh", "Tremblay", "Ueda"]
CITIES = [
    ("Toronto", "ON", "CA", "M5H 2M9"),
    ("Montréal", "QC", "CA", "H2X 1Y4"),
    ("Vancouver", "BC", "CA", "V6B 1A1"),
    ("Seattle", "WA", "US", "98101"),
    ("Boston", "MA", "US", "02108"),
    ("Berlin", None, "DE", "10115"),
]
CUSTOM_ITEMS = [
    ("Gift wrap", Decimal("4.5")),
    ("Engraving", Decimal("12")),
    ("Rush handling", Decimal("9.99")),
]
PRODUCTS: list[tuple[str, str, list[tuple[str | None, Decimal]], bool]] = [
    ("The Draft Snowboard", "Snowdrift", [(None, Decimal("2629.95"))], True),
    ("Classic Snowboard", "Snowdrift", [("Blue", Decimal("699.95")), ("Red", Decimal("699.95"))], True),
    ("Wax Kit", "Glide Co", [(None, Decimal("24.5"))], True),
    (
        "Beanie",
        "Northern Knits",
        [("Grey", Decimal("29")), ("Black", Decimal("29")), ("Orange", Decimal("31"))],
        True,
    ),
    ("Goggles", "ClearView", [("S/M", Decimal("119")), ("L/XL", Decimal("129"))], False),
    ("Board Bag", "Snowdrift", [(None, Decimal("149.99"))], True),
    ("Hand Warmers 10-pack", "Toasty", [(None, Decimal("15"))], False),
    ("Sticker", "Snowdrift", [(None, Decimal("2.5"))], True),
]


@dataclass
class Variant:
    product_id: int
    variant_id: int
    title: str | None
    sku: str
    price: Decimal


@dataclass
class Product:
    product_id: int
    title: str
    vendor: str
    image_url: str | None
    variants: list[Variant] = field(default_factory=list)


def build_catalog(shop_currency: str = "CAD") -> list[Product]:
    """The catalogue, priced in the shop's currency (rounded to its smallest unit)."""
    per_unit = PRESENTMENT_RATES.get(shop_currency, Decimal("1"))
    unit = Decimal("1") if per_unit < Decimal("0.1") else Decimal("0.01") if per_unit < 3 else Decimal("0.001")
    products = []
    for index, (title, vendor, variants, has_image) in enumerate(PRODUCTS):
        product_id = 9801098789170 + index
        slug = title.lower().replace(" ", "-").replace("/", "-")
        image = (
            f"https://cdn.shopify.com/s/files/1/0690/0457/1954/files/{slug}.jpg?v=1751900000"
            if has_image
            else None
        )
        product = Product(product_id, title, vendor, image)
        for vindex, (vtitle, price) in enumerate(variants):
            sku = f"{slug[:10].upper()}-{(vtitle or 'STD')[:3].upper()}".replace("/", "")
            in_shop = price if per_unit == 1 else (price / per_unit).quantize(unit)
            product.variants.append(
                Variant(product_id, 49875425460530 + index * 10 + vindex, vtitle, sku, in_shop)
            )
        products.append(product)
    return products


def random_address(rng: random.Random, first: str, last: str) -> dict[str, Any]:
    city, province, country, zip_code = rng.choice(CITIES)
    return {
        "firstName": first,
        "lastName": last,
        "address1": f"{rng.randint(1, 999)} {rng.choice(['King', 'Main', 'Elm'])} St",
        "address2": None,
        "city": city,
        "province": None,
        "provinceCode": province,
        "zip": zip_code,
        "countryCodeV2": country,
        "company": None,
        "phone": _phone(rng) if rng.random() < 0.4 else None,
    }


def _phone(rng: random.Random) -> str:
    return f"+1416555{rng.randint(0, 9999):04d}"


def random_customer(rng: random.Random, number: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first}.{last}{number}@example.com".lower().replace("é", "e")
    return {
        "firstName": first,
        "lastName": last,
        "email": email,
        "phone": _phone(rng) if rng.random() < 0.5 else None,
        "address": random_address(rng, first, last) if rng.random() < 0.8 else None,
    }


def random_order_spec(
    rng: random.Random,
    catalog: list[Product],
    customers: list[dict[str, Any]],
    at: datetime,
    shop_currency: str,
    source: str | None = None,
    presentments: tuple[str, ...] = ("USD", "EUR"),
) -> dict[str, Any]:
    """Fields for `create_order`, every one of which a caller may override.

    A given `source` shapes the rest (POS orders have no checkout token and rarely a customer).
    """
    drawn = rng.choices(list(SOURCE_WEIGHTS), weights=list(SOURCE_WEIGHTS.values()))[0]
    source = source or drawn
    customer = (
        None if (source == "pos" and rng.random() < 0.6) or rng.random() < 0.2 else rng.choice(customers)
    )
    guest = None if customer else random_customer(rng, rng.randint(1000, 9999))
    person = customer or guest
    assert person is not None
    presentment = shop_currency
    others = [c for c in (shop_currency, *presentments) if c != shop_currency and c in PRESENTMENT_RATES]
    if shop_currency in PRESENTMENT_RATES and others and rng.random() < 0.25:
        presentment = rng.choice(others)
    rate = PRESENTMENT_RATES.get(presentment, Decimal("1")) / PRESENTMENT_RATES.get(
        shop_currency, Decimal("1")
    )
    lines = [
        _random_line(rng, catalog, rate)
        for _ in range(rng.choices([1, 2, 3, 4], weights=[45, 30, 15, 10])[0])
    ]
    if rng.random() < 0.1:
        title, price = rng.choice(CUSTOM_ITEMS)
        lines.append(
            {"title": title, "price": str(_in_presentment(price, rate)), "quantity": 1, "custom": True}
        )
    codes = [rng.choice(list(DISCOUNTS))] if rng.random() < 0.2 else []
    billing = random_address(rng, person["firstName"], person["lastName"]) if rng.random() < 0.85 else None
    shipping = (
        None
        if source == "pos"
        else (
            billing
            if billing and rng.random() < 0.7
            else random_address(rng, person["firstName"], person["lastName"])
        )
    )
    with_checkout = source in CHECKOUT_SOURCES
    processed = at.replace(microsecond=0)
    spec = {
        "processedAt": wire_time(processed),
        "createdAt": wire_time(
            processed + timedelta(seconds=rng.randint(60, 900))
            if source == "pos" and rng.random() < 0.2
            else processed
        ),
        "sourceName": source,
        "test": rng.random() < 0.05,
        "tags": _random_tags(rng),
        "email": None if source == "pos" and not customer and rng.random() < 0.5 else person["email"],
        "phone": person["phone"] if rng.random() < 0.3 else None,
        "customer": customer,
        "presentmentCurrency": presentment,
        "rate": str(rate),
        "lineItems": lines,
        "discountCodes": codes,
        "shipping": "0"
        if source == "pos" or shipping is None
        else str(rng.choice([Decimal("0"), Decimal("5"), Decimal("12.5")])),
        "taxesIncluded": rng.random() < 0.2,
        "taxRate": rng.choice(["0.13", "0.05", "0"]),
        "billingAddress": billing,
        "shippingAddress": shipping,
        "checkoutToken": f"{rng.getrandbits(128):032x}" if with_checkout else None,
        "cartToken": f"Z2NwLXVzLWVhc3QxOjAx{rng.getrandbits(80):020X}"
        if with_checkout and rng.random() < 0.8
        else None,
        "financialStatus": rng.choices(["PAID", "PENDING", "AUTHORIZED"], weights=[85, 8, 7])[0],
        "note": rng.choice([None, None, None, "Leave at the door", "Gift — no invoice please"]),
    }
    spec["customAttributes"] = _cart_attributes(cast(str | None, spec["checkoutToken"]), processed)
    return spec


def _cart_attributes(checkout_token: str | None, processed: datetime) -> list[dict[str, str]]:
    """A `_ga` cart attribute (GA4's client-id cookie, `GA1.1.<random>.<first visit>`) on about half of the
    online orders, as a storefront that forwards it into the cart leaves it. Derived from the checkout token
    rather than drawn, so the generator's random sequence (and every seeded shop) stays as it was."""
    if checkout_token is None or int(checkout_token[-1], 16) >= 8:
        return []
    first_visit = int(processed.timestamp()) - int(checkout_token[8:12], 16)
    return [{"key": "_ga", "value": f"GA1.1.{int(checkout_token[:8], 16)}.{first_visit}"}]


def _in_presentment(shop_price: Decimal, rate: Decimal) -> Decimal:
    return (shop_price / rate).quantize(Decimal("0.01")) if rate != 1 else shop_price


def _random_line(rng: random.Random, catalog: list[Product], rate: Decimal) -> dict[str, Any]:
    product = rng.choice(catalog)
    variant = rng.choice(product.variants)
    return {
        "variantId": variant.variant_id,
        "quantity": rng.choices([1, 2, 3], weights=[70, 20, 10])[0],
        "price": str(_in_presentment(variant.price, rate)),
    }


def _random_tags(rng: random.Random) -> list[str]:
    tags = [
        tag
        for tag, chance in (("Exclude", 0.05), ("vip", 0.1), ("wholesale", 0.05), ("gift", 0.08))
        if rng.random() < chance
    ]
    return tags


def discount_amount(code: str, net_presentment: Decimal) -> Decimal:
    kind, value = DISCOUNTS.get(code, ("fixed", Decimal("0")))
    amount = value if kind == "fixed" else net_presentment * value
    return min(amount, net_presentment).quantize(Decimal("0.01"))
