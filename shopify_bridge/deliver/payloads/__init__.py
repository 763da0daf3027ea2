"""Pure payload mappings of the GA4, Meta Conversions API and Segment destinations.

Each builder takes a stored event envelope (the exact Placed Order / Received Refund JSON), the
destination's config entry and, where needed, the clock and facts of the order the envelope lacks,
and returns a `DestinationRequest` (method, URL, headers, JSON body) or a `Skip` with the reason a
sender records. Nothing here does I/O: no HTTP client, no database, no terminal (a test checks the
imports). `filtered_by` is the per-destination filter decision, `redacted` the form `explain` shows.
The mapping tables are in docs/destinations/.
"""

from shopify_bridge.deliver.payloads.dispatch import PAYLOAD_TYPES, build_request
from shopify_bridge.deliver.payloads.event import EventView, OrderFacts, PayloadError
from shopify_bridge.deliver.payloads.filters import FilterKey, filtered_by
from shopify_bridge.deliver.payloads.ga4 import build_ga4_request
from shopify_bridge.deliver.payloads.meta_capi import build_meta_capi_request
from shopify_bridge.deliver.payloads.request import (
    NO_USER_DATA,
    TOO_OLD_FOR_DESTINATION,
    UNSUPPORTED_EVENT,
    DestinationRequest,
    PayloadResult,
    Skip,
    redacted,
)
from shopify_bridge.deliver.payloads.segment import build_segment_request

__all__ = [
    "NO_USER_DATA",
    "PAYLOAD_TYPES",
    "TOO_OLD_FOR_DESTINATION",
    "UNSUPPORTED_EVENT",
    "DestinationRequest",
    "EventView",
    "FilterKey",
    "OrderFacts",
    "PayloadError",
    "PayloadResult",
    "Skip",
    "build_ga4_request",
    "build_meta_capi_request",
    "build_request",
    "build_segment_request",
    "filtered_by",
    "redacted",
]
