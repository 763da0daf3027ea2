"""Standard Webhooks signing: the spec's reference vector, key forms, and secret-free errors."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from shopify_bridge.deliver.destinations import signing

# The reference vector of the Standard Webhooks test suite (also used by svix's libraries).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_reference_vector() -> None:
    key = signing.signing_key(VECTOR_SECRET)
    assert signing.signature(key, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_headers_carry_id_timestamp_and_signature() -> None:
    key = signing.signing_key(VECTOR_SECRET)
    headers = signing.signature_headers(key, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }


def test_whsec_secret_is_base64_decoded() -> None:
    assert signing.signing_key("whsec_" + base64.b64encode(b"\x00\x01key").decode()) == b"\x00\x01key"


def test_plain_secret_is_used_as_utf8_bytes() -> None:
    key = signing.signing_key("plain-sécret")
    assert key == "plain-sécret".encode()
    expected = base64.b64encode(hmac.new(key, b"ev1.1700000000.{}", hashlib.sha256).digest()).decode()
    assert signing.signature(key, "ev1", 1700000000, b"{}") == f"v1,{expected}"


@pytest.mark.parametrize("secret", ["whsec_not*base64!!CANARY", "whsec_", ""])
def test_unusable_secret_is_rejected_without_echoing_it(secret: str) -> None:
    with pytest.raises(signing.SigningSecretError) as caught:
        signing.signing_key(secret)
    assert "CANARY" not in str(caught.value)
    if secret:
        assert secret not in str(caught.value)


def test_verify_accepts_any_matching_entry_and_rejects_tampering() -> None:
    key = signing.signing_key(VECTOR_SECRET)
    header = f"v1,bm90LWl0 {VECTOR_SIGNATURE}"
    assert signing.verify(key, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY, header)
    assert not signing.verify(key, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY + b" ", header)
    assert not signing.verify(key, VECTOR_ID, VECTOR_TIMESTAMP + 1, VECTOR_BODY, header)
