"""One entry point for a sender: the payload of an event for any destination with a built mapping.

A thin sender holds a destination's config entry, a stored envelope, the clock and the order's facts;
`build_request` picks the builder by the entry's `type` and passes each what it takes (Segment has no
age limit, so it ignores `now`; only GA4 reads the order's facts today).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, cast

from shopify_bridge.deliver.payloads.event import OrderFacts
from shopify_bridge.deliver.payloads.ga4 import Ga4Settings, build_ga4_request
from shopify_bridge.deliver.payloads.meta_capi import MetaCapiSettings, build_meta_capi_request
from shopify_bridge.deliver.payloads.request import PayloadResult
from shopify_bridge.deliver.payloads.segment import SegmentSettings, build_segment_request

PAYLOAD_TYPES = ("ga4", "meta_capi", "segment")


class TypedSettings(Protocol):
    @property
    def type(self) -> str: ...


def build_request(
    settings: TypedSettings, envelope: Mapping[str, Any], *, now: datetime, order: OrderFacts | None = None
) -> PayloadResult:
    """The request (or skip) for `envelope` at the destination `settings` describes."""
    # `type` chose the config model (a discriminated union), so the cast below only names its keys.
    kind = settings.type
    if kind == "ga4":
        return build_ga4_request(envelope, cast(Ga4Settings, settings), now=now, order=order)
    if kind == "meta_capi":
        return build_meta_capi_request(envelope, cast(MetaCapiSettings, settings), now=now)
    if kind == "segment":
        return build_segment_request(envelope, cast(SegmentSettings, settings))
    raise ValueError(f"no payload mapping for destination type {kind!r}; built: {', '.join(PAYLOAD_TYPES)}")
