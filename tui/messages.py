"""Messages between the dashboard's workers, panels and the app.

Panels never call the store or the actions themselves: they post one of these and the app,
which owns the store, the actions and the workers, answers.
"""

from __future__ import annotations

from textual.message import Message

from shopify_bridge.service.explain import Explanation
from tui.models import EventDetail, EventFilter, OrderDetail, Snapshot, SourceRow
from tui.writer_status import WriterStatus


class SnapshotLoaded(Message):
    """A refresh worker finished reading the store (and, attached, looked at the writer)."""

    def __init__(self, snapshot: Snapshot, writer: WriterStatus | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.writer = writer


class EventDetailLoaded(Message):
    def __init__(self, detail: EventDetail | None, seq: int) -> None:
        super().__init__()
        self.detail = detail
        self.seq = seq


class OrderDetailLoaded(Message):
    def __init__(
        self, detail: OrderDetail | None, shop: str, order_id: str, explanation: Explanation | None = None
    ) -> None:
        super().__init__()
        self.detail = detail
        self.explanation = explanation
        self.shop = shop
        self.order_id = order_id


class EventFilterChanged(Message):
    """The events panel's filter bar changed; the app re-reads with the new filter."""

    def __init__(self, event_filter: EventFilter) -> None:
        super().__init__()
        self.event_filter = event_filter


class ReleaseRequested(Message):
    def __init__(self, shop: str, order_id: str, name: str) -> None:
        super().__init__()
        self.shop = shop
        self.order_id = order_id
        self.name = name


class ReplayRequested(Message):
    def __init__(self, event_seq: int, destinations: tuple[str, ...], label: str) -> None:
        super().__init__()
        self.event_seq = event_seq
        self.destinations = destinations
        self.label = label


class EventDetailRequested(Message):
    def __init__(self, event_seq: int) -> None:
        super().__init__()
        self.event_seq = event_seq


class OrderDetailRequested(Message):
    def __init__(self, shop: str, order_id: str) -> None:
        super().__init__()
        self.shop = shop
        self.order_id = order_id


class PauseRequested(Message):
    def __init__(self, shop: str, name: str, *, pause: bool) -> None:
        super().__init__()
        self.shop = shop
        self.name = name
        self.pause = pause


class SourceDetailRequested(Message):
    def __init__(self, source: SourceRow) -> None:
        super().__init__()
        self.source = source
