"""The bridge under test as an operator runs it: a config file and a `run` subprocess to kill.

`BridgeProcess` starts `python -m shopify_bridge --config … run` (or the `paged_writes` launcher),
appends its output to one log with a header per process ("generation"), and kills it (SIGKILL) or
stops it (SIGTERM). A child dies with the harness (PR_SET_PDEATHSIG), so none is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
JSONL_DESTINATION = "events-file"
HTTP_DESTINATION = "recorder"
TOKEN_VAR = "CRASH_SIM_TOKEN"
SECRET_VAR = "CRASH_WEBHOOK_SECRET"
GRACEFUL_STOP_SECONDS = 15.0


def write_config(workdir: Path, sim_url: str, recorder_url: str, poll_interval: float, *,
                 database: str = "bridge.db", jsonl: bool = True) -> Path:
    """The harness's config; several processes on one PostgreSQL store get no JSONL destination (one
    file is one process's: each would cut the others' lines it takes for torn)."""
    path = workdir / "shopify-bridge.toml"
    jsonl_destination = f"""
[[destinations]]
name = "{JSONL_DESTINATION}"
type = "jsonl"
path = "events.jsonl"
""" if jsonl else ""
    path.write_text(f"""\
database = "{database}"

[[sources]]
name = "Crash Harness Store"
store = "sim-snowboards"
access_token = "${{{TOKEN_VAR}}}"
api_url = "{sim_url}"
upsell_delay = false
poll_interval_seconds = {poll_interval}

[sources.exclude]
channels = ["pos"]
tags = ["Exclude"]

{jsonl_destination}
[[destinations]]
name = "{HTTP_DESTINATION}"
type = "http"
url = "{recorder_url}"
signing_secret = "${{{SECRET_VAR}}}"
timeout_seconds = 5
""")
    return path


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the harness dies, so no bridge outlives its harness."""
    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class BridgeProcess:
    """Starts the bridge's `run` with the harness's config; its stdout and stderr go to one log."""

    def __init__(
        self, config: Path, env: dict[str, str], log_path: Path, *, paged_writes: bool = False
    ) -> None:
        self.config = config
        self.env = env
        self.log_path = log_path
        self.module = "tests.crash.paged_writes" if paged_writes else "shopify_bridge"
        self.generation = 0
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, label: str) -> None:
        self.generation += 1
        with open(self.log_path, "ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
            log.write(f"\n===== generation {self.generation} at {stamp}: {label} =====\n".encode())
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.module, "--config", str(self.config), "run",
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=self.env, cwd=REPO,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.returncode

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    async def exited_within(self, seconds: float) -> int | None:
        """Wait up to `seconds` for the process to end on its own; its exit code, or None if it runs on."""
        assert self.proc is not None
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(self.proc.wait(), timeout=max(0.0, seconds))
        return None

    async def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> int:
        """SIGTERM and wait; the exit code (killed after GRACEFUL_STOP_SECONDS: -9)."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        code = await self.exited_within(GRACEFUL_STOP_SECONDS)
        if code is None:
            await self.kill()
            return -signal.SIGKILL
        return code
