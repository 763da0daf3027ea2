"""Who placed an order: the `profile_properties` and `aliases` of an event.

Each profile key is chosen on its own, from the first source that has a value (so a billing
address without a phone does not hide the shipping address's phone):

- `$email`: order `email`, else `customer.defaultEmailAddress.emailAddress`;
- `$phone_number`: order `phone`, else billing `phone`, else shipping `phone`, else
  `customer.defaultPhoneNumber.phoneNumber`;
- `$first_name`, `$last_name`: billing address, else shipping address, else the customer's own
  `firstName`/`lastName`, else `customer.defaultAddress`;
- `$city`, `$state` (`provinceCode`), `$zip_code` (`zip`), `$country_code` (`countryCodeV2`):
  billing address, else shipping address, else `customer.defaultAddress`.

Values are stripped of surrounding whitespace; empty or whitespace-only values count as missing
and keys without a value are omitted. `$email` keeps its case (the alias is lower-cased).

Aliases, in this order, deduplicated, at most 10: `urn:email:<trimmed lower-cased $email>`,
`urn:checkout_token:<checkoutToken>`, `urn:cart_token:<cartToken>`,
`urn:user_id:<customer legacyResourceId>`. When none of them exists the event still needs one:
`urn:shopify_order_id:<numeric order id>` — a bridge extension, not a Converge-defined alias.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shopify_bridge.decide.orderdoc import OrderDoc, legacy_id

MAX_ALIASES = 10

_ADDRESS_KEYS = (
    ("$city", "city"),
    ("$state", "provinceCode"),
    ("$zip_code", "zip"),
    ("$country_code", "countryCodeV2"),
)
_NAME_KEYS = (("$first_name", "firstName"), ("$last_name", "lastName"))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _first(*values: Any) -> str | None:
    for value in values:
        text = _text(value)
        if text is not None:
            return text
    return None


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def order_email(doc: OrderDoc) -> str | None:
    customer = _obj(doc.get("customer"))
    return _first(doc.get("email"), _obj(customer.get("defaultEmailAddress")).get("emailAddress"))


def customer_legacy_id(doc: OrderDoc) -> str | None:
    customer = doc.get("customer")
    if not isinstance(customer, Mapping):
        return None
    if customer.get("legacyResourceId"):
        return str(customer["legacyResourceId"])
    return legacy_id(customer["id"]) if customer.get("id") else None


def order_legacy_id(doc: OrderDoc) -> str:
    return str(doc.get("legacyResourceId") or legacy_id(doc["id"]))


def profile_properties(doc: OrderDoc) -> dict[str, str]:
    """The `$…` keys of an order's buyer, each from its first source with a value."""
    billing = _obj(doc.get("billingAddress"))
    shipping = _obj(doc.get("shippingAddress"))
    customer = _obj(doc.get("customer"))
    default_address = _obj(customer.get("defaultAddress"))
    found: dict[str, str | None] = {
        "$email": order_email(doc),
        "$phone_number": _first(
            doc.get("phone"),
            billing.get("phone"),
            shipping.get("phone"),
            _obj(customer.get("defaultPhoneNumber")).get("phoneNumber"),
        ),
    }
    for key, field in _NAME_KEYS:
        found[key] = _first(
            billing.get(field), shipping.get(field), customer.get(field), default_address.get(field)
        )
    for key, field in _ADDRESS_KEYS:
        found[key] = _first(billing.get(field), shipping.get(field), default_address.get(field))
    return {key: value for key, value in found.items() if value is not None}


def aliases(doc: OrderDoc) -> list[str]:
    """1–10 identity URNs for the buyer of an order, in the contract's order, deduplicated."""
    email = order_email(doc)
    candidates = [
        f"urn:email:{email.lower()}" if email else None,
        _urn("checkout_token", doc.get("checkoutToken")),
        _urn("cart_token", doc.get("cartToken")),
        _urn("user_id", customer_legacy_id(doc)),
    ]
    return limit_aliases(candidates) or [f"urn:shopify_order_id:{order_legacy_id(doc)}"]


def limit_aliases(candidates: Iterable[str | None]) -> list[str]:
    """Present candidates, first occurrence kept, at most `MAX_ALIASES` (Converge's limit)."""
    out: list[str] = []
    for alias in candidates:
        if alias is not None and alias not in out:
            out.append(alias)
    return out[:MAX_ALIASES]


def _urn(kind: str, value: Any) -> str | None:
    text = _text(value)
    return f"urn:{kind}:{text}" if text is not None else None
