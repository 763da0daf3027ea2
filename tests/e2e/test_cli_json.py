"""`--json` of check, events, explain and reconcile: one document on stdout whose keys are exactly the
ones docs/commands.md lists for it (read from the committed file, compared with real output)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shopify_bridge import exit_codes
from tests.e2e.cli_support import cli, write_cli_config
from tests.threaded_simulator import threaded_simulator

REPO = Path(__file__).resolve().parents[2]
TOKEN = "shpat_json_canary_52dd"
LEAF_TYPES = ("any JSON value",)

pytestmark = pytest.mark.usefixtures("restore_logging", "settle_now")


def documented(command: str) -> tuple[str, dict[str, str]]:
    """(shape sentence, {key path: type}) of `command --json` as docs/commands.md describes it."""
    text = (REPO / "docs" / "commands.md").read_text()
    section = text.split(f"### `shopify-bridge {command} --json`", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \| (.*) \|$", section, re.MULTILINE)
    assert rows, f"no key table for {command}"
    for path, _kind, description in rows:
        assert description.strip(), f"{command}: {path} is not described"
    return section.strip().splitlines()[0], {path: kind.strip() for path, kind, _ in rows}


def key_paths(value: Any, leaves: set[str], prefix: str = "") -> set[str]:
    """Every key path in `value` (`a[].b` for the key b of the elements of array a), not below `leaves`."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            paths.add(path)
            if path not in leaves:
                paths |= key_paths(item, leaves, f"{path}.")
    elif isinstance(value, list):
        base = prefix[:-1] + "[]." if prefix else ""
        for item in value:
            paths |= key_paths(item, leaves, base)
    return paths


def assert_documented(command: str, output: Any) -> None:
    shape, keys = documented(command)
    assert isinstance(output, list) == shape.startswith("An array")
    leaves = {path for path, kind in keys.items() if kind in LEAF_TYPES}
    assert key_paths(output, leaves) == set(keys)


@pytest.fixture
def busy_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """A source with an order, its refund and their events, so that every list in every document is filled."""
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    with threaded_simulator(token=TOKEN, orders=2, search_lag_seconds=0) as simulator:
        assert simulator.sim is not None
        state = simulator.sim.state
        config = str(write_cli_config(tmp_path, simulator.url))
        assert cli(capsys, "--config", config, "run", "--once")[0] == exit_codes.OK
        order = simulator.call(state.create_order, sourceName="web", test=False, tags=["vip"])
        line = order["lineItems"][0]
        refund = [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}]
        simulator.call(state.refund, order["id"], refund, note="json")
        assert cli(capsys, "--config", config, "run", "--once")[0] == exit_codes.OK
        yield config, order


def test_every_json_document_has_exactly_the_documented_keys(busy_config: Any, capsys: Any) -> None:
    config, order = busy_config
    today = datetime.now(ZoneInfo("America/Toronto")).date().isoformat()
    for command, args in (
        ("check", ["check", "--json"]),
        ("events", ["events", "--json"]),
        ("explain", ["explain", order["name"], "--json"]),
        ("reconcile", ["reconcile", "--until", today, "--json"]),
    ):
        code, out, _err = cli(capsys, "--config", config, *args)
        assert code == exit_codes.OK, (command, _err)
        document = json.loads(out)  # one document: anything else on stdout would not parse
        assert_documented(command, document)


def test_a_failing_command_still_prints_one_document(busy_config: Any, capsys: Any, tmp_path: Path) -> None:
    config, _order = busy_config
    text = Path(config).read_text().replace('path = "events.jsonl"', 'path = "events.jsonl/inside"')
    Path(config).write_text(text)
    (Path(config).parent / "events.jsonl").write_text("")  # now the parent of the path is a file
    code, out, _err = cli(capsys, "--config", config, "check", "--json")
    assert code == exit_codes.CONFIG
    document = json.loads(out)
    assert (document["ok"], document["exit_code"]) == (False, exit_codes.CONFIG)
    assert_documented("check", document)
