"""A Segment-compatible Track API (Segment, RudderStack, Jitsu): `Order Completed`, `Order Refunded`.

POST `{endpoint}/track` with HTTP Basic auth, the write key as the user and an empty password
(https://www.twilio.com/docs/segment/connections/sources/catalog/libraries/server/http-api). Event
names and properties follow Segment's V2 Ecommerce spec
(https://segment.com/docs/connections/spec/ecommerce/v2/).

- `messageId`: the envelope's `event_id`, so a data plane that deduplicates on it sees each event once.
- `timestamp`: the event's (`processedAt`, or the refund's time).
- `userId`: the customer id; without one, `anonymousId`: the checkout token, else the order id.
- Order Completed `properties`: `order_id`, `total` (`total_price`), `revenue` (`total_price` −
  `total_tax` − `total_shipping`, exact `Decimal`), `tax`, `shipping`, `discount` (`total_discount`),
  `coupon` (when the order has codes), `currency`, `products`.
- Order Refunded `properties`: `order_id`, `total` (`total_refunded`), `currency`, `products` (the
  refund's items).
- `products`: `product_id`, `sku`, `name`, `variant` (the variant title), `price`, `quantity` — keys
  without a value omitted; custom line items (no product, no variant) left out.
- `context.traits`: `email`, `phone`, `firstName`, `lastName` from the profile properties (present
  ones only).

No age limit: Segment-compatible data planes take historical timestamps.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from shopify_bridge.deliver.payloads.event import EventView, amount
from shopify_bridge.deliver.payloads.request import DestinationRequest, PayloadResult, SecretText

ORDER_COMPLETED = "Order Completed"
ORDER_REFUNDED = "Order Refunded"

# product key ← event item key
_PRODUCT_KEYS = (
    ("product_id", "product_id"),
    ("sku", "sku"),
    ("name", "name"),
    ("variant", "variant_name"),
    ("quantity", "quantity"),
)
# trait ← profile property
_TRAIT_KEYS = (
    ("email", "$email"),
    ("phone", "$phone_number"),
    ("firstName", "$first_name"),
    ("lastName", "$last_name"),
)


class SegmentSettings(Protocol):
    """What the builder reads from a `[[destinations]]` entry of type segment (`SegmentDestination`)."""

    @property
    def write_key(self) -> SecretText: ...
    @property
    def endpoint(self) -> str: ...


def basic_auth(write_key: str) -> str:
    """`Authorization` for a write key: Basic with the key as user and an empty password."""
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode("ascii")


def _product(item: Mapping[str, Any]) -> dict[str, Any]:
    product = {key: item[source] for key, source in _PRODUCT_KEYS if item.get(source) is not None}
    if item.get("price") is not None:
        product["price"] = amount(item["price"], "items[].price")
    return product


def _order_completed(view: EventView) -> dict[str, Any]:
    total = view.value
    tax = view.money("total_tax")
    shipping = view.money("total_shipping")
    revenue = total - (tax or Decimal(0)) - (shipping or Decimal(0))
    properties: dict[str, Any] = {"order_id": view.order_id, "total": total, "revenue": revenue}
    if tax is not None:
        properties["tax"] = tax
    if shipping is not None:
        properties["shipping"] = shipping
    discount = view.money("total_discount")
    if discount is not None:
        properties["discount"] = discount
    coupon = view.text("coupon")
    if coupon is not None:
        properties["coupon"] = coupon
    properties["currency"] = view.currency
    return properties


def _order_refunded(view: EventView) -> dict[str, Any]:
    return {"order_id": view.order_id, "total": view.value, "currency": view.currency}


def _identity(view: EventView) -> dict[str, str]:
    if view.customer_id is not None:
        return {"userId": view.customer_id}
    return {"anonymousId": view.checkout_token or view.order_id}


def build_segment_request(envelope: Mapping[str, Any], settings: SegmentSettings) -> PayloadResult:
    """The Track API request for one event (Segment-compatible data planes take any age)."""
    view = EventView.of(envelope)
    properties = _order_refunded(view) if view.is_refund else _order_completed(view)
    properties["products"] = [_product(item) for item in view.product_items()]
    traits = {trait: str(view.profile[key]) for trait, key in _TRAIT_KEYS if view.profile.get(key) is not None}
    body: dict[str, Any] = {
        "type": "track",
        "event": ORDER_REFUNDED if view.is_refund else ORDER_COMPLETED,
        "messageId": view.event_id,
        "timestamp": view.envelope["timestamp"],
        **_identity(view),
        "properties": properties,
        "context": {"traits": traits},
    }
    return DestinationRequest(
        method="POST",
        url=f"{settings.endpoint.rstrip('/')}/track",
        headers={
            "Content-Type": "application/json",
            "Authorization": basic_auth(settings.write_key.get_secret_value()),
        },
        body=body,
    )
