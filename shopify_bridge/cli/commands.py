"""The bodies of the CLI commands: each takes a loaded Config (or a path) and returns an exit code.

Kept apart from `cli.py` so that the CLI stays a thin typer layer and each command can be
called from tests and from the demo without a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from shopify_bridge import exit_codes
from shopify_bridge.config import Config
from shopify_bridge.errors import BridgeError
from shopify_bridge.observe.log import get_logger
from shopify_bridge.store.reads_events import DeliveryState

log = get_logger(component="cli")


def _console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def install_stop_signals(stop: asyncio.Event) -> None:
    """SIGTERM/SIGINT set `stop` once (graceful); a second signal exits at once."""
    loop = asyncio.get_running_loop()
    hits = {"n": 0}

    def handler() -> None:
        hits["n"] += 1
        if hits["n"] > 1:
            log.warning("second signal: exiting now")
            sys.exit(exit_codes.OK)
        log.info("stopping: finishing the current work (send the signal again to exit at once)")
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not the main thread, or a platform without signal handlers: Ctrl-C still raises.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, handler)


# -- run ------------------------------------------------------------------------------------------
async def _run(
    config: Config,
    once: bool,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
    stale_after: float | None = None,
) -> int:
    stop = asyncio.Event()
    if not once:
        install_stop_signals(stop)  # first: a SIGTERM during start-up is a graceful stop too
    from shopify_bridge.observe.metrics import BridgeMetrics
    from shopify_bridge.service.bridge import Bridge

    on_progress = None
    if sys.stderr.isatty():
        from shopify_bridge.observe.progress import TerminalProgress

        on_progress = TerminalProgress()
    metrics = BridgeMetrics(config) if metrics_port is not None else None
    bridge = Bridge(config, on_progress=on_progress, metrics=metrics)
    try:
        if once:
            return await bridge.run_once()
        if metrics is None:
            await bridge.run(stop)
        else:
            from shopify_bridge.observe.health import serving

            async with serving(bridge, metrics, host=metrics_host, port=metrics_port or 0, stale_after=stale_after):
                await bridge.run(stop)
        return exit_codes.OK
    finally:
        if on_progress is not None:
            on_progress.stop()
        bridge.close()


def run(
    config: Config,
    *,
    once: bool = False,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
    stale_after: float | None = None,
    record_cassette: Path | None = None,
) -> int:
    if not config.sources:
        raise BridgeError("no [[sources]] in the config: nothing to run", exit_code=exit_codes.CONFIG)
    if once and metrics_port is not None:
        raise BridgeError(
            "--metrics-port serves while `run` keeps running; it has no use with --once", exit_code=exit_codes.USAGE
        )
    if record_cassette is not None and not once:
        raise BridgeError("--record-cassette records one cycle: use it with --once", exit_code=exit_codes.USAGE)
    with _recording(record_cassette):
        return asyncio.run(_run(config, once, metrics_host, metrics_port, stale_after))


@contextmanager
def _recording(path: Path | None) -> Iterator[None]:
    """`--record-cassette PATH`: Shopify's answers go into a new, scrubbed cassette (`shopify.cassette`)."""
    if path is None:
        yield
        return
    from shopify_bridge.shopify.cassette import record_cassette

    with record_cassette(path) as cassette:
        yield
    _console(stderr=True).print(f"recorded {len(cassette)} Shopify request(s) into {path}")


# -- check ----------------------------------------------------------------------------------------
CHECK_TIMEOUT_SECONDS = 10.0
CHECK_RETRIES = 1


async def _check(config: Config) -> int:
    from shopify_bridge.service.bridge import client_for
    from shopify_bridge.service.check import check_source

    console = _console()
    codes = []
    for source in config.sources:
        # An operator waits at the terminal: one retry and a short timeout answer an unreachable shop in
        # seconds instead of the half-minute of retries that keep a running bridge polling through a blip.
        client = client_for(source, timeout_seconds=CHECK_TIMEOUT_SECONDS, max_temporary_retries=CHECK_RETRIES)
        async with client:
            report = await check_source(
                client, source.name, source.shop_domain, start_date=source.start_date, today=datetime.now(UTC).date()
            )
        codes.append(report.exit_code)
        table = Table(title=f"{source.name} — {source.shop_domain}", show_header=False, title_justify="left")
        for line in report.lines:
            table.add_row("✓" if line.ok else "✗", line.label, line.detail)
        if report.shop_name:
            table.add_row("", "shop", f"{report.shop_name}, currency {report.currency}, timezone {report.timezone}")
        if report.bucket:
            table.add_row("", "rate limit", report.bucket)
        console.print(table)
    code = exit_codes.most_severe(codes)
    console.print("all sources ok" if code == 0 else f"check failed (exit {code})")
    return code


