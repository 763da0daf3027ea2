"""The `[[destinations]]` tables, told apart by `type`, and the optional `[alerts]` table.

Every destination takes `events`, `channels` and `exclude_tags` (which events it receives); the
network ones share the retry keys of `http` (timeout, attempts, age), because every type retries, goes
dead and replays alike.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, field_validator, model_validator

from shopify_bridge.config.base import Section, path_given, resolved_path
from shopify_bridge.config.values import checked_header_name, checked_header_value, checked_http_url

EventName = Literal["Placed Order", "Received Refund"]
EVENT_NAMES: tuple[EventName, ...] = ("Placed Order", "Received Refund")


def _both_events() -> list[EventName]:
    return list(EVENT_NAMES)


def _placed_order_only() -> list[EventName]:
    return ["Placed Order"]

_GA4_MEASUREMENT_ID = re.compile(r"^G-[A-Z0-9]+$")
_DIGITS = re.compile(r"^[0-9]+$")


def _checked_secret_header_value(value: SecretStr) -> SecretStr:
    checked_header_value(value.get_secret_value())
    return value


def _present_secret(value: SecretStr) -> SecretStr:
    text = value.get_secret_value().strip()
    if not text:
        raise ValueError("is empty")
    return SecretStr(text)


# Validated per entry, so an error names the header: `destinations[1].headers.X-Token`.
HeaderName = Annotated[str, AfterValidator(checked_header_name)]
HeaderValue = Annotated[SecretStr, AfterValidator(_checked_secret_header_value)]
Credential = Annotated[SecretStr, AfterValidator(_present_secret)]
HttpUrl = Annotated[str, AfterValidator(checked_http_url)]


class DestinationBase(Section):
    """What every destination has: a name and which events it takes."""

    name: str = Field(min_length=1)
    """Unique destination name (sources refer to it in `destinations`)."""

    events: list[EventName] = Field(default_factory=_both_events)
    """Which events this destination takes: "Placed Order", "Received Refund" (default: both)."""

    channels: list[str] = Field(default_factory=list)
    """Only orders of these `$sales_channel_type` values (case-insensitive); empty: every channel."""

    exclude_tags: list[str] = Field(default_factory=list)
    """Never orders carrying one of these tags (case-insensitive exact match)."""

    @field_validator("events")
    @classmethod
    def _some_events(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(f"names no event; take at least one of {', '.join(map(repr, EVENT_NAMES))}")
        if len(set(value)) != len(value):
            raise ValueError("names an event twice")
        return value

    @field_validator("channels", "exclude_tags")
    @classmethod
    def _no_blank_entries(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError("must not contain an empty entry")
        return [item.strip() for item in value]


class JsonlDestination(DestinationBase):
    """Appends one event JSON object per line to a file, flushed and fsynced per batch."""

    type: Literal["jsonl"]
    """Always "jsonl" for this kind of destination."""

    path: Path
    """The JSONL file; relative to the config file's directory."""

    @field_validator("path", mode="before")
    @classmethod
    def _path_given(cls, value: Any) -> Any:
        return path_given(value)

    @field_validator("path")
    @classmethod
    def _path_resolved(cls, value: Path, info: ValidationInfo) -> Path:
        return resolved_path(value, info)


class NetworkDestination(DestinationBase):
    """The retry keys shared by every destination reached over HTTP."""

    timeout_seconds: float = Field(default=10, gt=0)
    """Timeout of one request."""

    max_attempts: int = Field(default=12, ge=1)
    """Attempts before an event goes dead for this destination."""

    max_age_hours: float = Field(default=72, gt=0)
    """Age after which an undelivered event goes dead for this destination."""


