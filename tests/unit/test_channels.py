"""The channel table: Shopify sourceName → $sales_channel_type, with user extensions."""

from __future__ import annotations

import pytest

from shopify_bridge.decide.channels import DEFAULT_CHANNEL_TABLE, merged_channel_table, sales_channel_type

# Written out from PRODUCT.md so the shipped data is checked against the contract.
CONTRACT_TABLE = {
    "web": "web",
    "subscription_contract": "subscription_contract",
    "shopify_draft_order": "offline",
    "pos": "pos",
    "mobile_app": "mobile_app",
    "12875497473": "web",
    "Edit Order": "offline",
    "3890849": "marketplace",
    "2329312": "facebook_shop",
    "4383523": "tiktok_shop",
    "3009811": "pinterest_shop",
    "amazon": "marketplace",
}


def test_default_table_is_the_contract_table() -> None:
    assert dict(DEFAULT_CHANNEL_TABLE) == CONTRACT_TABLE


@pytest.mark.parametrize(("source_name", "expected"), sorted(CONTRACT_TABLE.items()))
def test_known_source_names_map_regardless_of_checkout(source_name: str, expected: str) -> None:
    assert sales_channel_type(source_name, None, DEFAULT_CHANNEL_TABLE) == expected
    assert sales_channel_type(source_name, "ck-1", DEFAULT_CHANNEL_TABLE) == expected


@pytest.mark.parametrize("source_name", [None, "347082227713", "", "WEB"])
def test_unknown_or_null_falls_back_on_the_checkout_token(source_name: str | None) -> None:
    assert sales_channel_type(source_name, "ck-1", DEFAULT_CHANNEL_TABLE) == "web"
    assert sales_channel_type(source_name, None, DEFAULT_CHANNEL_TABLE) == "offline"
    assert sales_channel_type(source_name, "", DEFAULT_CHANNEL_TABLE) == "offline"


def test_user_table_extends_and_overrides() -> None:
    user = {"347082227713": "marketplace", "pos": "retail"}
    table = merged_channel_table(user)
    assert table["347082227713"] == "marketplace"
    assert table["pos"] == "retail"
    assert table["amazon"] == "marketplace"
    assert sales_channel_type("347082227713", None, table) == "marketplace"
    assert sales_channel_type("pos", None, table) == "retail"


def test_a_user_table_alone_still_has_the_defaults_underneath() -> None:
    user = {"pos": "retail"}
    assert sales_channel_type("pos", None, user) == "retail"
    assert sales_channel_type("2329312", None, user) == "facebook_shop"
    assert sales_channel_type("web", None, {}) == "web"
    assert sales_channel_type("mobile_app", None, None) == "mobile_app"


def test_default_table_cannot_be_changed_by_accident() -> None:
    with pytest.raises(TypeError):
        DEFAULT_CHANNEL_TABLE["web"] = "other"  # type: ignore[index]
    assert merged_channel_table(None) == CONTRACT_TABLE
