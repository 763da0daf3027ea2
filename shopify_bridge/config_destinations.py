"""The `[[destinations]]` tables: a JSONL file or an HTTP endpoint, told apart by `type`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, field_validator

from shopify_bridge.config_base import Section, path_given, resolved_path
from shopify_bridge.config_values import checked_header_name, checked_header_value, checked_http_url


def _checked_secret_header_value(value: SecretStr) -> SecretStr:
    checked_header_value(value.get_secret_value())
    return value


# Validated per entry, so an error names the header: `destinations[1].headers.X-Token`.
HeaderName = Annotated[str, AfterValidator(checked_header_name)]
HeaderValue = Annotated[SecretStr, AfterValidator(_checked_secret_header_value)]


class JsonlDestination(Section):
    """Appends one event JSON object per line to a file, flushed and fsynced per batch."""

    name: str = Field(min_length=1)
    """Unique destination name (sources refer to it in `destinations`)."""

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


class HttpDestination(Section):
    """POSTs each event envelope as JSON, retrying 408/429/5xx/network errors with backoff."""

    name: str = Field(min_length=1)
    """Unique destination name (sources refer to it in `destinations`)."""

    type: Literal["http"]
    """Always "http" for this kind of destination."""

    url: str
    """Where the events are POSTed (http:// or https://)."""

    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    """Extra request headers; their values are secrets (e.g. a webhook token from "${VAR}")."""

    signing_secret: SecretStr | None = None
    """Standard Webhooks signing secret ("whsec_<base64>" or any text); the webhook-id is the event_id."""

    timeout_seconds: float = Field(default=10, gt=0)
    """Timeout of one request."""

    max_attempts: int = Field(default=12, ge=1)
    """Attempts before an event goes dead for this destination."""

    max_age_hours: float = Field(default=72, gt=0)
    """Age after which an undelivered event goes dead for this destination."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return checked_http_url(value)

    @field_validator("signing_secret")
    @classmethod
    def _signing_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from shopify_bridge.destinations.signing import SigningSecretError, signing_key

            try:
                signing_key(value.get_secret_value())
            except SigningSecretError as exc:
                raise ValueError(str(exc).removeprefix("signing_secret ")) from None
        return value


Destination = Annotated[JsonlDestination | HttpDestination, Field(discriminator="type")]
