"""`?` or F1: every key of the dashboard, read from the bindings themselves so the list cannot drift."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEY_NAMES = {"question_mark": "?", "escape": "esc", "enter": "enter"}


def keys_of(bindings: list[BindingType]) -> list[tuple[str, str]]:
    out = []
    for binding in bindings:
        if isinstance(binding, Binding):
            keys = " / ".join(KEY_NAMES.get(key.strip(), key.strip()) for key in binding.key.split(","))
            out.append((keys, binding.description or binding.action))
    return out


def help_table(sections: list[tuple[str, list[BindingType]]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for title, bindings in sections:
        table.add_row(Text(title, style="bold underline"), "")
        for key, description in keys_of(bindings):
            table.add_row(Text(key), Text(description))
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def __init__(self, sections: list[tuple[str, list[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="detail"):
            yield Static(Text("Keys", style="bold"), classes="detail-title")
            yield Static(help_table(self.sections), id="help-keys")
            yield Static(
                Text("ctrl+p opens the command palette: every action by name.", style="dim"), classes="detail-subtitle"
            )
