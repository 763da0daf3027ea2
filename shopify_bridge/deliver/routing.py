"""Which destinations take an event, decided when the event is created and again just before sending.

A destination does not take an event when its `events`, `channels` or `exclude_tags` keep it out
(`filtered`, with the key that matched: `payloads.filters.filtered_by`) or when its payload mapping
skips it (`skipped`, with the rule: `too_old_for_destination`, `no_user_data`, `unsupported_event`).
`Router` answers that for one destination and one stored event; `route_events` asks it for every
event an order decision creates, so the outbox rows are written in their final state in the event's
own transaction instead of `pending`. The deliverer asks again before each send: a delivery that
waited (retries, a refund behind its Placed Order) can have grown too old, and a `replay` after the
operator changed a destination's keys follows the keys of the config that runs.

**Order facts.** The payloads need a few facts of the order that the envelope lacks (see
`payloads.event.OrderFacts`): its `processedAt`, its `tags` (a Received Refund carries none), and the
cart attributes GA4 reads its client id from. They are stored with the event (`events.facts`, JSON in
the order document's own keys) from the very version the event is built from, rather than read back
from the order's versions at send time: a refund's order may have many versions, and the one that
carried the refund is the one that counts. Only the client-id attributes are kept, not every cart
attribute (they are the buyer's data, already in the stored versions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

import orjson
from msgspec.structs import replace

from shopify_bridge.decide.decisions import NewEvent, OrderDecision
from shopify_bridge.decide.kept_out import FILTERED, SKIPPED, KeepOut, KeptOut
from shopify_bridge.decide.money import loads_event
from shopify_bridge.deliver.payloads import PAYLOAD_TYPES, OrderFacts, PayloadError, Skip, build_request, filtered_by
from shopify_bridge.deliver.payloads.filters import FilterSettings
from shopify_bridge.deliver.payloads.ga4 import CLIENT_ID_ATTRIBUTES


class RoutedDestination(FilterSettings, Protocol):
    """What the router reads of a `[[destinations]]` entry (every config destination model has it)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...


# The event names every destination takes by default; `meta_capi` defaults to Placed Order only, which is
# a filter (its refunds are `filtered` by `events`).
_BOTH_EVENTS = frozenset({"Placed Order", "Received Refund"})


def order_facts_json(doc: Mapping[str, Any]) -> str:
    """The facts stored with an event of this order version (JSON in the order document's keys)."""
    attributes = [
        {"key": attribute.get("key"), "value": attribute.get("value")}
        for attribute in doc.get("customAttributes") or []
        if attribute.get("key") in CLIENT_ID_ATTRIBUTES
    ]
    facts = {"processedAt": doc.get("processedAt"), "tags": doc.get("tags"), "customAttributes": attributes}
    return orjson.dumps(facts).decode()


def order_facts(facts: str | None) -> OrderFacts | None:
    """The stored facts read back (None for an event stored before facts were kept)."""
    if facts is None:
        return None
    return OrderFacts.from_order_doc(orjson.loads(facts))


def _listed(values: Iterable[str]) -> str:
    return "[" + ", ".join(repr(value) for value in values) + "]"


class Router:
    """Answers `KeepOut` for the configured destinations (a destination it does not know takes everything:
    it was removed from the config, and its rows wait for it to come back)."""

    def __init__(self, destinations: Iterable[RoutedDestination]) -> None:
        self._destinations = {destination.name: destination for destination in destinations}

    def takes_everything(self, destination: str) -> bool:
        """No key and no payload rule can keep anything out of `destination`: nothing needs reading."""
        spec = self._destinations.get(destination)
        if spec is None:
            return True
        unfiltered = frozenset(spec.events) >= _BOTH_EVENTS and not spec.channels and not spec.exclude_tags
        return unfiltered and spec.type not in PAYLOAD_TYPES

    def __call__(self, destination: str, payload: str, facts: str | None, now: datetime) -> KeptOut | None:
        """Why `destination` does not take this stored event at `now`; None: send it.

        Raises `PayloadError` when the event cannot be judged or mapped (a refund without its order's tags
        where `exclude_tags` is set, an amount that is not exact): the sender records that as dead.
        """
        if self.takes_everything(destination):
            return None
        spec = self._destinations[destination]
        envelope = loads_event(payload)
        order = order_facts(facts)
        key = filtered_by(spec, envelope, order)
        if key is not None:
            return KeptOut(FILTERED, key, f"kept out by its {key} = {_listed(getattr(spec, key))}")
        if spec.type in PAYLOAD_TYPES:
            result = build_request(spec, envelope, now=now, order=order)
            if isinstance(result, Skip):
                return KeptOut(SKIPPED, result.reason, result.detail)
        return None


def route_events(decision: OrderDecision, doc: Mapping[str, Any], keep_out: KeepOut | None) -> OrderDecision:
    """`decision` with each event it creates carrying its order facts and the destinations that do not
    take it. An event the router cannot judge now stays pending for every destination: the sender
    judges it again and records why it cannot be sent."""
    if not decision.creates_events:
        return decision  # most of a backfill's history: nothing to route
    facts = order_facts_json(doc)

    def routed(event: NewEvent) -> NewEvent:
        kept: list[tuple[str, KeptOut]] = []
        if keep_out is not None:
            for destination in event.destinations:
                try:
                    why = keep_out(destination, event.payload, facts, decision.now)
                except ValueError:  # PayloadError among them
                    why = None
                if why is not None:
                    kept.append((destination, why))
        return replace(event, facts=facts, kept_out=tuple(kept))

    return decision.map_events(routed)


__all__ = ["PayloadError", "RoutedDestination", "Router", "order_facts", "order_facts_json", "route_events"]
