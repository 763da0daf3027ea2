"""The options several commands share, spelled once: `--source`, `--since`, `--json`, `--record-cassette`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

SourceOption = Annotated[
    str | None, typer.Option("--source", "-s", metavar="NAME", help="Only this source (its name).")
]
SinceOption = Annotated[
    str | None,
    typer.Option("--since", metavar="WHEN", help="ISO date/time (UTC unless it has an offset), or 2h, 3d."),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="One JSON document on stdout (keys: docs/commands.md, JSON output).")
]


RecordCassetteOption = Annotated[
    Path | None,
    typer.Option(
        "--record-cassette",
        metavar="PATH",
        help="Record Shopify's answers into a new VCR cassette at PATH (token filtered, customer data "
        "scrubbed; needs vcrpy).",
    ),
]


def recording(path: Path | None) -> dict[str, Any]:
    """`--record-cassette` reaches the command only when given."""
    return {} if path is None else {"record_cassette": path}
