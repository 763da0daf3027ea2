"""Exclusion rules: each rule, case-insensitivity, and the precedence order."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE, merged_channel_table
from shopify_bridge.decide.exclusions import Exclusion, ExclusionRules, decide_exclusion


def order(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "gid://shopify/Order/1",
        "test": False,
        "cancelledAt": None,
        "sourceName": "web",
        "checkoutToken": "ck-1",
        "tags": ["vip", "Wholesale"],
    }
    doc.update(fields)
    return doc


def decide(
    doc: dict[str, Any], rules: ExclusionRules | None = None, table: Any = DEFAULT_CHANNEL_TABLE
) -> Exclusion | None:
    return decide_exclusion(doc, rules or ExclusionRules(), table)


def test_defaults_exclude_test_and_cancelled_orders_only() -> None:
    rules = ExclusionRules()
    assert (rules.channels, rules.tags, rules.test_orders, rules.cancelled) == ((), (), True, True)
    assert decide(order()) is None


def test_rules_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ExclusionRules().test_orders = False  # type: ignore[misc]


def test_test_order_rule() -> None:
    assert decide(order(test=True)) == Exclusion("test_order", "true")
    assert decide(order(test=True), ExclusionRules(test_orders=False)) is None


def test_cancelled_rule() -> None:
    doc = order(cancelledAt="2026-05-01T10:03:00Z")
    assert decide(doc) == Exclusion("cancelled", "2026-05-01T10:03:00Z")
    assert decide(doc, ExclusionRules(cancelled=False)) is None


@pytest.mark.parametrize("configured", ["pos", "POS", " Pos "])
def test_channel_matches_source_name_case_insensitively(configured: str) -> None:
    rules = ExclusionRules(channels=(configured,))
    assert decide(order(sourceName="pos", checkoutToken=None), rules) == Exclusion("channel", configured)
    assert decide(order(sourceName="web"), rules) is None


def test_channel_matches_the_mapped_sales_channel_type() -> None:
    rules = ExclusionRules(channels=("Marketplace",))
    assert decide(order(sourceName="3890849"), rules) == Exclusion("channel", "Marketplace")
    assert decide(order(sourceName="amazon"), rules) == Exclusion("channel", "Marketplace")


def test_channel_matches_the_raw_source_name_of_an_app_id() -> None:
    rules = ExclusionRules(channels=("347082227713",))
    assert decide(order(sourceName="347082227713"), rules) == Exclusion("channel", "347082227713")


def test_channel_uses_the_fallback_type_for_unknown_or_null_source_names() -> None:
    offline = ExclusionRules(channels=("offline",))
    assert decide(order(sourceName=None, checkoutToken=None), offline) == Exclusion("channel", "offline")
    assert decide(order(sourceName="347082227713", checkoutToken=None), offline) == Exclusion(
        "channel", "offline"
    )
    assert decide(order(sourceName="347082227713", checkoutToken="ck"), offline) is None


def test_channel_uses_the_user_channel_table() -> None:
    table = merged_channel_table({"347082227713": "wholesale_app"})
    rules = ExclusionRules(channels=("WHOLESALE_APP",))
    assert decide(order(sourceName="347082227713"), rules, table) == Exclusion("channel", "WHOLESALE_APP")
    assert decide(order(sourceName="347082227713"), rules, DEFAULT_CHANNEL_TABLE) is None


def test_tag_is_a_case_insensitive_exact_match() -> None:
    rules = ExclusionRules(tags=("wholesale",))
    assert decide(order(), rules) == Exclusion("tag", "wholesale")
    assert decide(order(tags=["wholesale-2026", "not wholesale"]), rules) is None
    assert decide(order(tags=[" WHOLESALE "]), rules) == Exclusion("tag", "wholesale")
    assert decide(order(tags=[]), rules) is None


def test_first_configured_tag_that_matches_is_recorded() -> None:
    rules = ExclusionRules(tags=("nope", "VIP", "wholesale"))
    assert decide(order(), rules) == Exclusion("tag", "VIP")


def test_precedence_test_then_cancelled_then_channel_then_tag() -> None:
    doc = order(test=True, cancelledAt="2026-05-01T10:03:00Z", sourceName="pos", tags=["Exclude"])
    rules = ExclusionRules(channels=("pos",), tags=("exclude",))
    assert decide(doc, rules) == Exclusion("test_order", "true")
    rules = dataclasses.replace(rules, test_orders=False)
    assert decide(doc, rules) == Exclusion("cancelled", "2026-05-01T10:03:00Z")
    rules = dataclasses.replace(rules, cancelled=False)
    assert decide(doc, rules) == Exclusion("channel", "pos")
    rules = dataclasses.replace(rules, channels=())
    assert decide(doc, rules) == Exclusion("tag", "exclude")
