"""One order in full, as `shopify-bridge explain` tells it: status and decision (held until, excluded by
which rule, released), its items as they stand, every stored version, refunds, and each event with its
deliveries. Every value from Shopify or a destination is shown literally."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from shopify_bridge.service.explain import Explanation, edited_after_release, waiting_note
from shopify_bridge.store.reads_orders import RefundRecord
from shopify_bridge.timeutil import parse_ts
from tui.format import countdown, money, redact, span
from tui.messages import ReleaseRequested
from tui.models import OrderDetail
from tui.table_sync import Cell
from tui.text import joined, literal


def _tags(tags: object) -> str:
    return ", ".join(str(t) for t in tags) if isinstance(tags, list) else str(tags or "")


def decision_line(detail: OrderDetail, explanation: Explanation | None, now: datetime) -> Text:
    order = explanation.order if explanation else None
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(f"status {detail.status}", style="bold")
    if detail.status == "held":
        line.append(" · release in ")
        line.append(countdown(detail.release_at, now))
    if order is not None:
        line.append(" · processed ")
        line.append(literal(order["processed_at"]))
        if order.get("exclusion_rule"):
            line.append(" · excluded by ")
            line.append(literal(order["exclusion_rule"], "bold"))
            line.append(" = ")
            line.append(literal(order.get("exclusion_value")))
        if order.get("released_at"):
            line.append(" · released ")
            line.append(literal(order["released_at"]))
    if len(detail.versions) > 1:
        line.append(f" · edited: {len(detail.versions)} versions", style="magenta")
    note = edited_after_release(explanation) if explanation else None
    if note:
        line.append(f" · {note}", style="yellow")
    return line


def refund_state(refund: RefundRecord, now: datetime) -> Text:
    """A refund's status; while it waits, what for, since when, and when it is read next (`in 4 min`)."""
    next_read = None
    if refund["next_read_at"]:
        seconds = int((parse_ts(refund["next_read_at"]) - now).total_seconds())
        next_read = "due now" if seconds <= 0 else f"in {span(seconds)}"
    note = waiting_note(refund, next_read)
    state = literal(refund["status"])
    if note:
        state.append(f" — {note}", style="yellow")
    return state


class OrderDetailScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("x", "release", "Release now"),
    ]

    def __init__(
        self, detail: OrderDetail, now: datetime, *, read_only: bool, explanation: Explanation | None = None
    ) -> None:
        super().__init__()
        self.detail = detail
        self.explanation = explanation
        self.now = now
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        order = self.detail
        with Vertical(id="order-detail", classes="detail"):
            title = joined(
                literal(order.name, "bold"),
                f" ·  {money(order.total, order.currency)}  · ",
                literal(self.explanation.source_name if self.explanation else order.shop),
                f"· order id {order.order_id}",
            )
            yield Label(title, classes="detail-title")
            yield Label(decision_line(order, self.explanation, self.now), classes="detail-subtitle")
            yield Label("Items (newest version)", classes="section-title")
            yield DataTable[Cell](id="order-items", cursor_type="row")
            yield Label("Versions", classes="section-title")
            yield DataTable[Cell](id="order-versions", cursor_type="row")
            yield Label("Events and refunds", classes="section-title")
            yield DataTable[Cell](id="order-events", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        items = self.query_one("#order-items", DataTable)
        items.add_columns("Item", "Qty", "Unit price")
        for item in self.detail.items:
            items.add_row(
                literal(item.title), Text(str(item.quantity)), Text(money(item.unit_price, self.detail.currency))
            )
        versions = self.query_one("#order-versions", DataTable)
        versions.add_columns("Version", "Updated at", "Fetched at", "Origin", "Total", "Tags")
        explained = {v["version"]: v for v in (self.explanation.versions if self.explanation else [])}
        for version in self.detail.versions:
            more = explained.get(version.version, {})
            versions.add_row(
                Text(str(version.version)),
                literal(version.updated_at),
                literal(version.fetched_at),
                literal(version.origin),
                literal(more.get("total") or "—"),
                literal(_tags(more.get("tags"))),
            )
        self._show_events()
        items.focus()

    def _show_events(self) -> None:
        table = self.query_one("#order-events", DataTable)
        table.add_columns("What", "Id", "Created", "Deliveries")
        if self.explanation is None:
            return
        for event in self.explanation.events:
            deliveries = Text()
            for index, d in enumerate(event["deliveries"]):
                if index:
                    deliveries.append(" · ", style="dim")
                deliveries.append(literal(d["destination"]))
                deliveries.append(f" {d['state']}")
                if d["state"] == "dead" and d["last_error"]:
                    deliveries.append(" (")
                    deliveries.append(literal(redact(d["last_error"]), "red"))
                    deliveries.append(")")
            table.add_row(
                Text(event["event_name"]), literal(event["event_id"]), literal(event["created_at"]), deliveries
            )
        for refund in self.explanation.refunds:
            table.add_row(
                Text("refund"),
                literal(refund["refund_id"]),
                literal(refund["timestamp"] or "—"),
                refund_state(refund, self.now),
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "release" and (self.read_only or self.detail.status != "held"):
            return None
        return True

    def action_release(self) -> None:
        self.post_message(ReleaseRequested(self.detail.shop, self.detail.order_id, self.detail.name))
        self.dismiss()
