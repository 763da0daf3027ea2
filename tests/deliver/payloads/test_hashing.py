"""Meta `user_data` normalisation and hashing.

Two kinds of oracle: Meta's own published examples (input, normalised form and SHA-256 from the
"Customer Information Parameters" page, quoted in docs/destinations/meta_capi.md), and `hashlib` of
the normalised literal the contract's rule gives, so each rule is pinned by its expected text.
"""

from __future__ import annotations

import hashlib
import unicodedata

import pytest

from shopify_bridge.deliver.payloads.hashing import (
    hashed_user_data,
    normalise_email,
    normalise_phone,
    normalise_text,
    normalise_zip,
    sha256_hex,
)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# (normaliser, Meta's input, Meta's normalised form, Meta's "Expected SHA256 output")
META_EXAMPLES = [
    ("em", "John_Smith@gmail.com", "john_smith@gmail.com",
     "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"),
    ("ph", "(650)555-1212", "6505551212", None),  # Meta's US example adds the country code: see below
    ("fn", "Mary", "mary", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"),
    ("fn", "정", "정", "8fa8cd9c440be61d0151429310034083132b35975c4bea67fdd74158eb51db14"),
    ("fn", "Valéry", "valéry", "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"),
]
NORMALISERS = {"em": normalise_email, "ph": normalise_phone, "fn": normalise_text}


@pytest.mark.parametrize(("key", "given", "normalised", "expected"), META_EXAMPLES)
def test_metas_documented_examples(key: str, given: str, normalised: str, expected: str | None) -> None:
    assert NORMALISERS[key](given) == normalised
    if expected is not None:
        assert sha256_hex(NORMALISERS[key](given)) == expected


def test_metas_phone_example_with_its_country_code() -> None:
    # Meta: "US phone number (650)555-1212 → 16505551212 → e323ec62…". Shopify stores E.164, so the
    # country code is part of what we hash: "+1 (650) 555-1212" is the same number.
    assert normalise_phone("+1 (650) 555-1212") == "16505551212"
    assert sha256_hex("16505551212") == "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"


def test_sha256_is_lower_case_hex_of_utf8() -> None:
    assert sha256_hex("john@example.com") == digest("john@example.com")
    assert sha256_hex("john@example.com") == "855f96e983f1f8e8be944692b6f719fd54329826cb62e98015efee8e2e071dd4"
    assert sha256_hex("valéry") == hashlib.sha256(b"val\xc3\xa9ry").hexdigest()


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("  John@Example.COM ", "john@example.com"),
        ("ANN.LEE+shop@Example.com", "ann.lee+shop@example.com"),  # dots and plus kept: part of the address
    ],
)
def test_email_is_trimmed_and_lower_cased(given: str, normalised: str) -> None:
    assert normalise_email(given) == normalised


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("+14165550101", "14165550101"),
        ("+1 (416) 555-0101", "14165550101"),
        ("0044 20 7946 0958", "442079460958"),  # leading zeros dropped (Meta), the country code stays
        ("+81 90-1234-5678 ext. 9", "8190123456789"),
        ("+٩٦٥ ٥٥٥٥ ١٢٣٤", "96555551234"),  # Arabic-Indic digits are digits
    ],
)
def test_phone_keeps_digits_only(given: str, normalised: str) -> None:
    assert normalise_phone(given) == normalised


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("O'Neil-Smith", "oneilsmith"),
        ("Mary Jane", "maryjane"),
        ("New York", "newyork"),
        ("Saint-Étienne", "saintétienne"),
        ("Zürich", "zürich"),
        ("São Paulo", "sãopaulo"),
        ("St. John's", "stjohns"),
        ("山田", "山田"),
        ("Chiyoda-ku", "chiyodaku"),
        ("JP-13", "jp13"),
        ("ON", "on"),
    ],
)
def test_names_and_places_lose_spaces_and_punctuation_but_keep_accents(given: str, normalised: str) -> None:
    assert normalise_text(given) == normalised


def test_accents_hash_alike_however_the_shop_stored_them() -> None:
    decomposed = unicodedata.normalize("NFD", "Valéry")
    assert decomposed != "Valéry"
    assert normalise_text(decomposed) == "valéry"
    assert sha256_hex(normalise_text(decomposed)) == "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"


@pytest.mark.parametrize(
    ("given", "country", "normalised"),
    [
        ("94025-1234", "US", "94025"),  # Meta: "Use only the first 5 digits for U.S. zip codes"
        ("94035", "us", "94035"),
        ("00901-1234", "PR", "00901"),  # Puerto Rico uses US ZIP codes
        ("M1 1AE", "GB", "m11ae"),  # Meta's UK example
        ("M5H 2M9", "CA", "m5h2m9"),
        ("100-0001", "JP", "1000001"),  # Meta: "no spaces and no dash"
        ("75018", "FR", "75018"),
        ("1987", None, "1987"),
    ],
)
def test_zip(given: str, country: str | None, normalised: str) -> None:
    assert normalise_zip(given, country) == normalised


def test_user_data_maps_each_profile_key_to_one_hash() -> None:
    profile = {
        "$email": "John@Example.com",
        "$phone_number": "+1 (416) 555-0101",
        "$first_name": "John",
        "$last_name": "O'Neil-Smith",
        "$city": "Toronto",
        "$state": "ON",
        "$zip_code": "M5H 2M9",
        "$country_code": "CA",
    }
    assert hashed_user_data(profile, "7001") == {
        "em": [digest("john@example.com")],
        "ph": [digest("14165550101")],
        "fn": [digest("john")],
        "ln": [digest("oneilsmith")],
        "ct": [digest("toronto")],
        "st": [digest("on")],
        "zp": [digest("m5h2m9")],
        "country": [digest("ca")],
        "external_id": [digest("7001")],
    }


def test_missing_and_empty_values_are_omitted() -> None:
    assert hashed_user_data({"$email": "a@b.co", "$first_name": "--", "$phone_number": "n/a"}, None) == {
        "em": [digest("a@b.co")]
    }
    assert hashed_user_data({}, None) == {}
    assert hashed_user_data({}, "42") == {"external_id": [digest("42")]}


def test_us_zip_rule_follows_the_buyers_country() -> None:
    assert hashed_user_data({"$zip_code": "94025-1234", "$country_code": "US"}, None)["zp"] == [digest("94025")]
    assert hashed_user_data({"$zip_code": "94025-1234"}, None)["zp"] == [digest("940251234")]
