"""The per-destination filter decision: None (send) or the key that keeps the event out."""

from __future__ import annotations

import pytest

from shopify_bridge.deliver.payloads import OrderFacts, PayloadError, filtered_by
from tests.deliver.payloads import config_entries
from tests.deliver.payloads.envelopes import placed_order, received_refund


def test_defaults_send_both_events() -> None:
    assert filtered_by(config_entries.http(), placed_order()) is None
    assert filtered_by(config_entries.http(), received_refund()) is None


def test_events() -> None:
    orders_only = config_entries.http(events=["Placed Order"])
    assert filtered_by(orders_only, placed_order()) is None
    assert filtered_by(orders_only, received_refund()) == "events"
    # Meta's default takes Placed Order only
    assert filtered_by(config_entries.meta(), received_refund()) == "events"


@pytest.mark.parametrize(
    ("channels", "channel", "key"),
    [
        ([], "web", None),
        (["web"], "web", None),
        (["WEB", "pos"], "web", None),
        (["pos"], "POS", None),
        (["Facebook_Shop"], "facebook_shop", None),
        (["pos"], "web", "channels"),
        (["web"], None, "channels"),
    ],
)
def test_channels_case_insensitive(channels: list[str], channel: str | None, key: str | None) -> None:
    envelope = placed_order(**{"$sales_channel_type": channel})
    assert filtered_by(config_entries.http(channels=channels), envelope) == key


def test_channels_apply_to_refunds_too() -> None:
    assert filtered_by(config_entries.http(channels=["pos"]), received_refund()) == "channels"


@pytest.mark.parametrize(
    ("exclude", "tags", "key"),
    [
        ([], ["vip"], None),
        (["wholesale"], ["vip"], None),
        (["VIP"], ["vip"], "exclude_tags"),
        (["vip"], [" VIP "], "exclude_tags"),
        (["vip"], ["vip-2"], None),  # exact match, not a substring
        (["Vip"], [], None),
    ],
)
def test_exclude_tags_case_insensitive_exact(exclude: list[str], tags: list[str], key: str | None) -> None:
    assert filtered_by(config_entries.http(exclude_tags=exclude), placed_order(tags=tags)) == key


def test_a_refund_is_judged_by_its_orders_tags() -> None:
    settings = config_entries.http(exclude_tags=["vip"])
    assert filtered_by(settings, received_refund(), OrderFacts(tags=["VIP"])) == "exclude_tags"
    assert filtered_by(settings, received_refund(), OrderFacts(tags=["other"])) is None
    with pytest.raises(PayloadError, match="tags"):
        filtered_by(settings, received_refund())
    # without exclude_tags there is nothing to judge, so the order's tags are not needed
    assert filtered_by(config_entries.http(), received_refund()) is None


def test_the_first_key_that_matches_is_named() -> None:
    settings = config_entries.http(events=["Placed Order"], channels=["pos"], exclude_tags=["vip"])
    assert filtered_by(settings, received_refund(), OrderFacts(tags=["vip"])) == "events"
    assert filtered_by(settings, placed_order()) == "channels"
    assert filtered_by(settings, placed_order(**{"$sales_channel_type": "pos"})) == "exclude_tags"
