"""Whether a destination's `events`, `channels` and `exclude_tags` keep an event out, and which one.

The contract: "An event that a destination's `events`/`channels`/`exclude_tags` keeps out is recorded
for that destination as `filtered` with the key that matched". The keys are checked in that order and
the first that keeps the event out is returned; None means send.

- `events`: the event's `event_name` is not one of them.
- `channels` (when not empty): the event's `$sales_channel_type` is not one of them
  (case-insensitive). An event without a channel type is kept out too: it cannot be shown to match.
- `exclude_tags`: one of the order's tags is one of them (case-insensitive, exact, surrounding
  whitespace ignored). A Placed Order carries its `tags`; a Received Refund does not, so its order's
  tags come from `OrderFacts.tags` — without them a destination with `exclude_tags` cannot decide, and
  that is an error rather than a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

from shopify_bridge.deliver.payloads.event import EventView, OrderFacts, PayloadError

FilterKey = Literal["events", "channels", "exclude_tags"]


class FilterSettings(Protocol):
    """The filter keys every `[[destinations]]` entry has (`DestinationBase`)."""

    @property
    def events(self) -> Sequence[str]: ...
    @property
    def channels(self) -> Sequence[str]: ...
    @property
    def exclude_tags(self) -> Sequence[str]: ...


def _folded(values: Iterable[Any]) -> set[str]:
    return {str(value).strip().casefold() for value in values}


def _order_tags(view: EventView, order: OrderFacts | None) -> Sequence[Any]:
    tags = view.properties.get("tags")
    if tags is not None:
        return list(tags)
    if order is not None and order.tags is not None:
        return list(order.tags)
    raise PayloadError(
        f"{view.name} {view.event_id} carries no tags; pass its order's tags (OrderFacts.tags) "
        "to judge exclude_tags"
    )


def filtered_by(
    settings: FilterSettings, envelope: Mapping[str, Any], order: OrderFacts | None = None
) -> FilterKey | None:
    """The filter key that keeps `envelope` out of this destination, or None to send it."""
    view = EventView.of(envelope)
    if view.name.casefold() not in _folded(settings.events):
        return "events"
    if settings.channels:
        channel = view.sales_channel_type
        if channel is None or channel.casefold() not in _folded(settings.channels):
            return "channels"
    if settings.exclude_tags and _folded(_order_tags(view, order)) & _folded(settings.exclude_tags):
        return "exclude_tags"
    return None
