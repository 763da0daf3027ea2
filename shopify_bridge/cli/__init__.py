"""The command line: the typer app (`app`), its frame — global options and the one error router
(`frame`) —, the command groups' bodies (`setup`: init, check; `run`: run, tui, demo, simulate;
`inspect`: explain, events, replay, reconcile, resync; `migrate`), how they print (`output`), stop
signals (`signals`), cassette recording (`recording`), the demo wiring (`demo`) and the console script
with its start-up (`entry`, `startup`).

`shopify_bridge.cli.main` is `app.main`, imported when first asked for: the console script (`entry`)
imports this package before it lets the app's modules in (see `startup`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from shopify_bridge.cli.app import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
