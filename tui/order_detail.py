"""One held order in full: its items as they stand now and every version stored since first seen."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from tui.format import countdown, money
from tui.messages import ReleaseRequested
from tui.models import OrderDetail
from tui.table_sync import Cell


class OrderDetailScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close"),
        Binding("x", "release", "Release now"),
    ]

    def __init__(self, detail: OrderDetail, now: datetime, *, read_only: bool) -> None:
        super().__init__()
        self.detail = detail
        self.now = now
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        order = self.detail
        with Vertical(id="order-detail", classes="detail"):
            title = Text(f"{order.name}", style="bold")
            title.append(f"  ·  {money(order.total, order.currency)}  ·  {order.shop}  ·  {order.status}")
            yield Label(title, classes="detail-title")
            release = Text(f"order id {order.order_id} · release ")
            release.append(countdown(order.release_at, self.now) if order.status == "held" else Text("—"))
            if len(order.versions) > 1:
                release.append(f" · edited: {len(order.versions)} versions", style="magenta")
            yield Label(release, classes="detail-subtitle")
            yield Label("Items (newest version)", classes="section-title")
            yield DataTable[Cell](id="order-items", cursor_type="row")
            yield Label("Versions", classes="section-title")
            yield DataTable[Cell](id="order-versions", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        items = self.query_one("#order-items", DataTable)
        items.add_columns("Item", "Qty", "Unit price")
        for item in self.detail.items:
            items.add_row(item.title, str(item.quantity), money(item.unit_price, self.detail.currency))
        versions = self.query_one("#order-versions", DataTable)
        versions.add_columns("Version", "Updated at", "Fetched at", "Origin")
        for version in self.detail.versions:
            versions.add_row(str(version.version), version.updated_at, version.fetched_at, version.origin)
        items.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "release" and (self.read_only or self.detail.status != "held"):
            return None
        return True

    def action_release(self) -> None:
        self.post_message(ReleaseRequested(self.detail.shop, self.detail.order_id, self.detail.name))
        self.dismiss()
