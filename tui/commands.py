"""Command palette entries: every dashboard action can be found by name (ctrl+p)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, app action). The actions live on the app so keys and palette run the same code.
DASHBOARD_COMMANDS: tuple[tuple[str, str, str], ...] = (
    (
        "Release selected hold now",
        "Forward the highlighted held order without waiting (asks first)",
        "release_selected",
    ),
    ("Show hold details", "What explain shows: items, versions, events of the highlighted hold", "hold_details"),
    (
        "Pause or resume selected source",
        "Stop polling the highlighted source, or start again (asks first)",
        "pause_selected",
    ),
    ("Show source details", "The whole state and reason of the highlighted source", "source_details"),
    ("Replay selected event", "Re-send the highlighted event to all its destinations (asks first)", "replay_selected"),
    ("Show event details", "Exact payload and delivery attempts of the highlighted event", "event_details"),
    ("Replay selected dead letter", "Re-send the highlighted dead delivery (asks first)", "replay_dead_selected"),
    ("Filter events", "Focus the events filter bar", "focus_event_filters"),
    ("Clear event filters", "Show all events again, newest first", "clear_event_filters"),
    ("Refresh now", "Read the store again", "refresh"),
    ("Go to overview", "Health, sources, pending holds, recent events", "show_view('overview')"),
    ("Go to all events", "Every forwarded event, with filters and paging", "show_view('events')"),
    ("Go to dead letters", "Deliveries that gave up, with the destination's last answer", "show_view('dead')"),
    ("Go to exclusions and errors", "Excluded orders and recent errors", "show_view('problems')"),
    ("Show keys", "Every key of the dashboard", "help"),
)


class DashboardCommands(Provider):
    async def _run(self, action: str) -> None:
        await self.app.run_action(action)

    async def discover(self) -> Hits:
        for title, help_text, action in DASHBOARD_COMMANDS:
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in DASHBOARD_COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), text=title, help=help_text)
