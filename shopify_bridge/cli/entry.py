"""The `shopify-bridge` console script: `app.main`, its start-up spared the cyclic collector (`startup`)."""

from __future__ import annotations

from shopify_bridge.cli.startup import defer_collection, startup_done, stop_before_start_is_clean


def main() -> int:
    stop_before_start_is_clean()  # a SIGTERM while importing is a clean stop, not a kill
    defer_collection()  # before the app's modules are imported
    try:
        from shopify_bridge.cli.app import main as app_main

        return app_main()
    finally:
        startup_done()  # e.g. after --help or a usage error, before the interpreter's own clean-up
