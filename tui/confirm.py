"""Asking before an action that changes what the bridge does: release now, replay, pause or resume."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class ConfirmScreen(ModalScreen[bool]):
    """`question` (safe Text: outside strings in it went through `literal`); y or enter yes, n or escape no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: Text) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm", classes="dialog"):
            yield Label(self.question, id="confirm-question")
            yield Label(Text("y / enter: yes    n / escape: no", style="dim"), id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
