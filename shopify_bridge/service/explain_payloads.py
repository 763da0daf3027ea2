"""`explain`: the exact request each destination gets for each of an order's events, credentials redacted.

For a `ga4`, `meta_capi` or `segment` destination it is the payload builder's request passed through
`payloads.redacted`: `api_secret=***` in GA4's URL, `"access_token": "***"` in Meta's body, `Basic ***`
for Segment. For `http` it is the stored envelope POSTed to the url, every configured header shown as
`***`; for `jsonl` the envelope as the line written. A delivery the destination keeps out
(`filtered`, `skipped`) shows why instead of a request. A delivered event is built as at its delivery;
any other as it would be built now, so one that waited past a destination's age limit shows that skip.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from shopify_bridge.config import Config
from shopify_bridge.config.destinations import HttpDestination, JsonlDestination
from shopify_bridge.decide.kept_out import KEPT_OUT_STATES
from shopify_bridge.decide.money import loads_event
from shopify_bridge.deliver.payloads import PayloadError, Skip, build_request, redacted
from shopify_bridge.deliver.payloads.request import REDACTED
from shopify_bridge.deliver.routing import order_facts
from shopify_bridge.observe.log import redact
from shopify_bridge.service.explain import Explanation
from shopify_bridge.store import Store
from shopify_bridge.timeutil import parse_ts

PayloadView = dict[str, Any]


def _request_view(method: str, url: str, headers: Mapping[str, str], body: bytes) -> PayloadView:
    return {"method": method, "url": redact(url), "headers": dict(headers), "body": orjson.loads(body)}


def payload_view(config: Config, destination: str, payload: str, facts: str | None, now: datetime) -> PayloadView:
    """What `destination` gets for one stored event (see the module docstring)."""
    spec = next((d for d in config.destinations if d.name == destination), None)
    if spec is None:
        return {"not_configured": f"no destination named {destination!r} in this config"}
    if isinstance(spec, JsonlDestination):
        return {"path": str(spec.path), "line": orjson.loads(payload)}
    if isinstance(spec, HttpDestination):
        headers = {"Content-Type": "application/json", **{name: REDACTED for name in spec.headers}}
        if spec.signing_secret is not None:
            headers.update({"webhook-id": "<event_id>", "webhook-timestamp": "<time of the attempt>",
                            "webhook-signature": "v1,<signature>"})
        return _request_view("POST", spec.url, headers, payload.encode())
    try:
        result = build_request(spec, loads_event(payload), now=now, order=order_facts(facts))
    except PayloadError as exc:
        return {"cannot_build": str(exc)}
    if isinstance(result, Skip):
        return {"skipped": result.reason, "detail": result.detail}
    shown = redacted(result)
    return _request_view(shown.method, shown.url, shown.headers, shown.body_bytes())


def destination_payloads(config: Config, store: Store, exp: Explanation, now: datetime) -> dict[str, dict[str, Any]]:
    """event_id → destination → what it gets (or why not), for every delivery of the order's events."""
    stored = {event["event_id"]: event for event in store.reads.orders.stored_events(exp.shop, exp.order["order_id"])}
    views: dict[str, dict[str, Any]] = {}
    for event in exp.events:
        source = stored.get(event["event_id"])
        if source is None:
            continue
        per_destination: dict[str, Any] = {}
        for delivery in event["deliveries"]:
            if delivery["state"] in KEPT_OUT_STATES:
                per_destination[delivery["destination"]] = {delivery["state"]: delivery["reason"],
                                                            "detail": delivery["last_error"]}
            else:
                at = parse_ts(delivery["delivered_at"]) if delivery["delivered_at"] else now
                per_destination[delivery["destination"]] = payload_view(
                    config, delivery["destination"], source["payload"], source["facts"], at)
        views[event["event_id"]] = per_destination
    return views
