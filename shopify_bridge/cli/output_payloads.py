"""How `explain` prints each destination's request for each event (`service.explain_payloads`).

Everything here is data from the store, the shop or the config, so it is printed without markup.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console


def print_destination_payloads(out: Console, payloads: dict[str, dict[str, Any]]) -> None:
    for event_id, per_destination in payloads.items():
        out.print(f"\nper destination, {event_id}:", markup=False, style="bold")
        for destination, view in per_destination.items():
            for line in _lines(destination, view):
                out.print(line, markup=False, highlight=False)


def _lines(destination: str, view: dict[str, Any]) -> list[str]:
    if "method" in view:
        lines = [f"  → {destination}: {view['method']} {view['url']}"]
        lines += [f"    {name}: {value}" for name, value in view["headers"].items()]
        return lines + ["    " + row for row in json.dumps(view["body"], indent=2, ensure_ascii=False).splitlines()]
    if "line" in view:
        return [f"  → {destination}: the event as above, one line appended to {view['path']}"]
    for state in ("filtered", "skipped"):
        if state in view:
            return [f"  → {destination}: not sent, {state} ({view[state]}): {view.get('detail') or ''}".rstrip(": ")]
    if "cannot_build" in view:
        return [f"  → {destination}: cannot be built: {view['cannot_build']}"]
    return [f"  → {destination}: {view.get('not_configured', 'unknown')}"]
