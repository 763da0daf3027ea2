"""The operator's write actions — release a hold now, replay, pause or resume a source — each asked
for in a confirmation first and carried out through the injected `DashboardActions`.

Attached (`tui --attach`, no actions) they are refused with the reason, and the keys are shown greyed
out in the footer. A failing action is reported in the errors view and a notice, never raised.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual import work
from textual.app import App

from shopify_bridge.store.dashboard_rows import ErrorRow
from tui.actions import DashboardActions
from tui.confirm import ConfirmScreen
from tui.messages import PauseRequested, ReleaseRequested, ReplayRequested
from tui.text import joined, literal

READ_ONLY_NOTICE = "Read-only (attached): release, replay and pause need the writing bridge."
WRITE_ACTIONS = frozenset({"release", "replay", "pause"})

Act = Callable[[DashboardActions], Awaitable[None]]


class OperatorActions(App[None]):
    """The part of the dashboard app that changes things; the app owns the store, the clock, the views."""

    actions: DashboardActions | None
    notices: list[str]
    dashboard_errors: list[ErrorRow]

    @property
    def read_only(self) -> bool:
        return self.actions is None

    def tell(self, message: str, severity: str = "information") -> None:
        message = literal(message).plain  # names in it come from outside: no markup, controls written out
        self.notices.append(message)
        self.notify(message, severity=severity, markup=False)  # type: ignore[arg-type]

    def request_refresh(self) -> None:
        raise NotImplementedError

    def _ask_then(self, question: Text, act: Act, done: str) -> None:
        """Confirm `question`; on yes run `act` on the actions, then tell `done` and read the store again."""
        actions = self.actions
        if actions is None:
            self.tell(READ_ONLY_NOTICE, severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._act(actions, act, done)

        self.push_screen(ConfirmScreen(question), answered)

    @work(exit_on_error=False, group="actions", name="action")
    async def _act(self, actions: DashboardActions, act: Act, done: str) -> None:
        await act(actions)
        self.tell(done)
        self.request_refresh()

    def on_release_requested(self, message: ReleaseRequested) -> None:
        shop, order_id = message.shop, message.order_id
        self._ask_then(
            joined("Release", literal(message.name, "bold"), "now, without waiting for the upsell window?"),
            lambda actions: actions.release_now(shop, order_id),
            f"Release requested for {message.name}",
        )

    def on_replay_requested(self, message: ReplayRequested) -> None:
        if self.actions is not None and not message.destinations:
            self.tell(f"{message.label} has no destination to replay to", severity="warning")
            return
        seq, destinations = message.event_seq, message.destinations

        async def replay(actions: DashboardActions) -> None:
            for destination in destinations:
                await actions.replay(seq, destination)

        self._ask_then(
            joined("Send", literal(message.label, "bold"), "again to", literal(", ".join(destinations)), "?"),
            replay,
            f"Replay queued for {message.label} → {', '.join(destinations)}",
        )

    def on_pause_requested(self, message: PauseRequested) -> None:
        shop, pause = message.shop, message.pause
        verb = "Pause" if pause else "Resume"
        question = joined(verb, literal(message.name, "bold"), "?")
        question.append(" (no poll and no hold release until resumed)" if pause else " (polls again at once)")
        self._ask_then(
            question,
            lambda actions: actions.set_source_paused(shop, pause),
            f"{'Paused' if pause else 'Resumed'} {message.name}",
        )
