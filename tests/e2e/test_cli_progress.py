"""Backfill progress bars only beside human log lines on a terminal: never inside `--json-logs` output."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import main
from tests.e2e.cli_support import write_cli_config
from tests.threaded_simulator import ThreadedSimulator, threaded_simulator

TOKEN = "shpat_progress_canary_88ff"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedSimulator]:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("NO_COLOR", "1")
    with threaded_simulator(token=TOKEN, orders=5, search_lag_seconds=0) as threaded:
        yield threaded


def backfilling_run(tmp_path: Path, simulator: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch,
                    stderr: io.StringIO, *options: str) -> str:
    start = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    config = write_cli_config(tmp_path, simulator.url, extra_source=f'start_date = "{start}"\n')
    monkeypatch.setattr(sys, "stderr", stderr)
    assert main([*options, "--config", str(config), "run", "--once"]) == exit_codes.OK
    return stderr.getvalue()


def test_json_logs_on_a_terminal_are_only_json_lines(
    tmp_path: Path, simulator: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = backfilling_run(tmp_path, simulator, monkeypatch, Terminal(), "--json-logs")
    records = [json.loads(line) for line in text.splitlines()]  # a progress bar here would not parse
    assert any(record["event"] == "backfill progress" for record in records)


def test_human_logs_on_a_terminal_get_progress_bars(
    tmp_path: Path, simulator: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = backfilling_run(tmp_path, simulator, monkeypatch, Terminal())
    assert "storing orders" in text  # the bar's label (observe/progress.py)

