"""The CLI as operators use it, against a simulator running in a background thread."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import main
from tests.threaded_simulator import ThreadedSimulator, threaded_simulator, write_config

TOKEN = "shpat_cli_canary_91ab"
STORE_ADMIN_URL = "https://admin.shopify.com/store/sim-snowboards"  # as operators paste it from the browser


@pytest.fixture
def simulator() -> Iterator[ThreadedSimulator]:
    with threaded_simulator(token=TOKEN, orders=3, search_lag_seconds=0) as threaded:
        yield threaded


def test_run_once_events_explain_replay_reconcile(
    tmp_path: Path, simulator: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    assert simulator.sim is not None
    config = str(write_config(tmp_path, simulator.sim.url, source_name="CLI Store", store=STORE_ADMIN_URL))
    assert main(["--config", config, "run", "--once"]) == exit_codes.OK
    order = simulator.call(
        simulator.sim.state.create_order, sourceName="web", test=False, tags=[], financialStatus="PAID"
    )
    assert main(["--config", config, "run", "--once"]) == exit_codes.OK
    capsys.readouterr()

    assert main(["--config", config, "events", "--json"]) == exit_codes.OK
    [event] = json.loads(capsys.readouterr().out)
    assert event["event_id"] == order["legacyResourceId"]
    assert event["deliveries"] == [
        {
            "destination": "events-file",
            "state": "delivered",
            "reason": None,
            "attempts": 1,
            "last_status": None,
            "last_error": None,
        }
    ]

    assert main(["--config", config, "explain", order["name"], "--json"]) == exit_codes.OK
    explained = json.loads(capsys.readouterr().out)
    assert explained["order"]["status"] == "released"
    assert explained["events"][0]["payload"]["event_id"] == order["legacyResourceId"]

    assert main(["--config", config, "replay", order["legacyResourceId"]]) == exit_codes.OK
    assert main(["--config", config, "run", "--once"]) == exit_codes.OK
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]  # re-sent with the same event_id

    today = datetime.now(ZoneInfo("America/Toronto")).date().isoformat()  # the simulated shop's day
    assert main(["--config", config, "reconcile", "--until", today]) == exit_codes.OK
    assert "every order accounted for" in capsys.readouterr().out

    assert main(["--config", config, "explain", "#99999"]) == exit_codes.USAGE
    assert "no stored order matches" in capsys.readouterr().err
    assert TOKEN not in capsys.readouterr().out


def test_bad_config_is_one_line_and_exit_78(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "shopify-bridge.toml"
    path.write_text('database = "x.db"\n[[sources]]\nname = "A"\nstore = "a"\naccess_token = "t"\nbogus = 1\n')
    assert main(["--config", str(path), "run", "--once"]) == exit_codes.CONFIG
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bogus" in err[0] and str(path) in err[0]
