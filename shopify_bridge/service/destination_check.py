"""`check` for the destinations: does each one's credential look like what its service issues, and (with
`check --send-test`) does GA4's validation server accept what the bridge would send it?

The shape rules are pure (`credential_lines`), so each is tested without a network. They never print a
credential, only what is wrong with it (its length, a space in it). They stay lenient where services
vary: a Segment-compatible write key may be Segment's (32 characters), RudderStack's (27) or Jitsu's
(`s2s.<id>.<secret>`).

- `ga4`: `api_secret` is 16–64 letters, digits, `-` or `_` (Google shows 22).
- `meta_capi`: `access_token` is at least 32 letters, digits, `-` or `_`; one that does not start
  with `EAA` (every Conversions API token does) is accepted with a note.
- `segment`: `write_key` is at least 8 letters, digits, `.`, `_`, `:` or `-`.

`--send-test` for GA4 posts a sample `purchase`, mapped by the real builder, to the Measurement
Protocol validation server (`/debug/mp/collect` on the endpoint's host): events sent there never reach
reports, and its `validationMessages` say what GA4 would refuse. It does not check `api_secret` or
`measurement_id` (Google says so). The other types have no validation endpoint; their page in
docs/destinations/ says how to test them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import aiohttp
from msgspec.structs import replace

from shopify_bridge import exit_codes
from shopify_bridge.config.destinations import Destination, Ga4Destination, MetaCapiDestination, SegmentDestination
from shopify_bridge.deliver.payloads import DestinationRequest, OrderFacts, build_request
from shopify_bridge.service.check import CheckLine, CheckReport
from shopify_bridge.timeutil import iso

GA4_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
META_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,}$")
WRITE_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,}$")
SEND_TEST_TIMEOUT_SECONDS = 10.0
DEBUG_PATH = "/debug/mp/collect"


def _shape(label: str, value: str, pattern: re.Pattern[str], expected: str) -> CheckLine:
    if pattern.match(value):
        return CheckLine(label, True, f"{len(value)} characters")
    problem = "contains white space" if any(char.isspace() for char in value) else f"has {len(value)} characters"
    return CheckLine(label, False, f"does not look right: {problem}; expected {expected}")


def credential_line(destination: Destination) -> CheckLine:
    """One line per destination: its credential's shape, or what it is (types without a credential)."""
    label = f"destination {destination.name} ({destination.type})"
    if isinstance(destination, Ga4Destination):
        return _shape(f"{label} api_secret", destination.api_secret.get_secret_value(), GA4_SECRET,
                      "16–64 letters, digits, - or _")
    if isinstance(destination, MetaCapiDestination):
        token = destination.access_token.get_secret_value()
        line = _shape(f"{label} access_token", token, META_TOKEN, "at least 32 letters, digits, - or _")
        if line.ok and not token.startswith("EAA"):
            line.detail += "; it does not start with EAA, as Conversions API tokens do"
        return line
    if isinstance(destination, SegmentDestination):
        return _shape(f"{label} write_key", destination.write_key.get_secret_value(), WRITE_KEY,
                      "at least 8 letters, digits, ., _, : or -")
    return CheckLine(label, True, "no credential to check")


def credential_lines(destinations: Iterable[Destination]) -> list[CheckLine]:
    return [credential_line(destination) for destination in destinations]


def sample_purchase(now: datetime) -> dict[str, Any]:
    """A Placed Order as the bridge builds one, for the validation server (numbers are made up)."""
    props = {"id": "1000000000001", "order_name": "#TEST", "currency": "USD", "total_price": Decimal("25.00"),
             "total_tax": Decimal("2.00"), "total_shipping": Decimal("5.00"), "$sales_channel_type": "web",
             "tags": [], "items": [{"product_id": "1", "variant_id": "2", "sku": "TEST-SKU", "name": "Test item",
                                    "price": Decimal("18.00"), "quantity": 1}]}
    return {"event_name": "Placed Order", "event_id": props["id"], "timestamp": iso(now), "properties": props,
            "profile_properties": {}, "aliases": [f"urn:shopify_order_id:{props['id']}"]}


def debug_url(url: str) -> str:
    """The validation server's URL for a collect URL: `/mp/collect` → `/debug/mp/collect`, query kept."""
    return url.replace("/mp/collect", DEBUG_PATH, 1)


def validation_line(label: str, status: int, answer: Any) -> CheckLine:
    """The verdict on the validation server's answer (pure)."""
    if not 200 <= status < 300 or not isinstance(answer, dict):
        return CheckLine(label, False, f"the validation server answered HTTP {status}")
    messages = answer.get("validationMessages") or []
    if not messages:
        return CheckLine(label, True, "a sample purchase validates (api_secret and measurement_id are not checked)")
    told = "; ".join(f"{m.get('fieldPath', '?')}: {m.get('description', '')} ({m.get('validationCode', '')})"
                     for m in messages)
    return CheckLine(label, False, told)


async def ga4_send_test(destination: Ga4Destination, now: datetime) -> CheckLine:
    label = f"destination {destination.name} (ga4) send test"
    if "/mp/collect" not in destination.endpoint:
        return CheckLine(label, False, "no validation server known for this endpoint (it has no /mp/collect)")
    request = build_request(destination, sample_purchase(now), now=now, order=OrderFacts())
    assert isinstance(request, DestinationRequest)  # a fresh sample is never too old
    # Stricter than production, as Google advises while setting up (the live endpoint takes no such key).
    body = replace(request, body={**request.body, "validation_behavior": "ENFORCE_RECOMMENDATIONS"}).body_bytes()
    timeout = aiohttp.ClientTimeout(total=SEND_TEST_TIMEOUT_SECONDS)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
            debug_url(request.url), data=body, headers=dict(request.headers)
        ) as answer:
            text = await answer.text()
            status = answer.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return CheckLine(label, False, f"the validation server cannot be reached: {type(exc).__name__}")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return validation_line(label, status, parsed)


async def check_destinations(destinations: Iterable[Destination], now: datetime, *, send_test: bool) -> CheckReport:
    """The destinations' part of `check`: exit 78 when a credential looks wrong or GA4 refuses the sample."""
    chosen = list(destinations)
    report = CheckReport(source="destinations", shop="", lines=credential_lines(chosen))
    if send_test:
        for destination in chosen:
            if isinstance(destination, Ga4Destination):
                report.lines.append(await ga4_send_test(destination, now))
    if not all(line.ok for line in report.lines):
        report.exit_code = exit_codes.CONFIG
    return report
