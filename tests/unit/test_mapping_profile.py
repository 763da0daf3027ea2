"""Profile properties (per-key fallbacks) and aliases of an order's buyer."""

from __future__ import annotations

from typing import Any

import pytest

from shopify_bridge.decide.profile import MAX_ALIASES, aliases, limit_aliases, profile_properties


def bare_order(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "gid://shopify/Order/42",
        "legacyResourceId": "42",
        "email": None,
        "phone": None,
        "customer": None,
        "billingAddress": None,
        "shippingAddress": None,
        "checkoutToken": None,
        "cartToken": None,
    }
    doc.update(fields)
    return doc


def customer(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "gid://shopify/Customer/7001",
        "legacyResourceId": "7001",
        "firstName": None,
        "lastName": None,
        "defaultEmailAddress": None,
        "defaultPhoneNumber": None,
        "defaultAddress": None,
    }
    base.update(fields)
    return base


def test_nothing_known_gives_an_empty_profile() -> None:
    assert profile_properties(bare_order()) == {}


def test_email_prefers_the_order_then_the_customer_default() -> None:
    cust = customer(defaultEmailAddress={"emailAddress": "default@example.com"})
    assert (
        profile_properties(bare_order(email="order@example.com", customer=cust))["$email"]
        == "order@example.com"
    )
    assert profile_properties(bare_order(customer=cust))["$email"] == "default@example.com"
    assert profile_properties(bare_order(email="   ", customer=cust))["$email"] == "default@example.com"


def test_email_is_trimmed_but_keeps_its_case() -> None:
    assert profile_properties(bare_order(email="  Ann@Example.COM "))["$email"] == "Ann@Example.COM"


_CUSTOMER_PHONE = customer(defaultPhoneNumber={"phoneNumber": "+1 customer"})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"phone": "+1 order", "billingAddress": {"phone": "+1 billing"}, "customer": _CUSTOMER_PHONE},
            "+1 order",
        ),
        (
            {"billingAddress": {"phone": "+1 billing"}, "shippingAddress": {"phone": "+1 shipping"}},
            "+1 billing",
        ),
        (
            {
                "billingAddress": {"phone": None},
                "shippingAddress": {"phone": "+1 shipping"},
                "customer": _CUSTOMER_PHONE,
            },
            "+1 shipping",
        ),
        ({"customer": _CUSTOMER_PHONE}, "+1 customer"),
    ],
)
def test_phone_number_fallback_chain(fields: dict[str, Any], expected: str) -> None:
    assert profile_properties(bare_order(**fields))["$phone_number"] == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"billingAddress": {"firstName": "Bill"}, "shippingAddress": {"firstName": "Ship"}}, "Bill"),
        ({"billingAddress": {"firstName": ""}, "shippingAddress": {"firstName": "Ship"}}, "Ship"),
        ({"customer": customer(firstName="Cust", defaultAddress={"firstName": "Addr"})}, "Cust"),
        ({"customer": customer(defaultAddress={"firstName": "Addr"})}, "Addr"),
    ],
)
def test_first_name_fallback_chain(fields: dict[str, Any], expected: str) -> None:
    assert profile_properties(bare_order(**fields))["$first_name"] == expected


def test_last_name_comes_from_customer_names_for_a_customer_without_addresses() -> None:
    assert profile_properties(bare_order(customer=customer(lastName="Lee")))["$last_name"] == "Lee"


def test_address_keys_are_chosen_per_key() -> None:
    order = bare_order(
        billingAddress={"city": "Toronto", "zip": None, "provinceCode": None, "countryCodeV2": None},
        shippingAddress={"city": "Montreal", "zip": "H2X 1Y4", "provinceCode": None, "countryCodeV2": None},
        customer=customer(defaultAddress={"city": "Ottawa", "provinceCode": "ON", "countryCodeV2": "CA"}),
    )
    assert profile_properties(order) == {
        "$city": "Toronto",
        "$zip_code": "H2X 1Y4",
        "$state": "ON",
        "$country_code": "CA",
    }


def test_customer_names_do_not_fill_address_keys() -> None:
    order = bare_order(customer=customer(firstName="Ann", lastName="Lee"))
    assert profile_properties(order) == {"$first_name": "Ann", "$last_name": "Lee"}


def test_aliases_in_contract_order() -> None:
    order = bare_order(email=" Ann@Example.COM ", checkoutToken="ck", cartToken="ct", customer=customer())
    assert aliases(order) == [
        "urn:email:ann@example.com",
        "urn:checkout_token:ck",
        "urn:cart_token:ct",
        "urn:user_id:7001",
    ]


def test_alias_email_falls_back_to_the_customer_default() -> None:
    order = bare_order(customer=customer(defaultEmailAddress={"emailAddress": "Default@Example.com"}))
    assert aliases(order) == ["urn:email:default@example.com", "urn:user_id:7001"]


def test_user_id_from_the_customer_gid_when_legacy_id_is_missing() -> None:
    order = bare_order(customer=customer(legacyResourceId=None))
    assert aliases(order) == ["urn:user_id:7001"]


def test_fallback_alias_is_the_order_id_when_nothing_else_exists() -> None:
    assert aliases(bare_order()) == ["urn:shopify_order_id:42"]
    assert aliases(bare_order(legacyResourceId=None, email="  ")) == ["urn:shopify_order_id:42"]


def test_fallback_alias_is_not_added_when_another_exists() -> None:
    assert aliases(bare_order(cartToken="ct")) == ["urn:cart_token:ct"]


def test_limit_aliases_dedupes_keeps_order_and_caps_at_ten() -> None:
    candidates = [None, "urn:a", "urn:b", "urn:a", *[f"urn:x{i}" for i in range(12)]]
    limited = limit_aliases(candidates)
    assert MAX_ALIASES == 10
    assert limited == ["urn:a", "urn:b", *[f"urn:x{i}" for i in range(8)]]
