"""The ga4 / meta_capi / segment sender alone: its skips, what it cannot map, and its credentials kept out."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from shopify_bridge.decide.money import dumps_event
from shopify_bridge.deliver.destinations.base import Outgoing
from shopify_bridge.deliver.destinations.mapped import MappedDestination
from tests.deliver.payloads import config_entries
from tests.deliver.payloads.envelopes import placed_order, received_refund
from tests.delivery.receiver import Receiver, Reply

PLACED_AT = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)  # the envelopes' timestamp


def item(envelope: dict[str, object], facts: str | None = None) -> Outgoing:
    return Outgoing(str(envelope["event_id"]), dumps_event(envelope), facts)


async def test_skips_come_back_as_skipped_with_their_rule_and_nothing_is_sent(receiver: Receiver) -> None:
    ga4 = MappedDestination(config_entries.ga4(endpoint=receiver.base_url("/mp/collect")),
                            clock=lambda: PLACED_AT + timedelta(hours=80))
    await ga4.open()
    try:
        [result] = await ga4.send([item(placed_order())])
    finally:
        await ga4.close()
    assert (result.outcome, result.reason) == ("skipped", "too_old_for_destination")
    assert result.error is not None and "72 h" in result.error
    assert receiver.requests == []


async def test_an_event_that_cannot_be_mapped_is_dead_with_why(receiver: Receiver) -> None:
    ga4 = MappedDestination(config_entries.ga4(endpoint=receiver.base_url("/mp/collect")),
                            clock=lambda: PLACED_AT + timedelta(days=2))
    await ga4.open()
    try:
        # a refund whose order's processedAt was not stored: no client id can be made for it
        [result] = await ga4.send([item(received_refund())])
    finally:
        await ga4.close()
    assert result.outcome == "dead"
    assert result.error is not None and result.error.startswith("cannot build the ga4 payload of 5801234567890-")
    assert receiver.requests == []


async def test_credentials_echoed_by_the_destination_are_scrubbed(receiver: Receiver) -> None:
    spec = config_entries.segment(endpoint=receiver.base_url("/v1"))
    basic = base64.b64encode(f"{config_entries.SEGMENT_WRITE_KEY}:".encode()).decode()
    receiver.default = Reply(401, f"bad auth Basic {basic} for key {config_entries.SEGMENT_WRITE_KEY}")
    segment = MappedDestination(spec, clock=lambda: PLACED_AT)
    await segment.open()
    try:
        [result] = await segment.send([item(placed_order())])
    finally:
        await segment.close()
    assert (result.outcome, result.status) == ("dead", 401)
    assert result.error == "HTTP 401: bad auth Basic [redacted] for key [redacted]"
    assert config_entries.SEGMENT_WRITE_KEY not in repr(segment)
