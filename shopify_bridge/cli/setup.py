"""Getting started: `init` (write the example config) and `check` (can each source reach its shop?)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from shopify_bridge import exit_codes
from shopify_bridge.errors import BridgeError

if TYPE_CHECKING:
    from shopify_bridge.config import Config, Source

APP_NAME = "shopify-bridge"
EXAMPLE_CONFIG = "example-config.toml"
CHECK_TIMEOUT_SECONDS = 10.0
CHECK_RETRIES = 1


# -- init -----------------------------------------------------------------------------------------
def example_config_text() -> str:
    """The commented example config shipped with the package (every key of the contract)."""
    return resources.files("shopify_bridge.config").joinpath(EXAMPLE_CONFIG).read_text(encoding="utf-8")


def write_example_config(target: Path, *, force: bool) -> None:
    """Write the example config to `target`, readable by its owner only; never overwrite unless `force`."""
    text = example_config_text()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if force:
            partial = target.with_name(f".{target.name}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.chmod(0o600)
            partial.replace(target)
        else:
            # "x" refuses an existing file atomically, so a concurrent writer cannot be clobbered.
            with open(target, "x", encoding="utf-8") as handle:
                handle.write(text)
            target.chmod(0o600)
    except FileExistsError:
        raise BridgeError(
            f"{target} already exists; use --force to overwrite it", exit_code=exit_codes.USAGE
        ) from None
    except OSError as exc:
        raise BridgeError(f"cannot write {target}: {exc.strerror}") from None


def init(target: Path, *, force: bool) -> str:
    """Write the example config to `target` (a directory gets `shopify-bridge.toml`); returns the next steps."""
    if target.is_dir():
        target = target / f"{APP_NAME}.toml"
    write_example_config(target, force=force)
    config_option = "" if target == Path(f"{APP_NAME}.toml") else f" --config {target}"
    return (
        f"Wrote {target}\n"
        "Next steps:\n"
        f"  1. Edit {target}: set `store` (and `name`) in the [[sources]] table to your store.\n"
        "  2. export SHOPIFY_ACCESS_TOKEN=...  (the Admin API token of your custom app; it is never\n"
        "     written to the file or printed)\n"
        f"  3. {APP_NAME}{config_option} check   (reaches the shop, checks the token and its scopes)\n"
        f"  4. {APP_NAME}{config_option} run     (headless; or `tui` for the dashboard)\n"
        f"No store at hand? `{APP_NAME} demo` runs everything against the built-in simulator."
    )


# -- check ----------------------------------------------------------------------------------------
async def _check(config: Config, *, as_json: bool = False, send_test: bool = False) -> int:
    from shopify_bridge.cli.console import console, print_json
    from shopify_bridge.cli.json_output import (
        CheckJson,
        CheckLineJson,
        DestinationCheckJson,
        SourceCheckJson,
        dump,
    )
    from shopify_bridge.cli.output import check_table, destinations_table
    from shopify_bridge.service.check import CheckReport, check_source
    from shopify_bridge.service.check_destinations import probe_destinations
    from shopify_bridge.service.clients import client_for
    from shopify_bridge.service.destination_check import check_destinations
    from shopify_bridge.service.local_files import storage_problem, wide_mode_warnings

    problem = storage_problem(config)  # what `run` would refuse with 78, said before contacting any shop
    if problem is not None:
        raise BridgeError(problem, exit_code=exit_codes.CONFIG)
    for warning in wide_mode_warnings(config):
        print(warning, file=sys.stderr)

    async def one(source: Source) -> CheckReport:
        # An operator waits at the terminal: one retry and a short timeout answer an unreachable shop in
        # seconds instead of the half-minute of retries that keep a running bridge polling through a blip.
        client = client_for(source, timeout_seconds=CHECK_TIMEOUT_SECONDS, max_temporary_retries=CHECK_RETRIES)
        async with client:
            return await check_source(
                client, source.name, source.shop_domain, start_date=source.start_date, today=datetime.now(UTC).date()
            )

    reports = [await one(source) for source in config.sources]
    destinations = await probe_destinations(list(config.destinations))
    credentials = await check_destinations(config.destinations, datetime.now(UTC), send_test=send_test)
    code = exit_codes.most_severe(
        [r.exit_code for r in reports] + [d.exit_code for d in destinations] + [credentials.exit_code]
    )
    if as_json:
        print_json(dump(CheckJson(
            ok=code == exit_codes.OK,
            exit_code=code,
            sources=[
                SourceCheckJson(
                    name=source.name, shop=report.shop, ok=report.ok, exit_code=report.exit_code,
                    shop_name=report.shop_name, currency=report.currency, timezone=report.timezone,
                    rate_limit=report.bucket,
                    checks=[CheckLineJson(label=line.label, ok=line.ok, detail=line.detail) for line in report.lines],
                )
                for source, report in zip(config.sources, reports, strict=True)
            ],
            destinations=[DestinationCheckJson(**vars(d)) for d in destinations],
            credentials=[CheckLineJson(label=line.label, ok=line.ok, detail=line.detail) for line in credentials.lines],
        )))
        return code
    out = console()
    for source, report in zip(config.sources, reports, strict=True):
        out.print(check_table(report, source.name))
    if destinations:
        out.print(destinations_table(destinations))
    if credentials.lines:
        out.print(check_table(credentials, "destination credentials"))
    out.print("all sources and destinations ok" if code == 0 else f"check failed (exit {code})")
    return code


def check(
    config: Config, *, as_json: bool = False, record_cassette: Path | None = None, send_test: bool = False
) -> int:
    from shopify_bridge.cli.recording import recording

    with recording(record_cassette):
        return asyncio.run(_check(config, as_json=as_json, send_test=send_test))