def check(config: Config, *, record_cassette: Path | None = None) -> int:
    with _recording(record_cassette):
        return asyncio.run(_check(config))


# -- explain / events / replay ----------------------------------------------------------------------
def explain(config: Config, order: str, source: str | None = None, as_json: bool = False) -> int:
    from shopify_bridge.service.explain import as_dict, edited_after_release
    from shopify_bridge.service.explain import explain as explain_order
    from shopify_bridge.store import Store

    exp = explain_order(Store.open_reader(config.database), order, source)
    if as_json:
        print(json.dumps(as_dict(exp), indent=2, default=str))
        return exit_codes.OK
    console = _console()
    o = exp.order
    console.print(f"[bold]{o['name']}[/] (id {o['order_id']}) — source {exp.source_name or exp.shop}")
    console.print(f"processed {o['processed_at']} · status [bold]{o['status']}[/]")
    if o.get("release_at"):
        released = f" · released {o['released_at']}" if o.get("released_at") else ""
        console.print(f"hold until {o['release_at']}{released}")
    if o.get("exclusion_rule"):
        console.print(f"excluded by rule [bold]{o['exclusion_rule']}[/] = {o['exclusion_value']!r}")
    note = edited_after_release(exp)
    if note:
        console.print(f"[yellow]{note}[/]")
    versions = Table(
        "version",
        "updatedAt",
        "fetched",
        "origin",
        "total",
        "items",
        "refunds",
        "tags",
        title="versions",
        title_justify="left",
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
    console.print(versions)
    for refund in exp.refunds:
        console.print(f"refund {refund['refund_id']} at {refund['timestamp']}: {refund['status']}")
    for event in exp.events:
        console.print(f"\n[bold]{event['event_name']}[/] {event['event_id']} (created {event['created_at']})")
        for d in event["deliveries"]:
            console.print(
                f"  → {d['destination']}: {d['state']} after {d['attempts']} attempt(s)"
                + (f", last error: {d['last_error']}" if d["last_error"] else "")
            )
        print(json.dumps(event["payload"], indent=2))
    return exit_codes.OK


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    text = value.strip().lower()
    units = {"m": 60, "h": 3600, "d": 86400}
    if text[:-1].isdigit() and text[-1] in units:
        return datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BridgeError(
            f"--since {value!r}: expected an ISO date/time or a duration like 2h or 3d", exit_code=exit_codes.USAGE
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _delivery_state(d: DeliveryState) -> str:
    text = f"{d['destination']}: {d['state']}"
    if d["state"] != "delivered" and d["attempts"]:
        text += f" ({d['attempts']}×, {d['last_error']})"
    return text


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
    from shopify_bridge.store import Store

    query = EventQuery(dead=dead, since=_since(since), name=name, source=source, limit=limit)
    rows = list_events(Store.open_reader(config.database), query)
    if as_json:
        print(json.dumps(rows, indent=2))
        return exit_codes.OK
    table = Table("created", "event", "event_id", "order", "deliveries")
    for row in rows:
        states = ", ".join(_delivery_state(d) for d in row["deliveries"])
        table.add_row(row["created_at"], row["event_name"], row["event_id"], row["order"] or "", states)
    _console().print(table)
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
    from shopify_bridge.store import Store

    if not event_ids and not dead and since is None:
        raise BridgeError("replay needs event ids, --dead or --since", exit_code=exit_codes.USAGE)
    store = Store.open_writer(config.database, synchronous=config.synchronous)
    query = EventQuery(event_ids=tuple(event_ids), dead=dead, since=_since(since))
    count = replay_events(store, query, datetime.now(UTC), destination)
    _console().print(f"{count} deliveries queued again (same event_id); `shopify-bridge run` sends them")
    return exit_codes.OK


# -- reconcile ------------------------------------------------------------------------------------
async def _reconcile(config: Config) -> int:
    from shopify_bridge.service.bridge import client_for
    from shopify_bridge.service.reconcile import CATEGORIES, reconcile_source
    from shopify_bridge.store import Store

    store = Store.open_reader(config.database)
    console = _console()
    mismatch = False
    for source in config.sources:
        connection = store.reads.orders.source_connection(source.shop_domain)
        if connection is None or connection.first_connected_at is None:
            console.print(f"{source.name}: never connected yet — nothing to reconcile")
            continue
        tz = connection.timezone or "UTC"
        if source.start_date is not None:
            from zoneinfo import ZoneInfo

            since = datetime.combine(source.start_date, datetime.min.time(), tzinfo=ZoneInfo(tz))
        else:
            since = connection.first_connected_at
        client = client_for(source)
        async with client:
            days = await reconcile_source(client, store, source.shop_domain, tz, since, datetime.now(UTC))
        table = Table("day", "shopify", *CATEGORIES, "", title=f"{source.name} ({tz})", title_justify="left")
        for day in days:
            table.add_row(
                day.day.isoformat(), str(day.shopify), *(str(day.local[c]) for c in CATEGORIES), "✓" if day.ok else "✗"
            )
        console.print(table)
        for day in days:
            if not day.ok:
                mismatch = True
                for name in day.missing:
                    console.print(f"  {day.day}: {name} is in Shopify but not accounted for")
                for name in day.extra:
                    console.print(f"  {day.day}: {name} is accounted for but Shopify does not count it")
    if mismatch:
        console.print("reconcile: mismatch")
        return exit_codes.RECONCILE_MISMATCH
    console.print("reconcile: every order accounted for")
    return exit_codes.OK


def reconcile(config: Config) -> int:
    return asyncio.run(_reconcile(config))


__all__ = ["check", "demo", "events", "explain", "reconcile", "replay", "run", "simulate", "tui"]


# -- tui / demo / simulate -------------------------------------------------------------------------
def _log_to_file(path: Path) -> None:
    """While the dashboard owns the terminal, log lines go to a file instead of garbling the screen."""
    from shopify_bridge.observe.log import configure_logging

    path.parent.mkdir(parents=True, exist_ok=True)
    configure_logging(json_logs=True, stream=open(path, "a", encoding="utf-8"))  # noqa: SIM115


async def _tui(config: Config, attach: bool) -> int:
    from tui.runner import run_dashboard

    if attach:
        await run_dashboard(config)
        return exit_codes.OK
    from shopify_bridge.service.actions import BridgeActions
    from shopify_bridge.service.bridge import Bridge

    _log_to_file(Path(config.database).with_suffix(".log"))
    bridge = Bridge(config)
    try:
        await run_dashboard(config, bridge=bridge, stop=asyncio.Event(), actions=BridgeActions(bridge))
    finally:
        bridge.close()
    return exit_codes.OK


def tui(config: Config, *, attach: bool = False) -> int:
    return asyncio.run(_tui(config, attach))


def demo(*, headless: bool = False, out: Path | None = None, duration: float | None = None) -> int:
    from shopify_bridge.cli.demo import run_demo

    out_dir = (out or Path("demo-output")).resolve()
    if not headless:
        _log_to_file(out_dir / "demo.log")
    return asyncio.run(run_demo(out_dir, headless=headless, duration=duration))


async def _simulate(host: str, port: int, orders: int, seed: int) -> None:
    from shopify_bridge.simulator.server import serve_forever

    stop = asyncio.Event()
    install_stop_signals(stop)
    await serve_forever(host, port, stop=stop, orders=orders, seed=seed)


def simulate(*, host: str = "127.0.0.1", port: int = 8787, orders: int = 50, seed: int = 0) -> int:
    try:
        asyncio.run(_simulate(host, port, orders, seed))
    except OSError as exc:
        raise BridgeError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", exit_code=exit_codes.UNAVAILABLE
        ) from None
    return exit_codes.OK
