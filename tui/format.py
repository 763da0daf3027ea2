"""How values look on screen: ages, countdowns, money, delivery states, and redaction (`redact`: the
process-wide one of `observe.log`, which also knows the config's registered secrets).

Pure functions of their arguments (the clock's `now` is passed in), so snapshots are stable.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from rich.text import Text

from shopify_bridge.observe.log import redact as redact  # the dashboard's panels mask through it
from tui.models import Delivery

STATE_STYLES = {
    "delivered": "green",
    "retrying": "yellow",
    "sending": "cyan",
    "pending": "dim",
    "dead": "bold red",
}
SOURCE_STATE_STYLES = {
    "polling": "green",
    "backfilling": "cyan",
    "throttled": "yellow",
    "failed": "bold red",
    "idle": "dim",
}


def _span(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment).total_seconds())
    return "just now" if seconds <= 0 else f"{_span(seconds)} ago"


def countdown(release_at: datetime | None, now: datetime) -> Text:
    if release_at is None:
        return Text("no deadline", style="dim")
    seconds = int((release_at - now).total_seconds())
    if seconds <= 0:
        return Text("due now", style="bold yellow")
    return Text(f"in {_span(seconds)}", style="yellow" if seconds < 60 else "")


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
    if available is None or maximum is None:
        return "—"
    return f"{available:.0f}/{maximum:.0f}"


def delivery_cell(deliveries: tuple[Delivery, ...]) -> Text:
    """Per destination: `events-file ✓ delivered · converge ↻ retrying ×3`."""
    if not deliveries:
        return Text("no destination", style="dim")
    out = Text()
    for index, delivery in enumerate(deliveries):
        if index:
            out.append(" · ", style="dim")
        out.append(f"{delivery.destination} ")
        out.append(delivery_state(delivery))
    return out


def delivery_state(delivery: Delivery) -> Text:
    label = delivery.state
    if delivery.state == "retrying":
        label = f"retrying ×{delivery.attempts}"
    return Text(label, style=STATE_STYLES.get(delivery.state, ""))


def source_state(state: str, reason: str | None) -> Text:
    text = Text(state, style=SOURCE_STATE_STYLES.get(state, ""))
    if reason:
        text.append(f": {redact(reason)}", style="dim" if state != "failed" else "red")
    return text


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
