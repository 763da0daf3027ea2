"""The CLI as a separate process on a real terminal or pipe: `NO_COLOR`, and a reader that went away."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from shopify_bridge import exit_codes
from tests.e2e.cli_support import cli, write_cli_config
from tests.threaded_simulator import ThreadedSimulator, threaded_simulator

REPO = Path(__file__).resolve().parents[2]
TOKEN = "shpat_terminal_canary_64ee"
TIMEOUT = 60
# SGR parameters that set a colour: 30-39 / 40-49 foreground/background (38/48 extended), 90-97 / 100-107 bright.
COLOUR_SGR = re.compile(rb"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")

pytestmark = pytest.mark.usefixtures("restore_logging", "settle_now")


@pytest.fixture
def workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[ThreadedSimulator, str, dict[str, str]]]:
    """A connected source with 30 forwarded orders; (simulator, config, environment for a child process)."""
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", TOKEN)
    with threaded_simulator(token=TOKEN, orders=1, search_lag_seconds=0) as simulator:
        assert simulator.sim is not None
        config = str(write_cli_config(tmp_path, simulator.url))
        assert cli(capsys, "--config", config, "run", "--once")[0] == exit_codes.OK
        for _ in range(30):
            simulator.call(simulator.sim.state.create_order, sourceName="web", test=False, tags=[])
        assert cli(capsys, "--config", config, "run", "--once")[0] == exit_codes.OK
        env = {**os.environ, "PYTHONPATH": str(REPO), "SHOPIFY_ACCESS_TOKEN": TOKEN}
        for name in ("NO_COLOR", "FORCE_COLOR", "SHOPIFY_BRIDGE_CONFIG", "COLUMNS"):
            env.pop(name, None)
        yield simulator, config, env


def command(config: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "shopify_bridge", "--config", config, *args]


def on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """Run `args` with stdout and stderr on a pseudo-terminal; (exit code, everything it wrote)."""
    leader, follower = os.openpty()
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=TIMEOUT), b"".join(chunks)


def into_a_closed_pipe(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Run `args` with stdout a pipe whose reader is already gone (what `| head -1` leaves behind)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(args, stdout=writer, stderr=subprocess.PIPE, env=env, timeout=TIMEOUT, check=False)
    finally:
        os.close(writer)


@pytest.mark.parametrize("args", [["events"], ["events", "--json"], ["explain", "#1002"]])
def test_a_closed_pipe_ends_quietly(workspace: tuple[ThreadedSimulator, str, dict[str, str]], args: list[str]) -> None:
    _simulator, config, env = workspace
    done = into_a_closed_pipe(command(config, *args), env)
    assert (done.returncode, done.stderr) == (exit_codes.OK, b"")


def test_no_color_means_no_colour_anywhere(workspace: tuple[ThreadedSimulator, str, dict[str, str]]) -> None:
    simulator, config, env = workspace
    today = datetime.now(ZoneInfo("America/Toronto")).date().isoformat()
    # Coloured on a terminal without NO_COLOR: check and reconcile marks, run's log lines.
    coloured = [["check"], ["reconcile", "--until", today], ["run", "--once"]]
    runs = [*coloured, ["--help"], ["events", "--bogus"], ["explain", "#1002"]]

    def output(args: list[str], environment: dict[str, str]) -> bytes:
        assert simulator.sim is not None
        simulator.call(simulator.sim.state.create_order, sourceName="web", test=False, tags=[])  # a log line
        return on_a_terminal(command(config, *args), environment)[1]

    def first_coloured(args: list[str]) -> bytes:
        # `run --once` logs (in colour) the order created just before it, once that order is in its window: a
        # window closes SETTLE_SECONDS before now, so an order placed an instant before the process started may
        # wait for the next run. Each further run places another order and reads the earlier ones.
        text = b""
        for _ in range(5):
            text = output(args, env)
            if COLOUR_SGR.search(text):
                break
        return text

    for args in coloured:
        assert COLOUR_SGR.search(first_coloured(args)), f"{args} shows no colour on a terminal: the test proves nothing"
    for args in runs:
        text = output(args, {**env, "NO_COLOR": "1"})
        assert not COLOUR_SGR.search(text), f"{args} is coloured under NO_COLOR: {text[:300]!r}"
