"""The real program: `run --metrics-port 0` beside `simulate`, scraped, then stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from shopify_bridge.cli.app import main
from tests.ops.scrape import SOURCE, WAIT_SECONDS, wait_until

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def program(*args: str, env: dict[str, str] | None = None) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shopify_bridge", *args, cwd=REPO, env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def line_matching(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> re.Match[str]:
    """Read lines (kept in `seen`) until one matches `pattern`; bounded in time."""
    async def read() -> re.Match[str]:
        while True:
            raw = await stream.readline()
            if not raw:
                raise AssertionError(f"stream ended before a line matching {pattern!r}: {seen[-5:]}")
            seen.append(raw.decode().rstrip("\n"))
            match = re.search(pattern, seen[-1])
            if match:
                return match

    return await asyncio.wait_for(read(), timeout=WAIT_SECONDS * 2)


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "shopify-bridge.toml"
    path.write_text(
        f'database = "bridge.db"\n\n[[sources]]\nname = "{SOURCE}"\nstore = "sim-snowboards"\n'
        f'access_token = "${{SHOPIFY_ACCESS_TOKEN}}"\napi_url = "{url}"\npoll_interval_seconds = 0.2\n\n'
        '[[destinations]]\nname = "events-file"\ntype = "jsonl"\npath = "events.jsonl"\n'
    )
    return path


async def test_run_serves_metrics_and_healthz_logs_json_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with program("simulate", "--port", "0", "--orders", "2") as simulator:
        assert simulator.stdout is not None
        printed: list[str] = []
        url = (await line_matching(simulator.stdout, r"listening on (http://\S+)", printed))[1]
        token = (await line_matching(simulator.stdout, r"access token: (\S+)", printed))[1]
        config = write_config(tmp_path, url)
        async with program("--config", str(config), "run", "--metrics-port", "0",
                           env={"SHOPIFY_ACCESS_TOKEN": token}) as bridge, aiohttp.ClientSession() as http:
            assert bridge.stderr is not None
            logged: list[str] = []
            serving = await line_matching(bridge.stderr, r'"serving /metrics and /healthz"', logged)
            base = json.loads(serving.string)["url"]
            assert base.startswith("http://127.0.0.1:")               # loopback unless --metrics-host

            async def polled() -> bool:
                async with http.get(f"{base}/metrics") as response:
                    text = await response.text()
                return re.search(rf'shopify_bridge_polls_total{{outcome="ok",source="{SOURCE}"}} [1-9]', text) \
                    is not None

            await wait_until(polled, "a successful poll on /metrics", timeout=WAIT_SECONDS * 2)
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"

            bridge.send_signal(signal.SIGTERM)
            _, rest = await asyncio.wait_for(bridge.communicate(), timeout=WAIT_SECONDS * 2)
            assert bridge.returncode == 0
        logged += rest.decode().splitlines()
        simulator.send_signal(signal.SIGTERM)
        await asyncio.wait_for(simulator.wait(), timeout=WAIT_SECONDS)
        assert simulator.returncode == 0

    records: list[dict[str, Any]] = [json.loads(line) for line in logged]     # stderr is not a TTY: JSON lines
    assert any(r["event"].startswith("stopping") for r in records)
    assert all(r.get("source") == SOURCE for r in records if r.get("component") in ("poller", "shopify", "bridge"))
    assert token not in "\n".join(logged)


def test_metrics_port_with_once_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_unused_0000")
    config = write_config(tmp_path, "http://127.0.0.1:9")
    code = main(["--config", str(config), "run", "--once", "--metrics-port", "9464"])
    assert code == 2
    assert "--metrics-port" in capsys.readouterr().err
