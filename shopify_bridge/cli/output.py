"""How the commands print: `--json` documents, and rich tables and lines for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from shopify_bridge.service.check import CheckReport
    from shopify_bridge.service.explain import Explanation
    from shopify_bridge.service.reconcile import DayResult
    from shopify_bridge.service.resync import ResyncReport
    from shopify_bridge.store.reads_events import DeliveryState, LoggedEvent


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_json(value: Any) -> None:
    """`--json`: one indented document on stdout (dates and decimals as text)."""
    print(json.dumps(value, indent=2, default=str))


# -- check ----------------------------------------------------------------------------------------
def check_table(report: CheckReport, title: str) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    for line in report.lines:
        table.add_row("✓" if line.ok else "✗", line.label, line.detail)
    if report.shop_name:
        table.add_row("", "shop", f"{report.shop_name}, currency {report.currency}, timezone {report.timezone}")
    if report.bucket:
        table.add_row("", "rate limit", report.bucket)
    return table


# -- explain --------------------------------------------------------------------------------------
def print_explanation(out: Console, exp: Explanation, note: str | None) -> None:
    """The order, its hold or exclusion, its versions, refunds, and each event with its deliveries."""
    o = exp.order
    out.print(f"[bold]{o['name']}[/] (id {o['order_id']}) — source {exp.source_name or exp.shop}")
    out.print(f"processed {o['processed_at']} · status [bold]{o['status']}[/]")
    if o.get("release_at"):
        released = f" · released {o['released_at']}" if o.get("released_at") else ""
        out.print(f"hold until {o['release_at']}{released}")
    if o.get("exclusion_rule"):
        out.print(f"excluded by rule [bold]{o['exclusion_rule']}[/] = {o['exclusion_value']!r}")
    if note:
        out.print(f"[yellow]{note}[/]")
    versions = Table(
        "version", "updatedAt", "fetched", "origin", "total", "items", "refunds", "tags",
        title="versions", title_justify="left",
    )
    for v in exp.versions:
        mark = " ← built" if v["version"] == o.get("built_version") else ""
        versions.add_row(
            f"{v['version']}{mark}",
            v["updated_at"],
            v["fetched_at"],
            v["origin"],
            str(v["total"]),
            str(v["line_items"]),
            str(v["refunds"]),
            ",".join(v["tags"] or []),
        )
    out.print(versions)
    for refund in exp.refunds:
        out.print(f"refund {refund['refund_id']} at {refund['timestamp']}: {refund['status']}")
    for event in exp.events:
        out.print(f"\n[bold]{event['event_name']}[/] {event['event_id']} (created {event['created_at']})")
        for d in event["deliveries"]:
            out.print(
                f"  → {d['destination']}: {d['state']} after {d['attempts']} attempt(s)"
                + (f", last error: {d['last_error']}" if d["last_error"] else "")
            )
        print(json.dumps(event["payload"], indent=2))


# -- events ---------------------------------------------------------------------------------------
def delivery_state(d: DeliveryState) -> str:
    text = f"{d['destination']}: {d['state']}"
    if d["state"] != "delivered" and d["attempts"]:
        text += f" ({d['attempts']}×, {d['last_error']})"
    return text


def events_table(rows: Sequence[LoggedEvent]) -> Table:
    table = Table("created", "event", "event_id", "order", "deliveries")
    for row in rows:
        states = ", ".join(delivery_state(d) for d in row["deliveries"])
        table.add_row(row["created_at"], row["event_name"], row["event_id"], row["order"] or "", states)
    return table


# -- reconcile ------------------------------------------------------------------------------------
def reconcile_table(days: Sequence[DayResult], categories: Sequence[str], title: str) -> Table:
    table = Table("day", "shopify", *categories, "", title=title, title_justify="left")
    for day in days:
        table.add_row(
            day.day.isoformat(), str(day.shopify), *(str(day.local[c]) for c in categories), "✓" if day.ok else "✗"
        )
    return table


def print_mismatches(out: Console, days: Sequence[DayResult]) -> None:
    for day in days:
        if day.ok:
            continue
        for name in day.missing:
            out.print(f"  {day.day}: {name} is in Shopify but not accounted for")
        for name in day.extra:
            out.print(f"  {day.day}: {name} is accounted for but Shopify does not count it")


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
