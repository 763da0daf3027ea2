"""Meta Conversions API: a Placed Order → one `Purchase` server event.

POST `{endpoint}/{pixel_id}/events` with `{"data": [event], "access_token", "test_event_code"?}`
(https://developers.facebook.com/docs/marketing-api/conversions-api/using-the-api); the token travels
in the body, which `redacted` masks for `explain`.

- `event_name` `Purchase`, `event_time` (unix seconds of `processedAt`), `event_id` (the envelope's, so
  Meta deduplicates it against a browser pixel `Purchase` with the same id), `action_source`
  `physical_store` for a POS order (`$sales_channel_type` `pos`), else `website`.
- `user_data`: hashed per `hashing.py` from the profile properties and the customer id.
- `custom_data`: `currency`, `value` (`total_price`), `order_id`, `content_type` `product`,
  `contents` `[{"id": variant id, "quantity", "item_price"}]` (lines without a variant — custom line
  items — are left out: `id` has nothing to say).

Skips: `too_old_for_destination` when the event is older than 7 days (Meta refuses the whole
request: "If any event_time in data is greater than 7 days in the past, we return an error");
`no_user_data` when the buyer left nothing to match on (Meta requires at least one `user_data`
parameter, so the request could only come back 400); `unsupported_event` for a Received Refund
(the contract maps only purchases to Meta; its default `events` is Placed Order only).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from shopify_bridge.deliver.payloads.event import EventView, amount, unix_seconds
from shopify_bridge.deliver.payloads.hashing import hashed_user_data
from shopify_bridge.deliver.payloads.request import (
    NO_USER_DATA,
    UNSUPPORTED_EVENT,
    DestinationRequest,
    PayloadResult,
    SecretText,
    Skip,
    too_old,
)

MAX_AGE = timedelta(days=7)
POS_CHANNEL = "pos"


class MetaCapiSettings(Protocol):
    """What the builder reads from a `[[destinations]]` entry of type meta_capi (`MetaCapiDestination`)."""

    @property
    def pixel_id(self) -> str: ...
    @property
    def access_token(self) -> SecretText: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def test_event_code(self) -> str: ...


def _contents(view: EventView) -> list[dict[str, Any]]:
    contents = []
    for item in view.product_items():
        if item.get("variant_id") is None:
            continue
        entry: dict[str, Any] = {"id": str(item["variant_id"]), "quantity": item.get("quantity")}
        if item.get("price") is not None:
            entry["item_price"] = amount(item["price"], "items[].price")
        contents.append({key: value for key, value in entry.items() if value is not None})
    return contents


def action_source(view: EventView) -> str:
    channel = view.sales_channel_type
    return "physical_store" if channel is not None and channel.lower() == POS_CHANNEL else "website"


def build_meta_capi_request(
    envelope: Mapping[str, Any], settings: MetaCapiSettings, *, now: datetime
) -> PayloadResult:
    """The Conversions API request for one Placed Order, or why it is not sent."""
    view = EventView.of(envelope)
    if view.is_refund:
        return Skip(UNSUPPORTED_EVENT, "Meta Conversions API destinations take Placed Order events only")
    skip = too_old(view.at, now, MAX_AGE, "Meta Conversions API")
    if skip is not None:
        return skip
    user_data = hashed_user_data(view.profile, view.customer_id)
    if not user_data:
        return Skip(NO_USER_DATA, "no email, phone, name, address or customer id to match the buyer on")
    event = {
        "event_name": "Purchase",
        "event_time": unix_seconds(view.at),
        "event_id": view.event_id,
        "action_source": action_source(view),
        "user_data": user_data,
        "custom_data": {
            "currency": view.currency,
            "value": view.value,
            "order_id": view.order_id,
            "content_type": "product",
            "contents": _contents(view),
        },
    }
    body: dict[str, Any] = {"data": [event], "access_token": settings.access_token.get_secret_value()}
    if settings.test_event_code.strip():
        body["test_event_code"] = settings.test_event_code.strip()
    return DestinationRequest(
        method="POST",
        url=f"{settings.endpoint.rstrip('/')}/{settings.pixel_id}/events",
        headers={"Content-Type": "application/json"},
        body=body,
    )