class HttpDestination(NetworkDestination):
    """POSTs each event envelope as JSON, retrying 408/429/5xx/network errors with backoff."""

    type: Literal["http"]
    """Always "http" for this kind of destination."""

    url: HttpUrl
    """Where the events are POSTed (http:// or https://)."""

    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    """Extra request headers; their values are secrets (e.g. a webhook token from "${VAR}")."""

    signing_secret: SecretStr | None = None
    """Standard Webhooks signing secret ("whsec_<base64>" or any text); the webhook-id is the event_id."""

    @field_validator("signing_secret")
    @classmethod
    def _signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from shopify_bridge.deliver.destinations.signing import SigningSecretError, signing_key

            try:
                signing_key(value.get_secret_value())
            except SigningSecretError as exc:
                raise ValueError(str(exc).removeprefix("signing_secret ")) from None
        return value


class Ga4Destination(NetworkDestination):
    """Google Analytics 4 Measurement Protocol: `purchase` and `refund` events."""

    type: Literal["ga4"]
    """Always "ga4" for this kind of destination."""

    measurement_id: str
    """The web data stream's measurement id, "G-XXXXXXXXXX"."""

    api_secret: Credential
    """A Measurement Protocol API secret of that stream; never printed or logged (use "${VAR}")."""

    endpoint: HttpUrl = "https://www.google-analytics.com/mp/collect"
    """The collect endpoint (the EU one, or a test server)."""

    @field_validator("measurement_id")
    @classmethod
    def _measurement_id(cls, value: str) -> str:
        text = value.strip()
        if not _GA4_MEASUREMENT_ID.match(text):
            raise ValueError(f"{text!r} is not a GA4 measurement id; it looks like \"G-XXXXXXXXXX\"")
        return text


class MetaCapiDestination(NetworkDestination):
    """Meta Conversions API: `Purchase` events with hashed user data."""

    type: Literal["meta_capi"]
    """Always "meta_capi" for this kind of destination."""

    events: list[EventName] = Field(default_factory=_placed_order_only)
    """Which events this destination takes (default: "Placed Order" only)."""

    pixel_id: str
    """The pixel (dataset) id: digits."""

    access_token: Credential
    """A Conversions API access token; never printed or logged (use "${VAR}")."""

    endpoint: HttpUrl = "https://graph.facebook.com/v21.0"
    """The Graph API base, versioned; events go to `{endpoint}/{pixel_id}/events`."""

    test_event_code: str = ""
    """Optional code from Events Manager's test tab; events then show there and are not counted."""

    @field_validator("pixel_id")
    @classmethod
    def _pixel_id(cls, value: str) -> str:
        text = value.strip()
        if not _DIGITS.match(text):
            raise ValueError(f"{text!r} is not a pixel id; it is a number such as \"1234567890\"")
        return text


class SegmentDestination(NetworkDestination):
    """A Segment-compatible Track API (Segment, RudderStack, Jitsu): `Order Completed`, `Order Refunded`."""

    type: Literal["segment"]
    """Always "segment" for this kind of destination."""

    write_key: Credential
    """The source's write key, sent as the Basic auth user; never printed or logged (use "${VAR}")."""

    endpoint: HttpUrl = "https://api.segment.io/v1"
    """The data plane's API base; events go to `{endpoint}/track`."""


Destination = Annotated[
    JsonlDestination | HttpDestination | Ga4Destination | MetaCapiDestination | SegmentDestination,
    Field(discriminator="type"),
]
DESTINATION_MODELS: tuple[type[DestinationBase], ...] = (
    JsonlDestination,
    HttpDestination,
    Ga4Destination,
    MetaCapiDestination,
    SegmentDestination,
)


class Alerts(Section):
    """Who is told when something needs a person: a webhook, a command, or both."""

    url: HttpUrl | None = None
    """POST JSON {"kind", "source", "message", "at", "text"} here (Slack-compatible "text"); a secret."""

    command: list[str] = Field(default_factory=list)
    """Or run this argv with the same JSON on stdin, e.g. ["/usr/local/bin/page-me"]."""

    @field_validator("command")
    @classmethod
    def _command(cls, value: list[str]) -> list[str]:
        if value and not value[0].strip():
            raise ValueError("the program (its first entry) must not be empty")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> Alerts:
        if self.url is None and not self.command:
            raise ValueError("tells no one: set url, command or both")
        return self
