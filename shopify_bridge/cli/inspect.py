"""Looking at what the bridge did: `explain`, `events`, `replay` (re-send), `reconcile` (against Shopify) and
`resync` (re-read a source's orders since a moment)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text

from shopify_bridge import exit_codes
from shopify_bridge.cli import names
from shopify_bridge.cli.console import console, print_json
from shopify_bridge.cli.json_output import EventJson, ExplainJson, dump, reconcile_json
from shopify_bridge.cli.output import events_table, print_explanation, print_reconcile, print_resync
from shopify_bridge.config import Config, Source
from shopify_bridge.errors import BridgeError
from shopify_bridge.store import Store

if TYPE_CHECKING:
    from shopify_bridge.service.reconcile import SourceReconcile

EVENT_NAMES = ("Placed Order", "Received Refund")


def since_option(value: str | None, now: datetime) -> datetime | None:
    """`--since`: an ISO date/time (UTC unless it has an offset), or a duration back from `now` (30m, 2h, 3d)."""
    if value is None:
        return None
    text = value.strip().lower()
    units = {"m": 60, "h": 3600, "d": 86400}
    if text[:-1].isdigit() and text[-1] in units:
        return now - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BridgeError(
            f"--since {value!r}: expected an ISO date/time or a duration like 2h or 3d", exit_code=exit_codes.USAGE
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def until_option(value: str | None) -> date | None:
    """`--until`: a calendar day, YYYY-MM-DD."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BridgeError(f"--until {value!r}: expected a date like 2026-05-31", exit_code=exit_codes.USAGE) from None


def explain(config: Config, order: str, source: str | None = None, as_json: bool = False) -> int:
    from shopify_bridge.cli.output_payloads import print_destination_payloads
    from shopify_bridge.service.explain import as_dict, edited_after_release
    from shopify_bridge.service.explain import explain as explain_order
    from shopify_bridge.service.explain_payloads import destination_payloads

    store = Store.open_reader(config.database)
    try:
        shop = names.source_shop(config, source, store.reads.event_log.sources()) if source is not None else None
        exp = explain_order(store, order, shop)
        payloads = destination_payloads(config, store, exp, datetime.now(UTC))
    finally:
        store.close()
    if as_json:
        print_json(dump(ExplainJson.model_validate({**as_dict(exp), "destination_payloads": payloads})))
    else:
        print_explanation(console(), exp, edited_after_release(exp))
        print_destination_payloads(console(), payloads)
    return exit_codes.OK


def events(
    config: Config,
    *,
    dead: bool = False,
    since: str | None = None,
    name: str | None = None,
    source: str | None = None,
    limit: int = 50,
    as_json: bool = False,
) -> int:
    from shopify_bridge.service.event_log import EventQuery, list_events

    if name is not None and name not in EVENT_NAMES:
        raise names.UnknownName(f"unknown event name {name!r} (events: {', '.join(map(repr, EVENT_NAMES))})")
    store = Store.open_reader(config.database)
    try:
        shop = names.source_shop(config, source, store.reads.event_log.sources()) if source is not None else None
        query = EventQuery(dead=dead, since=since_option(since, datetime.now(UTC)), name=name, source=shop,
                           limit=limit)
        rows = list_events(store, query)
    finally:
        store.close()
    if as_json:
        print_json([dump(EventJson.model_validate(row)) for row in rows])
    else:
        console().print(events_table(rows))
    return exit_codes.OK


def replay(
    config: Config,
    *,
    event_ids: list[str],
    dead: bool = False,
    since: str | None = None,
    destination: str | None = None,
) -> int:
    from shopify_bridge.service.event_log import EventQuery
    from shopify_bridge.service.event_log import replay as replay_events

    if not event_ids and not dead and since is None:
        raise BridgeError("replay needs event ids, --dead or --since", exit_code=exit_codes.USAGE)
    if destination is not None:
        names.destination(config, destination)
    now = datetime.now(UTC)
    query = EventQuery(event_ids=tuple(event_ids), dead=dead, since=since_option(since, now))
    store = Store.open_writer(config.database, synchronous=config.synchronous)
    try:
        names.known_event_ids(store.reads.event_log.unknown_event_ids(event_ids))
        count = replay_events(store, query, now, destination)
    finally:
        store.close()
    console().print(f"{count} deliveries queued again (same event_id); `shopify-bridge run` sends them")
    return exit_codes.OK


async def _reconcile_and_alert(
    config: Config, store: Store, chosen: list[Source], last_day: date | None
) -> list[SourceReconcile]:
    from shopify_bridge.service.alerting import ReconcileAlerts
    from shopify_bridge.service.reconcile import reconcile_sources

    results = await reconcile_sources(store, chosen, last_day, datetime.now(UTC))
    alerts = ReconcileAlerts(config, store, lambda: datetime.now(UTC))
    for result in results:
        alerts.mismatch(result.name, result.days)
    await alerts.flush()
    return results


def reconcile(
    config: Config, *, source: str | None = None, until: str | None = None, as_json: bool = False
) -> int:

    chosen = [names.config_source(config, source)] if source is not None else list(config.sources)
    last_day = until_option(until)
    store = Store.open_reader(config.database)
    try:
        results = asyncio.run(_reconcile_and_alert(config, store, chosen, last_day))
    finally:
        store.close()
    ok = all(result.ok for result in results)
    code = exit_codes.OK if ok else exit_codes.RECONCILE_MISMATCH
    if as_json:
        print_json(dump(reconcile_json(results, code)))
        return code
    out = console()
    for result in results:
        print_reconcile(out, result)
    if not ok:
        verdict = "reconcile: mismatch"
    elif any(result.days for result in results):
        verdict = "reconcile: every order accounted for"
    else:
        verdict = "reconcile: no whole day to compare yet"
    out.print(Text(verdict))
    return code


async def _resync(config: Config, source: Source, store: Store, since: datetime) -> int:
    from shopify_bridge.service.clients import client_for
    from shopify_bridge.service.poller import SourcePoller
    from shopify_bridge.service.resync import resync as resync_source
    from shopify_bridge.service.wiring import poll_settings, source_context

    async with client_for(source) as client:
        poller = SourcePoller(source_context(config, source), client, store, lambda: datetime.now(UTC),
                              settings=poll_settings(source))
        report = await resync_source(poller, since)
    out = console()
    if report is None:
        out.print(Text(f"{source.name}: never connected yet — nothing to resync (`shopify-bridge run` connects it)"))
    else:
        print_resync(out, report)
    return exit_codes.OK


def resync(config: Config, *, source: str, since: str) -> int:
    chosen = names.config_source(config, source)
    now = datetime.now(UTC)
    moment = since_option(since, now)
    assert moment is not None
    if moment > now:
        raise BridgeError(f"--since {since!r} is in the future", exit_code=exit_codes.USAGE)
    store = Store.open_writer(config.database, synchronous=config.synchronous)
    try:
        return asyncio.run(_resync(config, chosen, store, moment))
    finally:
        store.close()
