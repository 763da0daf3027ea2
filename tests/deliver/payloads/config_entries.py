"""The destination entries the payload tests use: the real config models, so the builders are proven
against what `check`/`run` will hand them (one place to update when the config modules move)."""

from __future__ import annotations

from typing import Any

from shopify_bridge.config.destinations import (
    Ga4Destination,
    HttpDestination,
    MetaCapiDestination,
    SegmentDestination,
)

GA4_SECRET = "ga4-secret-value"
META_TOKEN = "meta-token-value"
SEGMENT_WRITE_KEY = "seg-write-key"


def ga4(**overrides: Any) -> Ga4Destination:
    fields: dict[str, Any] = {"name": "ga4", "type": "ga4", "measurement_id": "G-TEST123", "api_secret": GA4_SECRET}
    return Ga4Destination.model_validate({**fields, **overrides})


def meta(**overrides: Any) -> MetaCapiDestination:
    fields: dict[str, Any] = {"name": "meta", "type": "meta_capi", "pixel_id": "1234567890", "access_token": META_TOKEN}
    return MetaCapiDestination.model_validate({**fields, **overrides})


def segment(**overrides: Any) -> SegmentDestination:
    fields: dict[str, Any] = {"name": "segment", "type": "segment", "write_key": SEGMENT_WRITE_KEY}
    return SegmentDestination.model_validate({**fields, **overrides})


def http(**overrides: Any) -> HttpDestination:
    fields: dict[str, Any] = {"name": "hook", "type": "http", "url": "https://example.invalid/hook"}
    return HttpDestination.model_validate({**fields, **overrides})
