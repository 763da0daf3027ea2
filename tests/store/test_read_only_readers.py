"""`events`, `explain`, `reconcile` and `tui --attach` read a database on a read-only directory or file system
(SQLite cannot create its SHM file there); `check` and `run` refuse such a database with 78."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import main
from tests.store.read_only import read_only, run_program, run_python
from tests.threaded_simulator import ThreadedSimulator, threaded_simulator, write_config

TOKEN = "shpat_readonly_canary_3b7f"

ATTACH_SNAPSHOT = """
import sys
from datetime import UTC, datetime
from tui.data import DashboardStore
from tui.models import EventFilter
snapshot = DashboardStore(sys.argv[1]).snapshot(datetime.now(UTC), EventFilter())
print(len(snapshot.events))
"""


@pytest.fixture
def simulator() -> Iterator[ThreadedSimulator]:
    with threaded_simulator(token=TOKEN, orders=2, search_lag_seconds=0) as threaded:
        yield threaded


def test_readers_work_and_writers_refuse_on_a_read_only_directory(
    tmp_path: Path, simulator: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    assert simulator.sim is not None
    config = str(write_config(tmp_path, simulator.sim.url, source_name="RO Store", store="sim-snowboards"))
    assert main(["--config", config, "run", "--once"]) == exit_codes.OK
    order = simulator.call(simulator.sim.state.create_order, sourceName="web", test=False, tags=[])
    assert main(["--config", config, "run", "--once"]) == exit_codes.OK
    capsys.readouterr()
    database = tmp_path / "bridge.db"
    assert not Path(f"{database}-shm").exists()                  # the writer closed: no SHM left to read through
    before = sorted(path.name for path in tmp_path.iterdir())
    env = {"SHOPIFY_ACCESS_TOKEN": TOKEN}

    with read_only(tmp_path) as prefix:
        events = run_program(prefix, "--config", config, "events", "--json", env=env)
        assert events.returncode == 0, events.stderr
        assert [e["event_id"] for e in json.loads(events.stdout)] == [order["legacyResourceId"]]

        explained = run_program(prefix, "--config", config, "explain", order["name"], "--json", env=env)
        assert explained.returncode == 0, explained.stderr
        assert json.loads(explained.stdout)["order"]["status"] == "released"

        reconciled = run_program(prefix, "--config", config, "reconcile", env=env)
        assert reconciled.returncode == 0, reconciled.stderr + reconciled.stdout

        snapshot = run_python(prefix, ATTACH_SNAPSHOT, str(database))
        assert snapshot.returncode == 0, snapshot.stderr
        assert snapshot.stdout.strip() == "1"                     # the dashboard's read of `tui --attach`

        for command in (["run", "--once"], ["check"]):
            refused = run_program(prefix, "--config", config, *command, env=env)
            lines = refused.stderr.strip().splitlines()
            assert refused.returncode == exit_codes.CONFIG, refused.stderr
            assert len(lines) == 1 and "not writable" in lines[0] and str(tmp_path) in lines[0], lines

    assert sorted(path.name for path in tmp_path.iterdir()) == before  # nothing was created beside it

