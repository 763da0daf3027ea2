"""The `shopify-bridge` command line: the typer app and the command frames.

Every command is a thin frame: it parses its options, loads the config (all but `init`, `demo` and
`simulate`) and calls the function of the same name in its command group's module
(`COMMAND_MODULES`: `setup`, `run`, `inspect`, `migrate`) as `function(config, **options) -> int | None`
(the exit code). Those modules are imported lazily inside each command, so a missing function fails
only its own command, and `--help` stays fast. Nothing here imports textual: the TUI is loaded by
`run.tui`. The global options, the options that may follow the command and the one error router that
turns exceptions into exit codes are in `frame`; the options several commands share in `options`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shopify_bridge import exit_codes
from shopify_bridge.cli.console import ClosedPipe, pipe_guard, write_out
from shopify_bridge.cli.frame import CliContext, RoutedGroup
from shopify_bridge.cli.options import JsonOption, RecordCassetteOption, SinceOption, SourceOption, recording
from shopify_bridge.cli.setup import APP_NAME, example_config_text
from shopify_bridge.cli.setup import init as write_init
from shopify_bridge.cli.startup import startup_done
from shopify_bridge.errors import BridgeError
from shopify_bridge.literal import visible
from shopify_bridge.observe.log import configure_logging

if TYPE_CHECKING:
    from shopify_bridge.config import Config

app = typer.Typer(
    name=APP_NAME,
    cls=RoutedGroup,
    help="Bridge Shopify orders to a server-side event pipeline (Placed Order, Received Refund).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from shopify_bridge import __version__

        typer.echo(f"{APP_NAME} {__version__}")
        raise typer.Exit(exit_codes.OK)


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="PATH",
            help="Config file (default: $SHOPIFY_BRIDGE_CONFIG, else ./shopify-bridge.toml).",
        ),
    ] = None,
    json_logs: Annotated[
        bool, typer.Option("--json-logs", help="JSON log lines on stderr (default when stderr is not a TTY).")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Debug logging; tracebacks with errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    ctx.obj = CliContext(config_path=config, json_logs=json_logs, debug=debug)
    configure_logging(json_logs=json_logs, debug=debug)


# Each command's body: the function of the same name in this module of `shopify_bridge.cli`.
COMMAND_MODULES = {
    "check": "setup",
    "run": "run",
    "tui": "run",
    "demo": "run",
    "simulate": "run",
    "explain": "inspect",
    "events": "inspect",
    "replay": "inspect",
    "reconcile": "inspect",
    "resync": "inspect",
    "migrate": "migrate",
}


def _run_command(ctx: typer.Context, command: str, /, *, needs_config: bool = True, **options: Any) -> None:
    """Call `shopify_bridge.cli.<group>.<command>(config, **options)` (without `config` when the command
    needs none) and exit with the code it returns."""
    cli: CliContext = ctx.obj
    # The config is loaded first: a broken config is reported as such even where the command is missing.
    arguments = [cli.load_config()] if needs_config else []
    if arguments and command in _ACTING_COMMANDS:
        _refuse_what_is_not_built(arguments[0])
    try:
        group = importlib.import_module(f"shopify_bridge.cli.{COMMAND_MODULES[command]}")
        function = getattr(group, command)
    except (ImportError, AttributeError) as exc:
        raise BridgeError(f"the {command} command is not available in this build ({exc})") from exc
    if command not in _STARTUP_ENDS_INSIDE:
        startup_done()
    code = function(*arguments, **options)
    raise typer.Exit(int(code or exit_codes.OK))


# Commands whose start-up goes on after their module is imported: `run` builds the bridge first.
_STARTUP_ENDS_INSIDE = frozenset({"run"})


# Commands that act on every key of the config; a key this build cannot honour yet must stop them.
_ACTING_COMMANDS = frozenset({"check", "run", "tui", "resync"})


def _refuse_what_is_not_built(config: Config) -> None:
    missing = config.not_supported_yet()
    if missing:
        raise BridgeError(f"not supported yet: {'; '.join(missing)}", exit_code=exit_codes.CONFIG)


# --- init ---------------------------------------------------------------------------------------------------


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(help="Where to write it (default: the --config path, else ./shopify-bridge.toml)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented example config."""
    cli: CliContext = ctx.obj
    target = path.expanduser() if path is not None else cli.config_file()
    write_out(visible(write_init(target, force=force), keep="\n") + "\n")


# --- the commands implemented in the command groups (COMMAND_MODULES) --------------------------------------


