"""What a cassette must not carry: customer data and signed URLs, replaced before anything is written.

Customer PII (emails, phones, names, street addresses, zips, cart attribute values) becomes stable
placeholders such as `customer-<hash>@example.invalid`: the hash is an HMAC of the value under a
per-recording key, so one customer keeps one placeholder within a cassette, but values cannot be guessed
back. Strings lose anything shaped like a secret (`redaction.mask_shapes`), and signed result URLs their
query string. Every replacement is idempotent: vcrpy runs the filters again on load and on every match.
The vcrpy hooks that apply it are in `cassette`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shopify_bridge.redaction import mask_shapes

SIGNED_QUERY_KEYS = frozenset(
    {"googleaccessid", "expires", "signature", "x-goog-algorithm", "x-goog-credential", "x-goog-signature"}
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_EMAIL_PLACEHOLDER = re.compile(r"customer-[0-9a-f]{10}@example\.invalid")
_TEXT_PLACEHOLDER = re.compile(r"[A-Za-z]+-[0-9a-f]{10}")
_PHONE_PLACEHOLDER = re.compile(r"\+1555\d{7}")
_EMAIL_KEYS = frozenset({"email", "emailAddress", "contactEmail", "customerEmail"})
_PHONE_KEYS = frozenset({"phone", "phoneNumber"})
# key -> label of its placeholder; `name`/`displayName` only inside a person or an address (below).
_TEXT_KEYS = {
    "firstName": "First",
    "lastName": "Last",
    "address1": "Street",
    "address2": "Unit",
    "company": "Company",
    "zip": "Zip",
    "name": "Person",
    "displayName": "Person",
}
_PERSON_MARKERS = frozenset({"firstName", "lastName", "address1", "defaultEmailAddress", "emailAddress"})


def is_signed(url: str) -> bool:
    query = urlsplit(url).query
    keys = {part.split("=", 1)[0].lower() for part in query.split("&") if part}
    return bool(keys & SIGNED_QUERY_KEYS)


class Scrubber:
    """Customer data → stable placeholders (an HMAC of the value under `key`), idempotently."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else secrets.token_bytes(16)

    def _digest(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:10]

    def email(self, value: str) -> str:
        if _EMAIL_PLACEHOLDER.fullmatch(value.strip()):
            return value
        return f"customer-{self._digest('email', value.strip().lower())}@example.invalid"

    def emails_in(self, text: str) -> str:
        return _EMAIL.sub(lambda m: self.email(m.group(0)), text)

    def phone(self, value: str) -> str:
        if _PHONE_PLACEHOLDER.fullmatch(value):
            return value
        return f"+1555{int(self._digest('phone', value), 16) % 10**7:07d}"

    def text(self, label: str, value: str) -> str:
        if _TEXT_PLACEHOLDER.fullmatch(value):
            return value
        return f"{label}-{self._digest(label, value)}"

    def json(self, value: Any) -> Any:
        """A copy of a decoded JSON value with customer data replaced, wherever it sits."""
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, str):
            return self._string(value)
        if not isinstance(value, dict):
            return value
        person = bool(_PERSON_MARKERS & value.keys())
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, str) and key in _EMAIL_KEYS:
                out[key] = self.email(item)
            elif isinstance(item, str) and key in _PHONE_KEYS:
                out[key] = self.phone(item)
            elif (
                isinstance(item, str) and key in _TEXT_KEYS and (person or key not in ("name", "displayName"))
            ):
                out[key] = self.text(_TEXT_KEYS[key], item)
            elif key == "customAttributes" and isinstance(item, list):
                out[key] = [self._attribute(attribute) for attribute in item]
            else:
                out[key] = self.json(item)
        return out

    def _attribute(self, attribute: Any) -> Any:
        """A cart attribute keeps its key; its value (a gift message, a tracking cookie) is the buyer's."""
        if isinstance(attribute, dict) and isinstance(attribute.get("value"), str):
            return {**self.json(attribute), "value": self.text("Attribute", attribute["value"])}
        return self.json(attribute)

    def _string(self, value: str) -> str:
        if value.startswith(("http://", "https://")) and is_signed(value):
            return urlunsplit(urlsplit(value)._replace(query=""))
        return mask_shapes(self.emails_in(value) if "@" in value else value)

    def body(self, raw: bytes) -> bytes:
        """A response body: JSON, JSONL (bulk results) or text, scrubbed; binary bodies unchanged."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
        try:
            return pretty_json(self.json(json.loads(text)))
        except ValueError:
            pass
        lines = text.split("\n")
        try:
            scrubbed = [
                compact_json(self.json(json.loads(line))).decode() if line.strip() else line for line in lines
            ]
        except ValueError:
            return mask_shapes(self.emails_in(text)).encode()
        return "\n".join(scrubbed).encode()


def compact_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def pretty_json(value: Any) -> bytes:
    # One value per line: cassettes are reviewed in diffs, and their YAML (`cassette.LiteralYaml`) keeps the lines.
    return json.dumps(value, ensure_ascii=False, indent=1).encode()
