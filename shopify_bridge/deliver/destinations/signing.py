"""Standard Webhooks signing (https://www.standardwebhooks.com/), pure functions.

A receiver checks `webhook-signature` against HMAC-SHA256 over `"{webhook-id}.{webhook-timestamp}.{body}"`.
The `webhook-id` is the event_id, so a receiver that deduplicates on it sees each event once even
across retries and replays; the timestamp is the time of this attempt (receivers reject stale ones).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"


class SigningSecretError(ValueError):
    """The signing secret cannot be turned into a key; the message never contains the secret."""


def signing_key(secret: str) -> bytes:
    """`whsec_<base64>` is the spec's form (the key is the decoded bytes); anything else is used as UTF-8."""
    if not secret:
        raise SigningSecretError("signing_secret is empty")
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
        except (binascii.Error, ValueError):
            raise SigningSecretError(
                "signing_secret starts with whsec_ but the rest is not valid base64"
            ) from None
        if not key:
            raise SigningSecretError("signing_secret has no key after its prefix")
        return key
    return secret.encode("utf-8")


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256>`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_headers(key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers a Standard Webhooks receiver verifies."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, message_id, timestamp, body),
    }


def verify(key: bytes, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """True when one of the space-separated `v1,…` entries of `header` matches (constant-time compare)."""
    expected = signature(key, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
