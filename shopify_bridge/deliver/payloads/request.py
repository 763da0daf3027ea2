"""What a payload builder returns: the request to send, or why this event is not sent there.

A builder never does I/O. A sender turns a `DestinationRequest` into one HTTP call (`method`, `url`,
`headers`, `body_bytes()`), and records a `Skip` for that destination with its `reason` (the outbox
state's rule, e.g. `too_old_for_destination`) and `detail` (one line for operators).

`redacted` is the form `explain` prints: the same request with every credential replaced by `***` —
`api_secret` (and `access_token`) in the query string, `access_token` in the body, the
`Authorization` header (its scheme kept: `Basic ***`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from msgspec import Struct
from msgspec.structs import replace

from shopify_bridge.decide.money import dumps_event
from shopify_bridge.timeutil import iso

REDACTED = "***"  # the marker the config and the log redactor print for a secret

TOO_OLD_FOR_DESTINATION = "too_old_for_destination"
NO_USER_DATA = "no_user_data"
UNSUPPORTED_EVENT = "unsupported_event"

_SECRET_QUERY_KEYS = frozenset({"api_secret", "access_token"})
_SECRET_BODY_KEYS = frozenset({"access_token"})
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


class SecretText(Protocol):
    """A credential from the config (pydantic's `SecretStr`): read only to build the request."""

    def get_secret_value(self) -> str: ...


class DestinationRequest(Struct, frozen=True):
    """One HTTP request to a destination; `body` holds amounts as `Decimal` until `body_bytes`."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]

    def body_bytes(self) -> bytes:
        """Compact JSON; amounts keep the event's exact digits (`15.0`, `12.345`, `1500`)."""
        # The events' own writer: Decimal → exact JSON number, keys sorted, so a payload's bytes are stable.
        return dumps_event(self.body)


class Skip(Struct, frozen=True):
    """This event is not sent to this destination: `reason` is recorded, `detail` explains it."""

    reason: str
    detail: str


PayloadResult = DestinationRequest | Skip


def too_old(event_at: datetime, now: datetime, limit: timedelta, destination: str) -> Skip | None:
    """A `too_old_for_destination` skip when the event is older than `limit` at `now`, else None."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if now - event_at <= limit:
        return None
    return Skip(
        TOO_OLD_FOR_DESTINATION,
        f"event time {iso(event_at)} is more than {limit.total_seconds() / 3600:g} h before {iso(now)}; "
        f"{destination} takes no older events",
    )


def redacted(request: DestinationRequest) -> DestinationRequest:
    """The request with its credentials replaced by `***` (what `explain` shows)."""
    return replace(
        request,
        url=_redacted_url(request.url),
        headers={name: _redacted_header(name, value) for name, value in request.headers.items()},
        body=_redacted_body(request.body),
    )


def _redacted_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [
        (key, REDACTED if key in _SECRET_QUERY_KEYS else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def _redacted_header(name: str, value: str) -> str:
    if name.lower() not in _SECRET_HEADERS:
        return value
    scheme, _, credentials = value.partition(" ")
    return f"{scheme} {REDACTED}" if credentials else REDACTED


def _redacted_body(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: REDACTED if key in _SECRET_BODY_KEYS else _redacted_body(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redacted_body(item) for item in value]
    return value
