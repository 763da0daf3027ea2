"""The operator's dashboard: sources, upsell holds, forwarded events, exclusions and errors.

The app owns three things the panels do not: the read-only store (`DashboardStore`, used only
from thread workers), the optional write actions (`DashboardActions`, `None` in attach mode) and
the clock. Refreshes are coalesced: a refresh asked for while one runs is merged into one more
run after it, so a burst of requests never queues a burst of reads.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from shopify_bridge.timeutil import system_clock
from tui.actions import DashboardActions
from tui.commands import DashboardCommands
from tui.data import DashboardStore
from tui.event_detail import EventDetailScreen
from tui.events_panel import EventsPanel
from tui.format import redact
from tui.holds_panel import HoldsPanel
from tui.messages import (
    EventDetailLoaded,
    EventDetailRequested,
    EventFilterChanged,
    OrderDetailLoaded,
    OrderDetailRequested,
    ReleaseRequested,
    ReplayRequested,
    SnapshotLoaded,
)
from tui.models import ErrorRow, EventFilter, Snapshot
from tui.order_detail import OrderDetailScreen
from tui.problems_panel import ProblemsPanel
from tui.sources_panel import SourcesPanel
from tui.table_sync import update_label

READ_ONLY_NOTICE = "Read-only (attached): release and replay are disabled."
MAX_DASHBOARD_ERRORS = 20


class DashboardApp(App[None]):
    CSS_PATH = "dashboard.tcss"
    TITLE = "shopify-bridge"
    COMMANDS: ClassVar = App.COMMANDS | {DashboardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("r", "refresh", "Refresh"),
        Binding("1", "show_tab('sources')", "Sources", show=False),
        Binding("2", "show_tab('holds')", "Holds", show=False),
        Binding("3", "show_tab('events')", "Events", show=False),
        Binding("4", "show_tab('problems')", "Problems", show=False),
    ]

    def __init__(
        self,
        db_path: Path | str,
        actions: DashboardActions | None = None,
        clock: Callable[[], datetime] = system_clock,
        refresh_seconds: float = 1.0,
        *,
        events_page: int = 200,
    ) -> None:
        super().__init__()
        self.store = DashboardStore(db_path)
        self.actions = actions
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.events_page = events_page
        self.snapshot: Snapshot | None = None
        self.refresh_count = 0  # snapshots applied; tests and the bench read it
        self.notices: list[str] = []  # everything told to the operator, newest last
        self.dashboard_errors: list[ErrorRow] = []
        self._event_filter = EventFilter()
        self._refresh_running = False
        self._refresh_again = False
        self._last_shown: dict[str, object] = {}
        self._on_screen = False

    @property
    def read_only(self) -> bool:
        return self.actions is None

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        if self.read_only:
            yield Static(READ_ONLY_NOTICE, id="read-only-banner")
        with TabbedContent(initial="sources", id="tabs"):
            with TabPane("Sources", id="sources"):
                yield SourcesPanel(id="sources-panel")
            with TabPane("Holds", id="holds"):
                yield HoldsPanel(read_only=self.read_only, id="holds-panel")
            with TabPane("Events", id="events"):
                yield EventsPanel(read_only=self.read_only, id="events-panel")
            with TabPane("Exclusions & errors", id="problems"):
                yield ProblemsPanel(id="problems-panel")
        yield Footer()

    def on_mount(self) -> None:
        # Everything built so far (Textual, the widgets, the core) lives as long as the app: moving it
        # out of the collector's reach keeps full collections from adding 30-60 ms spikes to refresh ticks.
        gc.freeze()
        self.sub_title = f"{self.store.db_path.name}{' (attached, read-only)' if self.read_only else ''}"
        self.request_refresh()
        self.set_interval(self.refresh_seconds, self.request_refresh, name="refresh")
        self.set_interval(1.0, self._tick_countdowns, name="countdowns")
        self.call_after_refresh(self._focus_active_table)
        self._on_screen = True
        for error in self.dashboard_errors:
            self._show_dashboard_error(error.message)

    def on_unmount(self) -> None:
        self.store.close()

    # -- refresh: coalesced, on a thread worker -----------------------------------------------

    def request_refresh(self) -> None:
        if self._refresh_running:
            self._refresh_again = True
            return
        self._refresh_running = True
        self._load_snapshot(self.clock(), self._event_filter)

    @work(thread=True, exclusive=True, exit_on_error=False, group="refresh", name="refresh")
    def _load_snapshot(self, now: datetime, event_filter: EventFilter) -> None:
        snapshot = self.store.snapshot(now, event_filter, events_limit=self.events_page)
        self.post_message(SnapshotLoaded(snapshot))

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        snapshot = message.snapshot
        self.snapshot = snapshot
        now = self.clock()
        names = {s.shop: s.name for s in snapshot.sources}
        self.query_one(SourcesPanel).show(snapshot.sources, now)  # ages move every tick; a few rows
        # The big tables are re-rendered only when what they show changed: a quiet tick costs
        # one tuple comparison each. Countdowns move on their own ticker.
        if self._changed("holds", (snapshot.holds, names)):
            self.query_one(HoldsPanel).show(snapshot.holds, names, now)
        if snapshot.event_filter == self._event_filter and self._changed(
            "events", (snapshot.events, names, snapshot.event_filter, now.date())
        ):  # a page read for an older filter must not overwrite the new one
            self.query_one(EventsPanel).show(snapshot.events, tuple(names.items()), now)
        self._show_problems(snapshot, names, now)
        tabs = self.query_one(TabbedContent)
        update_label(tabs.get_tab("holds"), f"Holds ({len(snapshot.holds)})" if snapshot.holds else "Holds")
        problems = len(snapshot.errors) + len(self.dashboard_errors)
        update_label(
            tabs.get_tab("problems"),
            f"Exclusions & errors ({problems})" if problems else "Exclusions & errors",
        )
        self.refresh_count += 1

    def _changed(self, panel: str, shown: object) -> bool:
        if self._last_shown.get(panel) == shown:
            return False
        self._last_shown[panel] = shown
        return True

    def _show_problems(self, snapshot: Snapshot, names: dict[str, str], now: datetime) -> None:
        mine = tuple(reversed(self.dashboard_errors))
        if self._changed("problems", (snapshot.exclusions, snapshot.errors, mine, names, now.date())):
            self.query_one(ProblemsPanel).show(snapshot.exclusions, snapshot.errors, mine, names, now)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._focus_active_table()
        self._tick_countdowns()

    def _focus_active_table(self) -> None:
        # The panel's keys (release, replay, details) live on the panel: focus goes inside it.
        pane = self.query_one(TabbedContent).active_pane
        if pane is not None:
            tables = pane.query(DataTable)
            if tables:
                tables.first().focus()

    def _tick_countdowns(self) -> None:
        if self.query_one(TabbedContent).active == "holds":
            self.query_one(HoldsPanel).tick(self.clock())

    # -- the one error handler ------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "refresh" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._refresh_running = False
            if self._refresh_again:
                self._refresh_again = False
                self.request_refresh()
        if event.state == WorkerState.ERROR:
            self.report_error(worker.name or worker.group, worker.error)

    def report_error(self, where: str, error: BaseException | None) -> None:
        message = redact(f"{where}: {error}" if error is not None else where)
        self.dashboard_errors.append(ErrorRow(at=self.clock(), shop=None, kind="dashboard", message=message))
        del self.dashboard_errors[:-MAX_DASHBOARD_ERRORS]
        if self._on_screen:  # before that (a bridge failing at start), on_mount shows them
            self._show_dashboard_error(message)

    def _show_dashboard_error(self, message: str) -> None:
        self.tell(message, severity="error")
        # Shown at once, even before the first snapshot: it may be why there is none.
        snapshot = self.snapshot or Snapshot((), (), (), (), ())
        self._show_problems(snapshot, {s.shop: s.name for s in snapshot.sources}, self.clock())

    def tell(self, message: str, severity: str = "information") -> None:
        self.notices.append(message)
        self.notify(message, severity=severity)  # type: ignore[arg-type]

    # -- filters and details --------------------------------------------------------------------

    def on_event_filter_changed(self, message: EventFilterChanged) -> None:
        self._event_filter = message.event_filter
        self.request_refresh()

    def on_event_detail_requested(self, message: EventDetailRequested) -> None:
        self._load_event_detail(message.event_seq)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail", name="event detail")
    def _load_event_detail(self, seq: int) -> None:
        self.post_message(EventDetailLoaded(self.store.event_detail(seq), seq))

    def on_event_detail_loaded(self, message: EventDetailLoaded) -> None:
        if message.detail is None:
            self.tell(f"Event #{message.seq} is no longer in the store", severity="warning")
            return
        self.push_screen(EventDetailScreen(message.detail, read_only=self.read_only))

    def on_order_detail_requested(self, message: OrderDetailRequested) -> None:
        self._load_order_detail(message.shop, message.order_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail", name="order detail")
    def _load_order_detail(self, shop: str, order_id: str) -> None:
        self.post_message(OrderDetailLoaded(self.store.order_detail(shop, order_id), shop, order_id))

    def on_order_detail_loaded(self, message: OrderDetailLoaded) -> None:
        if message.detail is None:
            self.tell(f"Order {message.order_id} is no longer in the store", severity="warning")
            return
        self.push_screen(OrderDetailScreen(message.detail, self.clock(), read_only=self.read_only))

    # -- write actions, through the injected interface ------------------------------------------

    def on_release_requested(self, message: ReleaseRequested) -> None:
        if self.actions is None:
            self.tell(READ_ONLY_NOTICE, severity="warning")
            return
        self._release(self.actions, message.shop, message.order_id, message.name)

    @work(exit_on_error=False, group="actions", name="release now")
    async def _release(self, actions: DashboardActions, shop: str, order_id: str, name: str) -> None:
        await actions.release_now(shop, order_id)
        self.tell(f"Release requested for {name}")
        self.request_refresh()

    def on_replay_requested(self, message: ReplayRequested) -> None:
        if self.actions is None:
            self.tell(READ_ONLY_NOTICE, severity="warning")
            return
        if not message.destinations:
            self.tell(f"{message.label} has no destination to replay to", severity="warning")
            return
        self._replay(self.actions, message.event_seq, message.destinations, message.label)

    @work(exit_on_error=False, group="actions", name="replay")
    async def _replay(self, actions: DashboardActions, seq: int, destinations: tuple[str, ...], label: str) -> None:
        for destination in destinations:
            await actions.replay(seq, destination)
        self.tell(f"Replay queued for {label} → {', '.join(destinations)}")
        self.request_refresh()

    # -- app actions: keys and command palette share them ---------------------------------------

    def action_refresh(self) -> None:
        self.request_refresh()

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self._focus_active_table()

    def action_release_selected(self) -> None:
        self.action_show_tab("holds")
        self.query_one(HoldsPanel).action_release()

    def action_hold_details(self) -> None:
        self.action_show_tab("holds")
        self.query_one(HoldsPanel).action_details()

    def action_replay_selected(self) -> None:
        self.action_show_tab("events")
        self.query_one(EventsPanel).action_replay()

    def action_event_details(self) -> None:
        self.action_show_tab("events")
        self.query_one(EventsPanel).action_details()

    def action_focus_event_filters(self) -> None:
        self.action_show_tab("events")
        self.query_one(EventsPanel).action_focus_filters()

    def action_clear_event_filters(self) -> None:
        self.query_one(EventsPanel).clear_filters()
