"""How the commands show their results to people: rich tables and lines, every data string literal.

Strings from Shopify, destinations and the config go through `lit` (see `cli.console`): never
parsed as markup, control characters escaped. Columns fold instead of cutting, so nothing is lost
on a narrow terminal; piped, the console is as wide as the rows. The `--json` documents are built
in `cli.json_output`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shopify_bridge.cli.console import lit, styled
from shopify_bridge.literal import json_text

if TYPE_CHECKING:
    from shopify_bridge.service.check import CheckReport
    from shopify_bridge.service.check_destinations import DestinationReport
    from shopify_bridge.service.explain import Explanation
    from shopify_bridge.service.reconcile import DayResult, SourceReconcile
    from shopify_bridge.service.resync import ResyncReport
    from shopify_bridge.service.source_status import SourceCycle
    from shopify_bridge.store.reads_events import DeliveryState, LoggedEvent


def table(*headers: str, title: Text | None = None, show_header: bool = True) -> Table:
    """A table whose columns wrap long values rather than cut them."""
    out = Table(title=title, title_justify="left", show_header=show_header)
    for header in headers:
        out.add_column(header, overflow="fold")
    return out


def mark(ok: bool) -> Text:
    return Text("✓", style="green") if ok else Text("✗", style="red")


# -- check ----------------------------------------------------------------------------------------
def check_table(report: CheckReport, name: str) -> Table:
    out = table("", "check", "detail", title=styled(lit(name, "bold"), " — ", lit(report.shop)), show_header=False)
    for line in report.lines:
        out.add_row(mark(line.ok), lit(line.label), lit(line.detail))
    if report.shop_name:
        out.add_row(
            Text(""), Text("shop"),
            styled(lit(report.shop_name), ", currency ", lit(report.currency), ", timezone ", lit(report.timezone)),
        )
    if report.bucket:
        out.add_row(Text(""), Text("rate limit"), lit(report.bucket))
    return out


def destinations_table(reports: Sequence[DestinationReport]) -> Table:
    out = table("", "destination", "type", "target", "detail", title=Text("destinations", style="bold"))
    for report in reports:
        out.add_row(mark(report.ok), lit(report.name), lit(report.type), lit(report.target), lit(report.detail))
    return out


# -- explain --------------------------------------------------------------------------------------
def print_explanation(out: Console, exp: Explanation, note: str | None) -> None:
    """The order, its hold or exclusion, its versions, refunds, and each event with its deliveries."""
    from shopify_bridge.service.explain import waiting_note

    o = exp.order
    out.print(styled(lit(o["name"], "bold"), " (id ", lit(o["order_id"]), ") — source ",
                     lit(exp.source_name or exp.shop)))
    out.print(styled("processed ", lit(o["processed_at"]), " · status ", lit(o["status"], "bold")))
    if o.get("release_at"):
        released = styled(" · released ", lit(o["released_at"])) if o.get("released_at") else Text("")
        out.print(styled("hold until ", lit(o["release_at"]), released))
    if o.get("exclusion_rule"):
        out.print(styled("excluded by rule ", lit(o["exclusion_rule"], "bold"), " = ", lit(repr(o["exclusion_value"]))))
    if note:
        out.print(lit(note, "yellow"))
    versions = table("version", "updatedAt", "fetched", "origin", "total", "items", "refunds", "tags",
                     title=Text("versions"))
    for v in exp.versions:
        built = " ← built" if v["version"] == o.get("built_version") else ""
        versions.add_row(
            Text(f"{v['version']}{built}"), lit(v["updated_at"]), lit(v["fetched_at"]), lit(v["origin"]),
            lit(v["total"]), lit(v["line_items"]), lit(v["refunds"]), lit(",".join(v["tags"] or [])),
        )
    out.print(versions)
    for refund in exp.refunds:
        waiting = waiting_note(refund)
        out.print(styled("refund ", lit(refund["refund_id"]), " at ", lit(refund["timestamp"]), ": ",
                         lit(refund["status"]), lit(f" ({waiting})" if waiting else "")))
    for event in exp.events:
        out.print(Text(""))
        out.print(styled(lit(event["event_name"], "bold"), " ", lit(event["event_id"]), " (created ",
                         lit(event["created_at"]), ")"))
        for d in event["deliveries"]:
            error = styled(", last error: ", lit(d["last_error"])) if d["last_error"] else Text("")
            out.print(styled("  → ", lit(d["destination"]), ": ", lit(d["state"]), " after ",
                             lit(d["attempts"]), " attempt(s)", error))
        out.print(Text(json_text(event["payload"])))


# -- events ---------------------------------------------------------------------------------------
def delivery_state(d: DeliveryState) -> Text:
    text = styled(lit(d["destination"]), ": ", lit(d["state"]))
    if d["reason"]:  # filtered: the destination's key that matched; skipped: the payload rule
        text.append_text(styled(" (", lit(d["reason"]), ")"))
    if d["state"] != "delivered" and d["attempts"]:
        text.append_text(styled(" (", lit(d["attempts"]), "×, ", lit(d["last_error"]), ")"))
    return text


def events_table(rows: Sequence[LoggedEvent]) -> Table:
    out = table("created", "event", "event_id", "order", "deliveries")
    for row in rows:
        states = Text(", ").join(delivery_state(d) for d in row["deliveries"])
        out.add_row(lit(row["created_at"]), lit(row["event_name"]), lit(row["event_id"]), lit(row["order"]), states)
    return out


# -- reconcile ------------------------------------------------------------------------------------
def reconcile_table(days: Sequence[DayResult], title: Text) -> Table:
    from shopify_bridge.service.reconcile import CATEGORIES

    out = table("day", "shopify", *CATEGORIES, "", title=title)
    for day in days:
        out.add_row(
            Text(day.day.isoformat()), Text(str(day.shopify)), *(Text(str(day.local[c])) for c in CATEGORIES),
            mark(day.ok),
        )
    return out


def print_reconcile(out: Console, result: SourceReconcile) -> None:
    """One source: its days as a table and the orders that fall through, or why there is nothing to count."""
    name = lit(result.name, "bold")
    if not result.connected:
        out.print(styled(name, ": never connected yet — nothing to reconcile"))
        return
    if not result.days:
        out.print(styled(name, ": no whole day since ", lit(result.since), " yet (until ", lit(result.until),
                         ") — nothing to reconcile"))
        return
    out.print(reconcile_table(result.days, styled(name, " (", lit(result.timezone), ")")))
    for day in result.days:
        if day.ok:
            continue
        for order in day.missing:
            out.print(styled(f"  {day.day}: ", lit(order), " is in Shopify but not accounted for"))
        for order in day.extra:
            out.print(styled(f"  {day.day}: ", lit(order), " is accounted for but Shopify does not count it"))


# -- run --once -----------------------------------------------------------------------------------
def cycle_line(cycle: SourceCycle) -> Text:
    """One line per source: what its cycle did, or why it failed (or that another process polls it)."""
    if cycle.elsewhere:
        return styled(lit(cycle.source, "bold"), ": polled by another process (it holds the lease)")
    counts = (f"{cycle.seen} orders seen, {cycle.created} events created, "
              f"{cycle.delivered} deliveries delivered, {cycle.held} orders held")
    if cycle.exit_code:
        return styled(lit(cycle.source, "bold"), f": failed (exit {cycle.exit_code}): ", lit(cycle.reason),
                      f" · {counts}")
    return styled(lit(cycle.source, "bold"), f": {counts}")


# -- resync ---------------------------------------------------------------------------------------
def print_resync(out: Console, report: ResyncReport) -> None:
    """What a resync found: each order new to the store (or with a new version), then each event created."""
    out.print(f"{report.source}: re-read {report.listed} orders updated from {report.since.isoformat()} "
              f"to {report.until.isoformat()}", markup=False)
    for order in report.orders:
        found = order.found
        what = "new order" if found.new_order else "new version"
        late = f", seen {found.lag_seconds} s after its update" if found.lag_seconds is not None else ""
        out.print(f"  {found.name} ({found.order_id}): {what}, {order.status or 'not stored'}{late}", markup=False)
    for event in report.events:
        out.print(f"  created {event.event_name} {event.event_id} ({event.order_name or '?'})", markup=False)
    new_orders = sum(order.found.new_order for order in report.orders)
    if not report.orders and not report.events:
        out.print("resync: nothing new — the store had every order", markup=False)
    else:
        out.print(f"resync: {new_orders} new orders, {len(report.orders) - new_orders} new versions, "
                  f"{len(report.events)} events created", markup=False)
