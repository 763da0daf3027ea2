"""A simulator served from its own event loop in a background thread, for tests of the synchronous CLI.

`shopify_bridge.cli.app.main([...])` blocks and runs its own event loop, so a test that calls it cannot
also await a simulator in its loop. This runs one beside it instead; the test reaches the simulator's
state through `call`, on the simulator's own loop thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shopify_bridge.simulator.server import SimulatorServer

TIMEOUT_SECONDS = 10


class ThreadedSimulator:
    """A `SimulatorServer(**options)` on a loop thread; `prepare(sim)` runs there before it counts as ready."""

    def __init__(self, prepare: Callable[[SimulatorServer], None] | None = None, **options: Any) -> None:
        self.ready = threading.Event()
        self.sim: SimulatorServer | None = None
        self._prepare = prepare
        self._options = options
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    @property
    def url(self) -> str:
        assert self.sim is not None
        return self.sim.url

    def start(self) -> None:
        self._thread.start()
        assert self.ready.wait(timeout=TIMEOUT_SECONDS)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with SimulatorServer(**self._options) as sim:
            if self._prepare is not None:
                self._prepare(sim)
            self.sim = sim
            self.ready.set()
            await self._stop.wait()

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a state change on the simulator's own loop thread."""
        assert self._loop is not None

        async def run() -> Any:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=TIMEOUT_SECONDS)

    def close(self) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=TIMEOUT_SECONDS)


@contextmanager
def threaded_simulator(
    prepare: Callable[[SimulatorServer], None] | None = None, **options: Any
) -> Iterator[ThreadedSimulator]:
    """A started `ThreadedSimulator`, stopped on the way out (the body of a fixture).

    Its shop has no greedy neighbour unless asked: these tests drive commands on the wall clock, where
    another app draining the bucket costs real seconds per command and tests nothing they are about (the
    pacing against one has its own tests on virtual clocks)."""
    threaded = ThreadedSimulator(prepare, **{"competing_app_share": 0.0, **options})
    threaded.start()
    try:
        yield threaded
    finally:
        threaded.close()


def write_config(tmp_path: Path, url: str, *, source_name: str, store: str) -> Path:
    """A one-source config for the CLI: the token from $SHOPIFY_ACCESS_TOKEN, events to events.jsonl."""
    path = tmp_path / "shopify-bridge.toml"
    path.write_text(f"""
database = "bridge.db"

[[sources]]
name = "{source_name}"
store = "{store}"
access_token = "${{SHOPIFY_ACCESS_TOKEN}}"
api_url = "{url}"

[[destinations]]
name = "events-file"
type = "jsonl"
path = "events.jsonl"
""")
    return path