@app.command()
def check(
    ctx: typer.Context,
    as_json: JsonOption = False,
    record_cassette: RecordCassetteOption = None,
    send_test: Annotated[
        bool, typer.Option("--send-test", help="Also send a sample event to GA4's validation server.")
    ] = False,
) -> None:
    """Validate the config; per source: reach the shop, check the token and its scopes; per destination: its
    credential shape, and a probe (http-like: TLS and an answer to HEAD, nothing sent; jsonl: the file can be
    written). Exit 69 when a destination is unreachable, 78 when a credential looks wrong or a file destination
    cannot be written."""
    # Passed only when given, like --record-cassette: a check without options calls check(config).
    options = {"send_test": True} if send_test else {}
    _run_command(ctx, "check", as_json=as_json, **recording(record_cassette), **options)


@app.command()
def run(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="One cycle (poll, release due holds, deliver pending), then exit.")
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", metavar="PORT", min=0, max=65535,
                     help="Serve Prometheus /metrics and /healthz on this port (0: any free port)."),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", metavar="HOST", help="Interface for --metrics-port.")
    ] = "127.0.0.1",
    stale_after: Annotated[
        float | None,
        typer.Option("--stale-after", metavar="SECONDS", min=1,
                     help="/healthz: a source without a successful poll for this long is stale "
                          "(default: 3 × its poll interval + 60)."),
    ] = None,
    record_cassette: RecordCassetteOption = None,
) -> None:
    """Run headless: backfill if due, then poll, release holds and deliver; SIGTERM/SIGINT stop cleanly."""
    serve: dict[str, Any] = {}
    if metrics_port is not None:  # the metrics options mean something only with a port
        serve = {"metrics_port": metrics_port, "metrics_host": metrics_host, "stale_after": stale_after}
    _run_command(ctx, "run", once=once, **serve, **recording(record_cassette))


@app.command()
def tui(
    ctx: typer.Context,
    attach: Annotated[
        bool, typer.Option("--attach", help="Watch the database of a headless `run` instead of running.")
    ] = False,
) -> None:
    """The dashboard: sources, upsell holds, forwarded events, exclusions and errors."""
    _run_command(ctx, "tui", attach=attach)


@app.command()
def demo(
    ctx: typer.Context,
    headless: Annotated[bool, typer.Option("--headless", help="No dashboard; log to stderr.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Where the demo database and events go.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option("--duration", metavar="SECONDS", help="Stop after this long (default: never).")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start over: remove the previous demo's database and events first.")
    ] = False,
) -> None:
    """Start the built-in Shopify simulator with generated orders and a source connected to it.

    A second demo in the same directory continues from the first one's database (it says so); --fresh
    starts over."""
    _run_command(ctx, "demo", needs_config=False, headless=headless, out=out, duration=duration, fresh=fresh)


@app.command()
def simulate(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free port).")] = 8787,
    orders: Annotated[int, typer.Option("--orders", min=0, help="Generated orders to start with.")] = 50,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated data.")] = 0,
    harsh: Annotated[bool, typer.Option("--harsh", help="Shopify at its worst (see docs/simulator.md).")] = False,
    shops: Annotated[int, typer.Option("--shops", min=1, help="Independent shops, one path prefix each.")] = 1,
    search_lag: Annotated[float | None, typer.Option("--search-lag", help="Constant search lag, seconds.")] = None,
    search_lag_max: Annotated[
        float | None, typer.Option("--search-lag-max", help="Lag drawn per change, up to this many seconds.")
    ] = None,
    competing_app: Annotated[
        float | None, typer.Option("--competing-app", help="Share of the restore rate another app takes (0-1).")
    ] = None,
    refund_split: Annotated[
        int | None, typer.Option("--refund-split", help="Split a refund's money over up to N transactions.")
    ] = None,
    no_read_all_orders: Annotated[
        bool, typer.Option("--no-read-all-orders", help="Without the scope: only the last 60 days.")
    ] = False,
    currency: Annotated[str | None, typer.Option("--currency", help="The shop's currency (CAD, JPY, KWD…).")] = None,
    presentment: Annotated[
        list[str] | None, typer.Option("--presentment", help="A currency buyers may pay in (repeatable).")
    ] = None,
    ignore_range: Annotated[
        bool, typer.Option("--ignore-range", help="Result files ignore HTTP Range (200, whole file).")
    ] = False,
    history_days: Annotated[int | None, typer.Option("--history-days", min=1, help="Days of seeded history.")] = None,
) -> None:
    """Run the built-in Shopify simulator alone; prints its URL and token."""
    # Only the flags given travel on (SimulatorOptions.from_cli holds the defaults).
    harshness = {
        "shops": shops,
        "harsh": harsh,
        "search_lag": search_lag,
        "search_lag_max": search_lag_max,
        "competing_app": competing_app,
        "refund_split": refund_split,
        "no_read_all_orders": no_read_all_orders,
        "currency": currency,
        "presentment": tuple(presentment or ()),
        "ignore_range": ignore_range,
        "history_days": history_days,
    }
    unset = {"shops": 1, "harsh": False, "no_read_all_orders": False, "ignore_range": False, "presentment": ()}
    given = {key: value for key, value in harshness.items() if value is not None and value != unset.get(key)}
    _run_command(ctx, "simulate", needs_config=False, host=host, port=port, orders=orders, seed=seed, **given)


