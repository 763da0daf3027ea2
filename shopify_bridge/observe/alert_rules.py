"""The alert rules, pure: what an alert says, and at most one per kind and source per 15 minutes.

An alert tells a person that something needs them (PRODUCT.md, `[alerts]`): a source failed
(`source_failed`) or polls again (`source_recovered`), deliveries went dead (`dead_letters`), or
`reconcile` found orders that fall through (`reconcile_mismatch`). It travels as the JSON document
`{"kind", "source", "message", "at", "text"}`; `text` is the same news for a chat webhook (Slack's
incoming webhooks show `text`, with `&`, `<` and `>` escaped as Slack requires, so a message is shown
literally).

`AlertGate` is the rate limit. The first alert of a kind and source goes out at once; another one of
that kind and source within 15 minutes of the last one sent is held, and further ones are folded into
it (the causes are counted, the newest kept). When the window ends the held alert goes out, saying how
many were folded, so nothing is lost and nobody is paged twice in a quarter of an hour. A held
`source_failed` is dropped when its source recovers (and a held `source_recovered` when it fails
again): by then it is old news. The gate starts from the times the last alerts went out, which the
bridge keeps in its store, so a restart does not reopen the windows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from msgspec import Struct
from msgspec.structs import replace

from shopify_bridge.timeutil import iso

AlertKind = Literal["source_failed", "source_recovered", "dead_letters", "reconcile_mismatch"]
ALERT_KINDS: tuple[AlertKind, ...] = ("source_failed", "source_recovered", "dead_letters", "reconcile_mismatch")
RATE_WINDOW = timedelta(minutes=15)
SHOWN_CAUSES = 3  # causes listed in one message; the rest are counted
KEPT_CAUSES = 10  # causes an alert keeps while folding (the message shows the first SHOWN_CAUSES)
_OPPOSITE: dict[AlertKind, AlertKind] = {"source_failed": "source_recovered", "source_recovered": "source_failed"}
_TITLES: dict[AlertKind, str] = {
    "source_failed": "source failed",
    "source_recovered": "source recovered",
    "dead_letters": "dead letters",
    "reconcile_mismatch": "reconcile mismatch",
}

Key = tuple[str, str]  # (kind, source)


class Alert(Struct, frozen=True):
    """One alert: its kind and source, when its (first) cause happened, and the causes it reports."""

    kind: AlertKind
    source: str
    at: datetime
    causes: tuple[str, ...]  # one line per cause: a failure, a dead letter, a mismatching day
    count: int = 1  # causes in all (`causes` keeps the first KEPT_CAUSES)
    folded: int = 0  # alerts of this kind and source folded in while the rate limit held them
    since: datetime | None = None  # the first of those

    @property
    def key(self) -> Key:
        return (self.kind, self.source)

    @property
    def message(self) -> str:
        if self.kind in ("source_failed", "source_recovered"):
            text = self.causes[-1] if self.causes else _TITLES[self.kind]  # the newest state is the news
        else:
            listed = "; ".join(self.causes[:SHOWN_CAUSES])
            rest = self.count - min(len(self.causes), SHOWN_CAUSES)
            text = listed + (f"; and {rest} more" if rest > 0 else "")
        if self.folded and self.since is not None:
            text += f" ({self.folded} more alert{'s' if self.folded > 1 else ''} like this since {iso(self.since)})"
        return text

    @property
    def text(self) -> str:
        """The chat line: Slack-escaped, so whatever a shop or destination wrote is shown as written."""
        line = f"shopify-bridge · {_TITLES[self.kind]} · {self.source}: {self.message}"
        return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def document(self) -> dict[str, Any]:
        """What is POSTed (and given to the command on stdin)."""
        return {"kind": self.kind, "source": self.source, "message": self.message, "at": iso(self.at),
                "text": self.text}

    def fold(self, later: Alert) -> Alert:
        """This alert with `later` (same kind and source) folded in: causes added, newest state last."""
        causes = (self.causes + later.causes)[-KEPT_CAUSES:] if self.kind in _OPPOSITE else (
            self.causes + later.causes)[:KEPT_CAUSES]
        return replace(self, causes=causes, count=self.count + later.count)


# -- what each kind says ---------------------------------------------------------------------------------------
def source_failed(source: str, reason: str, at: datetime) -> Alert:
    return Alert("source_failed", source, at, (f"failed: {reason}",))


def source_recovered(source: str, failed_since: datetime | None, at: datetime) -> Alert:
    after = f" after {_duration(at - failed_since)} failing" if failed_since is not None else ""
    return Alert("source_recovered", source, at, (f"polls again{after}",))


def dead_letters(source: str, letters: Sequence[tuple[str, str, str]], at: datetime) -> Alert:
    """`letters`: (destination, event id, error) of each delivery that went dead."""
    causes = tuple(f"{event_id} to {destination}: {error}" for destination, event_id, error in letters)
    if not causes:
        raise ValueError("a dead_letters alert needs at least one dead letter")
    return Alert("dead_letters", source, at, causes[:KEPT_CAUSES], count=len(causes))


def reconcile_mismatch(source: str, days: Sequence[tuple[str, int, int]], at: datetime) -> Alert:
    """`days`: (day, Shopify's order count, what the bridge accounts for) of each mismatching day."""
    causes = tuple(f"{day}: Shopify counts {shopify} orders, the bridge accounts for {accounted}"
                   for day, shopify, accounted in days)
    if not causes:
        raise ValueError("a reconcile_mismatch alert needs at least one mismatching day")
    return Alert("reconcile_mismatch", source, at, causes[:KEPT_CAUSES], count=len(causes))


def _duration(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


# -- the rate limit ----------------------------------------------------------------------------------------------
class AlertGate:
    """At most one alert per kind and source per `window` (see the module docstring)."""

    def __init__(self, last_sent: Mapping[Key, datetime] | None = None, window: timedelta = RATE_WINDOW) -> None:
        self.window = window
        self.last_sent: dict[Key, datetime] = dict(last_sent or {})
        self.held: dict[Key, Alert] = {}

    def offer(self, alert: Alert, now: datetime) -> Alert | None:
        """The alert to send now, or None: it is held (folded into one already held) until its window ends."""
        opposite = _OPPOSITE.get(alert.kind)
        if opposite is not None:
            self.held.pop((opposite, alert.source), None)
        held = self.held.get(alert.key)
        if held is not None:
            self.held[alert.key] = replace(held.fold(alert), folded=held.folded + 1)
            return None
        last = self.last_sent.get(alert.key)
        if last is None or now - last >= self.window:
            return alert
        self.held[alert.key] = replace(alert, folded=0, since=alert.at)
        return None

    def due(self, now: datetime) -> list[Alert]:
        """Held alerts whose window has ended, taken out of the gate (send them, then `sent`)."""
        ready = [alert for key, alert in self.held.items()
                 if now - self.last_sent.get(key, now - self.window) >= self.window]
        for alert in ready:
            del self.held[alert.key]
        return ready

    def next_due(self) -> datetime | None:
        """When the earliest held alert may go out; None when nothing is held."""
        times = [self.last_sent[key] + self.window for key in self.held if key in self.last_sent]
        return min(times) if times else None

    def sent(self, alert: Alert, at: datetime) -> None:
        """`alert` went out at `at`: its window starts."""
        self.last_sent[alert.key] = at
