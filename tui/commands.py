"""Command palette entries: every dashboard action can be found by name (ctrl+p)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, help, app action). The actions live on the app so keys and palette run the same code.
DASHBOARD_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Release selected hold now", "Forward the highlighted held order without waiting", "release_selected"),
    ("Show hold details", "Items and versions of the highlighted held order", "hold_details"),
    ("Replay selected event", "Re-send the highlighted event to all its destinations", "replay_selected"),
    ("Show event details", "Exact payload and delivery attempts of the highlighted event", "event_details"),
    ("Filter events", "Focus the events filter bar", "focus_event_filters"),
    ("Clear event filters", "Show all events again, newest first", "clear_event_filters"),
    ("Refresh now", "Read the store again", "refresh"),
    ("Go to sources", "Stores, poll state, rate-limit bucket", "show_tab('sources')"),
    ("Go to holds", "Orders waiting out the upsell window", "show_tab('holds')"),
    ("Go to events", "Forwarded events and delivery state", "show_tab('events')"),
    ("Go to exclusions and errors", "Excluded orders and recent errors", "show_tab('problems')"),
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
                yield Hit(
                    score, matcher.highlight(title), partial(self._run, action), text=title, help=help_text
                )
