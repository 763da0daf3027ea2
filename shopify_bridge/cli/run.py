"""Running the bridge: `run` (headless), `tui` (the dashboard), `demo` and `simulate` (the built-in shop)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopify_bridge import exit_codes
from shopify_bridge.cli.console import console
from shopify_bridge.cli.output import cycle_line
from shopify_bridge.cli.signals import install_stop_signals
from shopify_bridge.cli.startup import startup_done
from shopify_bridge.config import Config
from shopify_bridge.errors import BridgeError
from shopify_bridge.observe.log import human_logs

if TYPE_CHECKING:
    from shopify_bridge.service.bridge import Bridge


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
    from shopify_bridge.service.bridge import Bridge

    on_progress = None
    if human_logs():  # bars only beside human log lines: never inside JSON lines or a file
        from shopify_bridge.observe.progress import TerminalProgress

        on_progress = TerminalProgress(console(stderr=True))
    metrics = None
    if metrics_port is not None:  # only then: prometheus_client is start-up time a bridge without it never needs
        from shopify_bridge.observe.metrics import BridgeMetrics

        metrics = BridgeMetrics(config)
    bridge = Bridge(config, on_progress=on_progress, metrics=metrics)
    startup_done()
    try:
        if once:
            cycles = await bridge.run_cycle()
            out = console()
            for cycle in cycles:
                out.print(cycle_line(cycle))
            return exit_codes.most_severe(cycle.exit_code for cycle in cycles)
        if metrics is None:
            await _run_informing_systemd(bridge, stop)
        else:
            from shopify_bridge.observe.health import serving

            async with serving(bridge, metrics, host=metrics_host, port=metrics_port or 0, stale_after=stale_after):
                await _run_informing_systemd(bridge, stop)
        return exit_codes.OK
    finally:
        if on_progress is not None:
            on_progress.stop()
        bridge.close()


async def _run_informing_systemd(bridge: Bridge, stop: asyncio.Event) -> None:
    """`bridge.run(stop)`, telling systemd (`Type=notify`) when it is ready and that it is alive."""
    from shopify_bridge.observe.systemd import SystemdNotifier, keep_informed

    notifier = SystemdNotifier.from_env()
    if notifier is None:
        await bridge.run(stop)
        return

    def status() -> str:
        return "; ".join(f"{s.name}: {s.state}" for s in bridge.status.values())

    informing = asyncio.create_task(keep_informed(
        notifier, stop, ready=bridge.liveness.ready, stuck=bridge.liveness.stuck,
        store_problem=lambda: bridge.store_problem, status=status,
    ))
    try:
        await bridge.run(stop)
    finally:
        stop.set()
        await informing


def run(
    config: Config,
    *,
    once: bool = False,
    metrics_host: str = "127.0.0.1",
    metrics_port: int | None = None,
    stale_after: float | None = None,
    record_cassette: Path | None = None,
) -> int:
    from shopify_bridge.cli.recording import recording

    if not config.sources:
        raise BridgeError("no [[sources]] in the config: nothing to run", exit_code=exit_codes.CONFIG)
    if once and metrics_port is not None:
        raise BridgeError(
            "--metrics-port serves while `run` keeps running; it has no use with --once", exit_code=exit_codes.USAGE
        )
    if record_cassette is not None and not once:
        raise BridgeError("--record-cassette records one cycle: use it with --once", exit_code=exit_codes.USAGE)
    with recording(record_cassette):
        return asyncio.run(_run(config, once, metrics_host, metrics_port, stale_after))


# -- tui / demo / simulate -------------------------------------------------------------------------
def _log_to_file(path: Path) -> None:
    """While the dashboard owns the terminal, log lines go to a file instead of garbling the screen."""
    from shopify_bridge.observe.log import configure_logging
    from shopify_bridge.private_files import open_private_text

    path.parent.mkdir(parents=True, exist_ok=True)
    configure_logging(json_logs=True, stream=open_private_text(path))


async def _tui(config: Config, attach: bool) -> int:
    from tui.runner import run_dashboard

    if attach:
        await run_dashboard(config)
        return exit_codes.OK
    from shopify_bridge.service.actions import BridgeActions
    from shopify_bridge.service.bridge import Bridge

    _log_to_file(config.local_path(".log"))
    bridge = Bridge(config)
    try:
        await run_dashboard(config, bridge=bridge, stop=asyncio.Event(), actions=BridgeActions(bridge))
    finally:
        bridge.close()
    return exit_codes.OK


def tui(config: Config, *, attach: bool = False) -> int:
    return asyncio.run(_tui(config, attach))


def demo(
    *, headless: bool = False, out: Path | None = None, duration: float | None = None, fresh: bool = False
) -> int:
    from shopify_bridge.cli.demo import run_demo
    from shopify_bridge.cli.demo_state import prepare_demo_dir

    out_dir = (out or Path("demo-output")).resolve()
    start = prepare_demo_dir(out_dir, fresh=fresh)
    if not headless:
        _log_to_file(out_dir / "demo.log")
    return asyncio.run(run_demo(out_dir, headless=headless, duration=duration, start=start))


async def _simulate(host: str, port: int, shops: int, options: Any) -> None:
    from shopify_bridge.simulator.server import serve_forever

    stop = asyncio.Event()
    install_stop_signals(stop)
    await serve_forever(host, port, stop=stop, shops=shops, options=options)


def simulate(
    *, host: str = "127.0.0.1", port: int = 8787, orders: int = 50, seed: int = 0, shops: int = 1, **harshness: Any
) -> int:
    from shopify_bridge.simulator.options import SimulatorOptions

    try:
        options = SimulatorOptions.from_cli(seed=seed, orders=orders, **harshness)
    except ValueError as exc:
        raise BridgeError(f"simulate: {exc}", exit_code=exit_codes.USAGE) from None
    try:
        asyncio.run(_simulate(host, port, shops, options))
    except OSError as exc:
        raise BridgeError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}", exit_code=exit_codes.UNAVAILABLE
        ) from None
    return exit_codes.OK
