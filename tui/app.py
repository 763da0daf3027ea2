"""The operator's dashboard. The first screen is the whole picture: a health line, the sources, the
pending holds and the recent events; the full lists (all events, dead letters, exclusions and errors)
are one key away, and `?` lists every key.

The app owns what the views do not: the read-only store (`DashboardStore`, used only from thread
workers), the optional write actions (`DashboardActions`, `None` in attach mode; see
`operator_actions`) and the clock. Refreshes are coalesced: a refresh asked for while one runs is merged
into one more run after it, so a burst of requests never queues a burst of reads.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import ContentSwitcher, DataTable, Footer, Label, Static
from textual.worker import Worker, WorkerState

from shopify_bridge.store.sql import safe_url
from shopify_bridge.timeutil import system_clock
from tui.actions import DashboardActions
from tui.commands import DashboardCommands
from tui.confirm import ConfirmScreen
from tui.data import DashboardStore
from tui.dead_panel import DeadLettersTable
from tui.event_detail import EventDetailScreen
from tui.events_panel import EventsPanel, EventsTable
from tui.fit_table import FitTable
from tui.format import redact
from tui.health_bar import HealthBar
from tui.help_screen import HelpScreen
from tui.holds_panel import HoldsTable
from tui.messages import (
    EventDetailLoaded,
    EventDetailRequested,
    EventFilterChanged,
    OrderDetailLoaded,
    OrderDetailRequested,
    SnapshotLoaded,
    SourceDetailRequested,
)
from tui.models import ErrorRow, EventFilter, Snapshot
from tui.operator_actions import READ_ONLY_NOTICE, OperatorActions
from tui.order_detail import OrderDetailScreen
from tui.problems_panel import ExclusionsTable, ProblemsPanel
from tui.source_detail import SourceDetailScreen
from tui.sources_panel import SourcesTable
from tui.table_sync import update_label_text
from tui.writer_status import WriterStatus, pid_running, writer_status

__all__ = ["READ_ONLY_NOTICE", "DashboardApp"]
MAX_DASHBOARD_ERRORS = 20
VIEWS = ("overview", "events", "dead", "problems")


class DashboardApp(OperatorActions):
    CSS_PATH = "dashboard.tcss"
    TITLE = "shopify-bridge"
    COMMANDS: ClassVar = OperatorActions.COMMANDS | {DashboardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_view('overview')", "Overview"),
        Binding("2", "show_view('events')", "Events"),
        Binding("3", "show_view('dead')", "Dead"),
        Binding("4", "show_view('problems')", "Problems"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        db_path: Path | str,
        actions: DashboardActions | None = None,
        clock: Callable[[], datetime] = system_clock,
        refresh_seconds: float = 1.0,
        *,
        events_page: int = 200,
        running: Callable[[int], bool] = pid_running,
    ) -> None:
        super().__init__()
        self.store = DashboardStore(db_path)
        self.actions = actions
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.events_page = events_page
        self.running = running  # is this pid alive (attach mode's writer check); injected in tests
        self.snapshot: Snapshot | None = None
        self.writer: WriterStatus | None = None
        self.refresh_count = 0  # snapshots applied; tests and the bench read it
        self.notices: list[str] = []  # everything told to the operator, newest last
        self.dashboard_errors: list[ErrorRow] = []
        self._event_filter = EventFilter()
        self._refresh_running = False
        self._refresh_again = False
        self._last_shown: dict[str, object] = {}
        self._on_screen = False

    def compose(self) -> ComposeResult:
        yield HealthBar(id="health")
        if self.read_only:
            yield Static(READ_ONLY_NOTICE, id="read-only-banner", markup=False)
        with ContentSwitcher(initial="overview", id="views"):
            with Vertical(id="overview"):
                yield Label("Sources", id="sources-title", classes="section-title")
                yield SourcesTable(id="sources-table")
                yield Label("Pending holds", id="holds-title", classes="section-title")
                yield HoldsTable(id="holds-table")
                yield Label("Recent events", id="recent-title", classes="section-title")
                yield EventsTable(id="recent-table")
            yield EventsPanel(id="events")
            with Vertical(id="dead"):
                yield Label("Dead letters", id="dead-title", classes="section-title")
                yield DeadLettersTable(id="dead-table")
            yield ProblemsPanel(id="problems")
        # The palette (ctrl+p) is in the help screen: at 80 columns the footer keeps its room for the keys.
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        # Everything built so far (Textual, the widgets, the core) lives as long as the app: moving it
        # out of the collector's reach keeps full collections from adding 30-60 ms spikes to refresh ticks.
        gc.freeze()
        where = self.store.db_path
        name = where.name if isinstance(where, Path) else safe_url(where)
        self.sub_title = f"{name}{' (attached, read-only)' if self.read_only else ''}"
        self.request_refresh()
        self.set_interval(self.refresh_seconds, self.request_refresh, name="refresh")
        self.set_interval(1.0, self._tick_countdowns, name="countdowns")
        self.call_after_refresh(self._focus_view)
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
        # Attached, the writer is another process: is it still there? (Beside the bridge, it is us.)
        writer = (
            writer_status(self.store.db_path, snapshot.heartbeat, now, running=self.running) if self.read_only else None
        )
        self.post_message(SnapshotLoaded(snapshot, writer))

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        try:
            self._show_snapshot(message)
        except NoMatches:
            if not self._widgets_gone():
                raise  # the dashboard is up: a view lost a widget, which is a bug to see

    def _show_snapshot(self, message: SnapshotLoaded) -> None:
        snapshot, now = message.snapshot, self.clock()
        self.snapshot, self.writer = snapshot, message.writer
        names = {s.shop: s.name for s in snapshot.sources}
        self.query_one(HealthBar).show(snapshot, message.writer, now)
        self.screen.set_class(message.writer is not None and message.writer.stale, "-stale")
        self.query_one(SourcesTable).show_sources(snapshot.sources, now)  # ages move every tick; a few rows
        # The big tables are re-rendered only when what they show changed: a quiet tick costs
        # one tuple comparison each. Countdowns move on their own ticker.
        if self._changed("holds", (snapshot.holds, names)):
            self.query_one(HoldsTable).show_holds(snapshot.holds, names, now)
        if self._changed("recent", (snapshot.recent_events, names, now.date())):
            self.query_one("#recent-table", EventsTable).show_events(snapshot.recent_events, names, now)
        self._show_current_view(snapshot, names, now)
        self._titles(snapshot)
        self.refresh_count += 1

    def _show_current_view(self, snapshot: Snapshot, names: dict[str, str], now: datetime) -> None:
        """The full lists are brought up to date only while on screen (and when switched to)."""
        current = self.query_one(ContentSwitcher).current
        if current == "events" and snapshot.event_filter == self._event_filter and self._changed(
            "events", (snapshot.events, names, snapshot.event_filter, now.date())
        ):  # a page read for an older filter must not overwrite the new one
            self.query_one(EventsPanel).show(snapshot.events, tuple(names.items()), now)
        if current == "dead" and self._changed("dead", (snapshot.dead_letters, now.date())):
            self.query_one(DeadLettersTable).show_dead(snapshot.dead_letters, now)
        if current == "problems":
            self._show_problems(snapshot, names, now)

    def _titles(self, snapshot: Snapshot) -> None:
        shown = len(snapshot.holds)
        holds = f"Pending holds ({snapshot.holds_total})" if snapshot.holds_total else "Pending holds: none"
        if shown < snapshot.holds_total:
            holds += f", the {shown:,} soonest shown"
        update_label_text(self.query_one("#holds-title", Label), holds)
        update_label_text(self.query_one("#sources-title", Label), f"Sources ({len(snapshot.sources)})")
        recent = "Recent events, newest first" if snapshot.recent_events else "Recent events: none yet"
        update_label_text(self.query_one("#recent-title", Label), recent)
        update_label_text(self.query_one("#dead-title", Label), f"Dead letters ({snapshot.dead:,})")

    def _changed(self, view: str, shown: object) -> bool:
        if self._last_shown.get(view) == shown:
            return False
        self._last_shown[view] = shown
        return True

    def _show_problems(self, snapshot: Snapshot, names: dict[str, str], now: datetime) -> None:
        mine = tuple(reversed(self.dashboard_errors))
        if self._changed("problems", (snapshot.exclusions, snapshot.errors, mine, names, now.date())):
            self.query_one(ProblemsPanel).show(snapshot.exclusions, snapshot.errors, mine, names, now)

    def _tick_countdowns(self) -> None:
        if not self._widgets_gone() and self.query_one(ContentSwitcher).current == "overview":
            self.query_one(HoldsTable).tick(self.clock())

    def _widgets_gone(self) -> bool:
        """The app is shutting down and its widgets are being removed, yet a timer tick or a refresh read
        before may still land: it then has nothing to show."""
        return not self.query(HealthBar) or not self.query(HoldsTable)

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
        detail = self.store.order_detail(shop, order_id)
        explanation = self.store.explain(shop, order_id) if detail is not None else None
        self.post_message(OrderDetailLoaded(detail, shop, order_id, explanation))

    def on_order_detail_loaded(self, message: OrderDetailLoaded) -> None:
        if message.detail is None:
            self.tell(f"Order {message.order_id} is no longer in the store", severity="warning")
            return
        self.push_screen(
            OrderDetailScreen(message.detail, self.clock(), read_only=self.read_only, explanation=message.explanation)
        )

    def on_source_detail_requested(self, message: SourceDetailRequested) -> None:
        self.push_screen(SourceDetailScreen(message.source, self.clock(), read_only=self.read_only))

    # -- app actions: keys and command palette share them ---------------------------------------

    def action_refresh(self) -> None:
        self.request_refresh()

    def action_show_view(self, view: str) -> None:
        self.query_one(ContentSwitcher).current = view
        if self.snapshot is not None:
            self._show_current_view(self.snapshot, {s.shop: s.name for s in self.snapshot.sources}, self.clock())
        self._focus_view()

    def _focus_view(self) -> None:
        # The keys of a list (details, release, replay) live on its table: focus goes inside the view.
        current = self.query_one(ContentSwitcher).visible_content
        if current is not None:
            tables = current.query(DataTable)
            if tables and not any(table.has_focus for table in tables):
                tables.first().focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_sections()))

    def help_sections(self) -> list[tuple[str, list[BindingType]]]:
        return [
            ("Everywhere", [*self.BINDINGS, Binding("tab", "", "Next list"), Binding("ctrl+p", "", "Commands")]),
            ("Sources", SourcesTable.BINDINGS),
            ("Holds", HoldsTable.BINDINGS),
            ("Events (recent and all)", [*EventsTable.BINDINGS, *EventsPanel.BINDINGS]),
            ("Dead letters", DeadLettersTable.BINDINGS),
            ("Exclusions", ExclusionsTable.BINDINGS),
            ("Order detail", OrderDetailScreen.BINDINGS),
            ("Event detail", EventDetailScreen.BINDINGS),
            ("Source detail", SourceDetailScreen.BINDINGS),
            ("Confirmation", ConfirmScreen.BINDINGS),
        ]

    def _run_on(self, table_type: type[FitTable], view: str, action: str) -> None:
        self.action_show_view(view)
        table = self.query_one(table_type)
        table.focus()
        getattr(table, f"action_{action}")()

    def action_release_selected(self) -> None:
        self._run_on(HoldsTable, "overview", "release")

    def action_hold_details(self) -> None:
        self._run_on(HoldsTable, "overview", "details")

    def action_pause_selected(self) -> None:
        self._run_on(SourcesTable, "overview", "pause")

    def action_source_details(self) -> None:
        self._run_on(SourcesTable, "overview", "details")

    def action_replay_selected(self) -> None:
        self.action_show_view("events")
        self.query_one(EventsPanel).table.action_replay()

    def action_event_details(self) -> None:
        self.action_show_view("events")
        self.query_one(EventsPanel).table.action_details()

    def action_replay_dead_selected(self) -> None:
        self._run_on(DeadLettersTable, "dead", "replay")

    def action_focus_event_filters(self) -> None:
        self.action_show_view("events")
        self.query_one(EventsPanel).action_focus_filters()

    def action_clear_event_filters(self) -> None:
        self.query_one(EventsPanel).clear_filters()
