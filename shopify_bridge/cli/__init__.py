"""The command line: the typer app (`app`), the command bodies (`commands`) and the demo wiring (`demo`)."""

from shopify_bridge.cli.app import app, main

__all__ = ["app", "main"]
