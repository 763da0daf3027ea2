"""Looking at what the bridge did: `explain`, `events`, `replay` (re-send), `reconcile` (against Shopify) and
`resync` (re-read a source's orders since a moment)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from shopify_bridge import exit_codes
from shopify_bridge.cli.output import (
    console,
    events_table,
    print_explanation,
    print_json,
    print_mismatches,
    print_resync,
    reconcile_table,
)
from shopify_bridge.config import Config, Source
from shopify_bridge.errors import BridgeError
from shopify_bridge.store import Store


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


def explain(config: Config, order: str, source: str | None = None, as_json: bool = False) -> int:
    from shopify_bridge.service.explain import as_dict, edited_after_release
    from shopify_bridge.service.explain import explain as explain_order

    store = Store.open_reader(config.database)
    try:
        exp = explain_order(store, order, source)
    finally:
        store.close()
    if as_json:
        print_json(as_dict(exp))
    else:
        print_explanation(console(), exp, edited_after_release(exp))
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

    query = EventQuery(dead=dead, since=since_option(since, datetime.now(UTC)), name=name, source=source, limit=limit)
    store = Store.open_reader(config.database)
    try:
        rows = list_events(store, query)
    finally:
        store.close()
    if as_json:
        print_json(rows)
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
    now = datetime.now(UTC)
    query = EventQuery(event_ids=tuple(event_ids), dead=dead, since=since_option(since, now))
    store = Store.open_writer(config.database, synchronous=config.synchronous)
    try:
        count = replay_events(store, query, now, destination)
    finally:
        store.close()
    console().print(f"{count} deliveries queued again (same event_id); `shopify-bridge run` sends them")
    return exit_codes.OK


async def _reconcile(config: Config, store: Store) -> int:
    from zoneinfo import ZoneInfo

    from shopify_bridge.service.bridge import client_for
    from shopify_bridge.service.reconcile import CATEGORIES, reconcile_source

    out = console()
    mismatch = False
    for source in config.sources:
        connection = store.reads.orders.source_connection(source.shop_domain)
        if connection is None or connection.first_connected_at is None:
            out.print(f"{source.name}: never connected yet — nothing to reconcile")
            continue
        tz = connection.timezone or "UTC"
        if source.start_date is not None:
            since = datetime.combine(source.start_date, datetime.min.time(), tzinfo=ZoneInfo(tz))
        else:
            since = connection.first_connected_at
        client = client_for(source)
        async with client:
            days = await reconcile_source(client, store, source.shop_domain, tz, since, datetime.now(UTC))
        out.print(reconcile_table(days, CATEGORIES, f"{source.name} ({tz})"))
        print_mismatches(out, days)
        mismatch = mismatch or not all(day.ok for day in days)
    if mismatch:
        out.print("reconcile: mismatch")
        return exit_codes.RECONCILE_MISMATCH
    out.print("reconcile: every order accounted for")
    return exit_codes.OK


def reconcile(config: Config) -> int:
    store = Store.open_reader(config.database)
    try:
        return asyncio.run(_reconcile(config, store))
    finally:
        store.close()


def _source_named(config: Config, name: str) -> Source:
    for source in config.sources:
        if source.name.casefold() == name.strip().casefold():
            return source
    known = ", ".join(repr(s.name) for s in config.sources)
    raise BridgeError(f"--source {name!r}: no such source (sources: {known})", exit_code=exit_codes.USAGE)


async def _resync(config: Config, source: Source, store: Store, since: datetime) -> int:
    from shopify_bridge.service.bridge import client_for, poll_settings, source_context
    from shopify_bridge.service.poller import SourcePoller
    from shopify_bridge.service.resync import resync as resync_source

    async with client_for(source) as client:
        poller = SourcePoller(source_context(config, source), client, store, lambda: datetime.now(UTC),
                              settings=poll_settings(source))
        report = await resync_source(poller, since)
    out = console()
    if report is None:
        out.print(f"{source.name}: never connected yet — nothing to resync (`shopify-bridge run` connects it)")
    else:
        print_resync(out, report)
    return exit_codes.OK


def resync(config: Config, *, source: str, since: str) -> int:
    chosen = _source_named(config, source)
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
