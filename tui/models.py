"""The rows the widgets get: the store's dashboard rows (`shopify_bridge.store.dashboard_rows`).

The store defines them, since its dashboard reads build them; the TUI names them from here.
"""

from shopify_bridge.store.dashboard_rows import (
    DELIVERY_STATES,
    EVENT_NAMES,
    Delivery,
    ErrorRow,
    EventDetail,
    EventFilter,
    EventRow,
    ExclusionRow,
    HoldRow,
    LineItem,
    OrderDetail,
    OrderVersion,
    Snapshot,
    SourceRow,
)

__all__ = [
    "DELIVERY_STATES",
    "EVENT_NAMES",
    "Delivery",
    "ErrorRow",
    "EventDetail",
    "EventFilter",
    "EventRow",
    "ExclusionRow",
    "HoldRow",
    "LineItem",
    "OrderDetail",
    "OrderVersion",
    "Snapshot",
    "SourceRow",
]
