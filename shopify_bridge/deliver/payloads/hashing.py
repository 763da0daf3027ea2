"""Meta Conversions API `user_data`: each value normalised, then SHA-256 (lower-case hex of UTF-8).

Meta matches on the hash of the normalised value, so a different byte (a capital, a space, a
decomposed accent) is a different hash and matches nothing. The rules are the contract's, following
Meta's "Customer Information Parameters" page
(https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters):

- `em`: trimmed, lower-cased (`John_Smith@gmail.com` → `john_smith@gmail.com`);
- `ph`: digits only, leading zeros dropped (Meta: "Remove symbols, letters, and any leading zeros");
  Shopify stores E.164 (`+14165550101` → `14165550101`), which already carries the country code;
- `fn`, `ln`, `ct`: lower-cased, spaces, punctuation and symbols removed, letters with accents and
  other scripts kept (`Valéry` → `valéry`, `정` → `정`, `New York` → `newyork`), in Unicode NFC so
  that `é` is one code point whichever way the shop stored it;
- `st`: `provinceCode`, lower-cased, punctuation removed (`ON` → `on`);
- `country`: `countryCodeV2` lower-cased (`US` → `us`);
- `zp`: lower-cased without spaces and dashes (Meta: "no spaces and no dash"); for US ZIP codes
  (the US and the territories that use them) the first 5 digits (`94025-1234` → `94025`);
- `external_id`: the customer id as is (digits).

A value that normalises to nothing is omitted, like a missing one.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

# Countries whose postal codes are US ZIP codes (Puerto Rico, US Virgin Islands, Guam, American Samoa,
# Northern Mariana Islands): Meta's "first 5 digits for U.S. zip codes" applies to them too.
US_ZIP_COUNTRIES = frozenset({"us", "pr", "vi", "gu", "as", "mp"})


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    # Any script's decimal digits count (an Arabic-Indic ٥ is a 5), written as ASCII.
    digits = "".join(str(unicodedata.decimal(ch)) for ch in value if unicodedata.decimal(ch, None) is not None)
    return digits.lstrip("0")


def normalise_text(value: str) -> str:
    """Names, city, state: lower-case letters, marks and digits only, NFC."""
    lowered = unicodedata.normalize("NFC", value.strip().lower())
    return "".join(ch for ch in lowered if unicodedata.category(ch)[0] in "LMN")


def normalise_country(value: str) -> str:
    return value.strip().lower()


def normalise_zip(value: str, country: str | None) -> str:
    text = "".join(ch for ch in value.strip().lower() if not ch.isspace() and ch != "-")
    if country is not None and normalise_country(country) in US_ZIP_COUNTRIES:
        digits = "".join(ch for ch in text if ch.isascii() and ch.isdigit())
        return digits[:5]
    return text


# user_data key ← (profile property, normaliser)
_PROFILE_KEYS: tuple[tuple[str, str, Callable[[str], str]], ...] = (
    ("em", "$email", normalise_email),
    ("ph", "$phone_number", normalise_phone),
    ("fn", "$first_name", normalise_text),
    ("ln", "$last_name", normalise_text),
    ("ct", "$city", normalise_text),
    ("st", "$state", normalise_text),
    ("country", "$country_code", normalise_country),
)


def hashed_user_data(profile: Mapping[str, Any], customer_id: str | None) -> dict[str, list[str]]:
    """Meta's `user_data` from an event's profile properties: every value a one-element list of a hash."""
    normalised: dict[str, str] = {}
    for key, profile_key, normalise in _PROFILE_KEYS:
        value = profile.get(profile_key)
        if value is not None:
            normalised[key] = normalise(str(value))
    if profile.get("$zip_code") is not None:
        country = profile.get("$country_code")
        normalised["zp"] = normalise_zip(str(profile["$zip_code"]), None if country is None else str(country))
    if customer_id is not None:
        normalised["external_id"] = customer_id.strip()
    order = ("em", "ph", "fn", "ln", "ct", "st", "zp", "country", "external_id")
    return {key: [sha256_hex(normalised[key])] for key in order if normalised.get(key)}
