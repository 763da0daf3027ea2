"""GA4 Measurement Protocol: a Placed Order → `purchase`, a Received Refund → `refund`.

POST `{endpoint}?measurement_id=…&api_secret=…` with
`{"client_id", "user_id"?, "timestamp_micros", "events": [{"name", "params"}]}`
(https://developers.google.com/analytics/devguides/collection/protocol/ga4/sending-events).

- `client_id`: the order's custom attribute `_ga` without its `GA1.<n>.` prefix (the `_ga` cookie is
  `GA1.1.<random>.<first visit>`; GA4's client id is the last two parts), else the custom attribute
  `google_client_id`, else `"<order id>.<processedAt unix seconds>"` (stable, so a refund lands on the
  same pseudo-user as its purchase). A refund uses the same rules on its order's facts.
- `user_id`: the customer id when there is one.
- `timestamp_micros`: the event's own time. GA4 takes events up to 72 hours old; an older event is a
  `too_old_for_destination` skip.
- `params`: `transaction_id` (order id — also for a refund, so GA4 ties it to the purchase), `value`
  (`total_price` / `total_refunded`), `currency`, `tax` (`total_tax`; a refund has none in the event,
  so none is sent rather than a made-up 0), `shipping` (`total_shipping` / `refund_shipping`),
  `coupon` (when the order has codes), `items`: `item_id` (sku, else variant id), `item_name`,
  `item_variant`, `price`, `quantity` — a refund's are its own items. Custom line items (no product,
  no variant) are left out of `items`; their amount stays in `value`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from shopify_bridge.deliver.payloads.event import EventView, OrderFacts, PayloadError, amount, unix_seconds
from shopify_bridge.deliver.payloads.request import DestinationRequest, PayloadResult, SecretText, too_old
from shopify_bridge.timeutil import parse_ts

MAX_AGE = timedelta(hours=72)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# The cart attributes a client id is read from, in this order (the rest of the order's attributes is not needed).
CLIENT_ID_ATTRIBUTES = ("_ga", "google_client_id")
# `GA1.<domain depth>.`: what the `_ga` cookie has in front of the client id.
_GA_COOKIE_PREFIX = re.compile(r"^GA1\.\d+\.")


class Ga4Settings(Protocol):
    """What the builder reads from a `[[destinations]]` entry of type ga4 (`Ga4Destination`)."""

    @property
    def measurement_id(self) -> str: ...
    @property
    def api_secret(self) -> SecretText: ...
    @property
    def endpoint(self) -> str: ...


def client_id(view: EventView, order: OrderFacts) -> str:
    """The GA4 client id of the event's buyer (see the module docstring for the order of choices)."""
    cookie = order.attribute("_ga")
    if cookie is not None:
        stripped = _GA_COOKIE_PREFIX.sub("", cookie)
        if stripped:
            return stripped
    explicit = order.attribute("google_client_id")
    if explicit is not None:
        return explicit
    if order.processed_at is not None:
        processed_at = parse_ts(order.processed_at)
    elif not view.is_refund:
        processed_at = view.at  # a Placed Order's timestamp is its processedAt
    else:
        raise PayloadError(
            f"GA4 needs the order's processedAt for the client id of refund {view.event_id} "
            "(OrderFacts.processed_at): the order has no _ga or google_client_id attribute"
        )
    return f"{view.order_id}.{unix_seconds(processed_at)}"


def _item(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    item_id = item.get("sku") or item.get("variant_id")
    if item_id:
        out["item_id"] = str(item_id)
    if item.get("name") is not None:
        out["item_name"] = item["name"]
    if item.get("variant_name") is not None:
        out["item_variant"] = item["variant_name"]
    if item.get("price") is not None:
        out["price"] = amount(item["price"], "items[].price")
    if item.get("quantity") is not None:
        out["quantity"] = item["quantity"]
    return out


def _params(view: EventView) -> dict[str, Any]:
    params: dict[str, Any] = {
        "transaction_id": view.order_id,
        "value": view.value,
        "currency": view.currency,
    }
    if view.is_refund:
        shipping = view.money("refund_shipping")
    else:
        tax = view.money("total_tax")
        if tax is not None:
            params["tax"] = tax
        shipping = view.money("total_shipping")
        coupon = view.text("coupon")
        if coupon is not None:
            params["coupon"] = coupon
    if shipping is not None:
        params["shipping"] = shipping
    params["items"] = [_item(item) for item in view.product_items()]
    return params


def collect_url(settings: Ga4Settings) -> str:
    query = urlencode(
        {"measurement_id": settings.measurement_id, "api_secret": settings.api_secret.get_secret_value()}
    )
    separator = "&" if urlsplit(settings.endpoint).query else "?"
    return f"{settings.endpoint}{separator}{query}"


def build_ga4_request(
    envelope: Mapping[str, Any], settings: Ga4Settings, *, now: datetime, order: OrderFacts | None = None
) -> PayloadResult:
    """The Measurement Protocol request for one event, or a skip when it is older than 72 hours."""
    view = EventView.of(envelope)
    skip = too_old(view.at, now, MAX_AGE, "GA4")
    if skip is not None:
        return skip
    body: dict[str, Any] = {"client_id": client_id(view, order or OrderFacts())}
    if view.customer_id is not None:
        body["user_id"] = view.customer_id
    body["timestamp_micros"] = (view.at - _EPOCH) // _MICROSECOND
    body["events"] = [{"name": "refund" if view.is_refund else "purchase", "params": _params(view)}]
    return DestinationRequest(
        method="POST",
        url=collect_url(settings),
        headers={"Content-Type": "application/json"},
        body=body,
    )