@app.command()
def explain(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(metavar="ORDER", help="Order name (#1001), numeric id or gid.")],
    source: SourceOption = None,
    as_json: JsonOption = False,
) -> None:
    """One order: its versions, exclusion decision, hold state and the event payloads per destination."""
    _run_command(ctx, "explain", order=order, source=source, as_json=as_json)


@app.command()
def events(
    ctx: typer.Context,
    source: SourceOption = None,
    name: Annotated[
        str | None, typer.Option("--name", metavar="EVENT", help='Only this event name ("Placed Order").')
    ] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Only events with a dead delivery.")] = False,
    since: SinceOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many events.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List events, newest first, with their delivery state per destination."""
    _run_command(
        ctx, "events", source=source, name=name, dead=dead, since=since, limit=limit, as_json=as_json
    )


@app.command()
def replay(
    ctx: typer.Context,
    event_ids: Annotated[
        list[str] | None, typer.Argument(metavar="[EVENT_ID]...", help="Event ids to re-send.")
    ] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Re-send every dead delivery.")] = False,
    since: SinceOption = None,
    destination: Annotated[
        str | None, typer.Option("--destination", "-d", metavar="NAME", help="Only to this destination.")
    ] = None,
) -> None:
    """Re-send chosen events (by id, --dead, --since) with the same event_id; refunds follow their order."""
    chosen = list(event_ids or [])
    _run_command(ctx, "replay", event_ids=chosen, dead=dead, since=since, destination=destination)


@app.command()
def reconcile(
    ctx: typer.Context,
    source: SourceOption = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE",
                     help="Last day to cover, YYYY-MM-DD in the shop's timezone (default: yesterday; "
                          "today counts up to now)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Per source and shop day: Shopify's order count against what the bridge did (exit 65 on a mismatch).

    Covers whole days, from start_date (when backfilled) or the first connection, up to yesterday in the
    shop's timezone."""
    _run_command(ctx, "reconcile", source=source, until=until, as_json=as_json)


@app.command()
def migrate(
    ctx: typer.Context,
    to: Annotated[
        str, typer.Option("--to", metavar="URL", help="The PostgreSQL database to copy into (postgresql://…); "
                          "it must hold no store yet.")
    ],
) -> None:
    """Copy this config's SQLite store (every table, cursors, holds, outbox) into PostgreSQL and verify the counts."""
    _run_command(ctx, "migrate", to=to)


@app.command()
def resync(
    ctx: typer.Context,
    source: Annotated[str, typer.Option("--source", "-s", metavar="NAME", help="The source to re-read (its name).")],
    since: Annotated[
        str,
        typer.Option("--since", metavar="DATETIME",
                     help="Re-read orders updated since then: ISO date/time (UTC unless it has an offset), or 6h, 3d."),
    ],
) -> None:
    """Re-read every order of a source updated since then; store what is new, decide what never was, print it."""
    _run_command(ctx, "resync", source=source, since=since)


def main(argv: list[str] | None = None) -> int:
    """The console-script entry point; returns the exit code."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name=APP_NAME, standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        if code is None or isinstance(code, int):
            return _flushed(code or exit_codes.OK)
        print(code, file=sys.stderr)
        return exit_codes.FAILURE
    return _flushed(exit_codes.OK)


def _flushed(code: int) -> int:
    """`code`, once whatever stdout still buffers is written; a reader gone by now changes nothing."""
    try:
        with pipe_guard(sys.stdout):
            sys.stdout.flush()
    except ClosedPipe:
        pass
    return code


__all__ = ["APP_NAME", "COMMAND_MODULES", "app", "example_config_text", "main"]
