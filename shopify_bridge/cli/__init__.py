"""The command line: the typer app and its error router (`app`), the command groups' bodies (`setup`:
init, check; `run`: run, tui, demo, simulate; `inspect`: explain, events, replay, reconcile), how they
print (`output`), stop signals (`signals`), cassette recording (`recording`) and the demo wiring (`demo`)."""

from shopify_bridge.cli.app import app, main

__all__ = ["app", "main"]
