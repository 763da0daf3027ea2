"""How values look on screen: ages, countdowns, money, buckets, delivery states, the events sparkline,
and redaction (`redact`: the process-wide one of `observe.log`, which also knows the config's secrets).

Pure functions of their arguments (the clock's `now` is passed in), so snapshots are stable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from rich.text import Text

from shopify_bridge.observe.log import redact as redact  # the dashboard's panels mask through it
from shopify_bridge.timeutil import parse_ts
from tui.models import Delivery
from tui.text import literal

STATE_STYLES = {
    "delivered": "green",
    "retrying": "yellow",
    "sending": "cyan",
    "pending": "dim",
    "dead": "bold red",
    "filtered": "dim",  # the destination does not take it (its events/channels/exclude_tags)
    "skipped": "dim",  # its payload rules do not send it (too old, no user data…)
}
SOURCE_STATE_STYLES = {
    "ok": "green",
    "backfilling": "cyan",
    "throttled": "yellow",
    "failed": "bold red",
    "paused": "magenta",
    "starting": "dim",
}
# The store's source states in the words the dashboard uses: `polling` is simply healthy.
SOURCE_STATE_WORDS = {"polling": "ok", "idle": "starting"}
SPARK = "▁▂▃▄▅▆▇█"
_PERCENT = re.compile(r"\((\d{1,3}) %\)\s*$")


def span(seconds: int) -> str:
    """A duration the way people say it: `12 s`, `4 min`, `3 h 5 min`, `2 d 4 h`."""
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        minutes = seconds % 3600 // 60
        return f"{seconds // 3600} h" + (f" {minutes} min" if minutes else "")
    hours = seconds % 86400 // 3600
    return f"{seconds // 86400} d" + (f" {hours} h" if hours else "")


def age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment).total_seconds())
    return "just now" if seconds <= 0 else f"{span(seconds)} ago"


def countdown(release_at: datetime | None, now: datetime) -> Text:
    """Time left until a hold is released, `mm:ss` (`h:mm:ss` past an hour)."""
    if release_at is None:
        return Text("no deadline", style="dim")
    seconds = int((release_at - now).total_seconds())
    if seconds <= 0:
        return Text("due", style="bold yellow")
    hours, rest = divmod(seconds, 3600)
    shown = f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"
    return Text(shown, style="yellow" if seconds < 60 else "")


def clock_time(moment: datetime | None, now: datetime) -> str:
    """`10:02:03` today, `05-01 10:02` on another day, in UTC like the store."""
    if moment is None:
        return "—"
    if moment.date() == now.date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%m-%d %H:%M")


def full_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def money(value: Decimal | None, currency: str | None) -> str:
    if value is None:
        return "—"
    exponent = value.as_tuple().exponent
    # Shopify sends "10.0" for ten; show cents, but never round away digits it did send.
    shown = value.quantize(Decimal("0.01")) if isinstance(exponent, int) and exponent > -2 else value
    return f"{shown} {currency}" if currency else str(shown)


def bucket(available: float | None, maximum: float | None) -> str:
    """The cost bucket as `1,981 / 2,000` points."""
    if available is None or maximum is None:
        return "—"
    return f"{available:,.0f} / {maximum:,.0f}"


def cursor_lag(cursor: str | None, now: datetime) -> str:
    """How far the incremental cursor is behind now: what a poll would still have to catch up."""
    if not cursor:
        return "—"
    try:
        return span(int((now - parse_ts(cursor)).total_seconds()))
    except ValueError:
        return "?"


def backfill_percent(progress: str | None) -> str:
    """`45 %` from the stored progress line (`… storing orders 4,500/10,000 (45 %)`), else empty."""
    found = _PERCENT.search(progress or "")
    return f"{found.group(1)} %" if found else ""


def source_state(state: str, reason: str | None, progress: str | None = None) -> Text:
    """`ok`, `failed: 401 Unauthorized…`, `backfilling 45 %`, `paused`: the words, the reason literally."""
    word = SOURCE_STATE_WORDS.get(state, state)
    text = Text(word, style=SOURCE_STATE_STYLES.get(word, ""), no_wrap=True, overflow="ellipsis", end="")
    if state == "backfilling" and backfill_percent(progress):
        text.append(f" {backfill_percent(progress)}")
    if reason and state != "paused":
        text.append(": ", style="dim")
        text.append(literal(redact(reason), "red" if state == "failed" else "dim"))
    return text


def delivery_cell(deliveries: tuple[Delivery, ...]) -> Text:
    """Per destination: `events-file ✓ · converge ↻3 · meta ✗ dead` — names literally."""
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    if not deliveries:
        out.append("no destination", style="dim")
        return out
    for index, delivery in enumerate(deliveries):
        if index:
            out.append(" · ", style="dim")
        out.append(literal(delivery.destination))
        out.append(" ")
        out.append(delivery_state(delivery))
    return out


def delivery_state(delivery: Delivery) -> Text:
    label = delivery.state
    if delivery.state == "retrying":
        label = f"retrying ×{delivery.attempts}"
    elif delivery.reason and delivery.state in ("filtered", "skipped"):
        label = f"{delivery.state}: {delivery.reason}"  # the key that matched, or the payload rule
    return Text(label, style=STATE_STYLES.get(delivery.state, ""))


def sparkline(counts: Sequence[int], bars: int = 12) -> str:
    """`counts` (oldest first) folded into `bars` block characters, scaled to the busiest bar."""
    if not counts:
        return ""
    size = max(1, len(counts) // bars)
    sums = [sum(counts[i : i + size]) for i in range(0, len(counts), size)][-bars:]
    top = max(sums)
    if top == 0:
        return SPARK[0] * len(sums)
    return "".join(SPARK[min(len(SPARK) - 1, (value * (len(SPARK) - 1) + top - 1) // top)] for value in sums)


def per_minute(counts: Sequence[int], minutes: int = 5) -> str:
    """Events per minute over the last `minutes` full minutes (the current one is still filling)."""
    window = list(counts[-minutes - 1 : -1]) if len(counts) > minutes else list(counts)
    rate = sum(window) / max(1, len(window))
    return f"{rate:.0f}" if rate >= 10 or rate == 0 else f"{rate:.1f}"


def indent_json(text: str, indent: int = 2) -> str:
    """Re-indent JSON text without parsing it: only whitespace outside strings changes.

    Parsing and dumping would turn `10.10` into `10.1`; the detail view must show the bytes that
    were sent, so every token is copied verbatim.
    """
    out: list[str] = []
    depth = 0
    in_string = escaped = False
    pad = " " * indent
    for index, char in enumerate(text):
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char.isspace():
            continue
        if char == '"':
            in_string = True
            out.append(char)
        elif char in "{[":
            closing = "}" if char == "{" else "]"
            following = text[index + 1 :].lstrip()[:1]
            depth += 1
            out.append(char if following == closing else f"{char}\n{pad * depth}")
        elif char in "}]":
            depth -= 1
            if out and out[-1] not in "{[":
                out.append(f"\n{pad * depth}")
            out.append(char)
        elif char == ",":
            out.append(f",\n{pad * depth}")
        elif char == ":":
            out.append(": ")
        else:
            out.append(char)
    return "".join(out)
