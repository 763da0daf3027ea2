"""`Type=notify`: `run` says READY=1 after its first cycle, pings the watchdog while it makes progress, withholds
the ping when a cycle is stuck or the store takes no writes, and says STOPPING=1 on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopify_bridge.observe.systemd import SystemdNotifier, keep_informed
from shopify_bridge.simulator.server import SimulatorServer
from tests.ops.test_deploy import unit_entries

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
TOKEN = "shpat_notify_canary_2f9c"


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    yield path, sock
    sock.close()


async def next_message(sock: socket.socket, timeout: float = 10.0) -> dict[str, str]:
    data = await asyncio.wait_for(asyncio.get_running_loop().sock_recv(sock, 4096), timeout)
    return dict(line.split("=", 1) for line in data.decode().splitlines())


def test_the_notifier_follows_the_environment_systemd_sets() -> None:
    assert SystemdNotifier.from_env({}) is None
    notifier = SystemdNotifier.from_env({"NOTIFY_SOCKET": "@bridge", "WATCHDOG_USEC": "3000000"})
    assert notifier is not None and notifier.address == "\0bridge" and notifier.watchdog_seconds == 3.0
    other = SystemdNotifier.from_env({"NOTIFY_SOCKET": "/run/n", "WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"})
    assert other is not None and other.watchdog_seconds is None              # the watchdog is another process's
    assert SystemdNotifier("/nonexistent/socket").send("READY=1") is False   # logged, never raised


async def test_the_watchdog_ping_is_withheld_while_a_cycle_is_stuck_or_the_store_refuses_writes(
    notify_socket: tuple[str, socket.socket],
) -> None:
    path, sock = notify_socket
    stop, ready = asyncio.Event(), asyncio.Event()
    stuck: list[str] = []
    problem: list[str] = []
    task = asyncio.create_task(keep_informed(
        SystemdNotifier(path, watchdog_seconds=0.2), stop, ready=ready, stuck=lambda limit: list(stuck),
        store_problem=lambda: problem[0] if problem else None, status=lambda: "Store A: polling",
    ))
    try:
        first = await next_message(sock)
        assert "READY" not in first and first["WATCHDOG"] == "1"             # alive while starting, not ready
        ready.set()
        assert (await next_message(sock))["READY"] == "1"
        stuck.append("Store A")
        withheld = await next_message(sock)
        assert "WATCHDOG" not in withheld and withheld["STATUS"] == "no progress: Store A"
        stuck.clear()
        problem.append("database is locked")
        withheld = await next_message(sock)
        assert "WATCHDOG" not in withheld and withheld["STATUS"] == "store: database is locked"
        problem.clear()
        assert (await next_message(sock))["WATCHDOG"] == "1"
    finally:
        stop.set()
        await task
    while (message := await next_message(sock)).get("STOPPING") != "1":
        pass
    assert message["STATUS"] == "stopping"


async def test_run_is_ready_after_its_first_cycle_pings_the_watchdog_and_says_stopping(
    tmp_path: Path, notify_socket: tuple[str, socket.socket]
) -> None:
    path, sock = notify_socket
    async with SimulatorServer(token=TOKEN, orders=1, search_lag_seconds=0) as sim:
        config = tmp_path / "shopify-bridge.toml"
        config.write_text(f'database = "bridge.db"\n\n[[sources]]\nname = "Notified"\nstore = "sim-snowboards"\n'
                          f'access_token = "${{SHOPIFY_ACCESS_TOKEN}}"\napi_url = "{sim.url}"\n')
        env = {**os.environ, "SHOPIFY_ACCESS_TOKEN": TOKEN, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "shopify_bridge", "--config", str(config), "run", cwd=REPO, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            while "READY" not in (message := await next_message(sock, timeout=30)):
                pass
            reader = sqlite3.connect(f"file:{tmp_path / 'bridge.db'}?mode=ro", uri=True)
            polled = reader.execute("SELECT last_poll_ok_at FROM sources").fetchall()
            reader.close()
            assert polled and polled[0][0] is not None                        # the first cycle is over
            assert message["STATUS"] == "Notified: polling"
            pings = [await next_message(sock) for _ in range(3)]
            assert all(p["WATCHDOG"] == "1" for p in pings)
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=10)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, err.decode()
    while (message := await next_message(sock)).get("STOPPING") != "1":
        pass


def test_the_unit_is_type_notify_with_a_watchdog() -> None:
    unit = unit_entries()
    assert unit["Service.Type"] == ["notify"] and unit["Service.NotifyAccess"] == ["main"]
    assert unit["Service.WatchdogSec"] == ["15min"]
