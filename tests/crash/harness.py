"""The crash harness: run the real bridge as a subprocess and SIGKILL it at random instants.

The simulator and a recording HTTP receiver run in this process (they must outlive every bridge
process); the bridge is `python -m shopify_bridge --config … run`, exactly as an operator starts
it. Each cycle makes the shop change (before and during the run), lets the bridge run a random
short time and kills it. After each kill the store is read to note which deliveries were in flight
(the only ones allowed to arrive twice). At checkpoints and at the end the bridge runs without a
kill until everything the shop implies is delivered, stops gracefully, and the invariants of
`tests.crash.invariants` are checked.

With `paged_jsonl_writes` the bridge is started through `tests.crash.paged_writes`, which makes
the JSONL destination's write(2) calls small and slow, so that kills tear them as a kill of a large
write can on a real disk; `kill_inside_jsonl_write()` aims a kill at such a write on purpose.

With `processes` > 1 the store is a PostgreSQL database (`database_url`) shared by that many bridge
processes: each cycle SIGKILLs one of them at random (it is started again at the next cycle), the
others take over its shop and its deliveries in flight. The leases are short (`lease_seconds`) so
that takeovers happen within the run; only the HTTP destination is used (a JSONL file is one
process's), and a delivery may arrive twice only if the killed process had it in flight.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shopify_bridge.simulator.server import SimulatorServer
from tests.crash import invariants
from tests.crash.bridge_process import (
    HTTP_DESTINATION,
    JSONL_DESTINATION,
    SECRET_VAR,
    TOKEN_VAR,
    BridgeProcess,
    write_config,
)
from tests.crash.recorder import RecordingServer
from tests.crash.store_view import StoreView, read_store, scan_jsonl
from tests.crash.traffic import ShopTraffic, TrafficCounts

SIGNING_SECRET = "crash-harness-signing-secret"
STORE_POLL_SECONDS = 0.1
# The harness tests crashes, not throttling: a compressed run puts every order inside the poll's
# 60 s overlap, so each poll re-reads all of them; a roomy bucket keeps that from stalling on 2000/100.
SIM_BUCKET_SIZE = 50_000
SIM_RESTORE_RATE = 25_000


@dataclass
class CrashSettings:
    kills: int = 20
    seed: int = 0
    min_run_seconds: float = 0.05
    max_run_seconds: float = 1.5
    changes_per_cycle: int = 2
    """At most this many shop changes before each start (and half as many while it runs)."""
    rush_probability: float = 0.03
    """Chance per cycle of a rush of orders (a large delivery batch). Keep the order rate low: every
    poll re-reads all orders of its 60 s overlap, and a poll longer than a bridge's life makes no
    progress (the cursor advances only after the last page)."""
    fail_first_probability: float = 0.1
    max_answer_delay_seconds: float = 0.1
    paged_jsonl_writes: bool = False
    """Start the bridge through `tests.crash.paged_writes`, so that kills can tear JSONL writes."""
    checkpoint_every: int = 0
    """Run to completion and check every N kills (0: only at the end)."""
    settle_timeout_seconds: float = 30.0
    poll_interval_seconds: float = 0.2
    processes: int = 1
    """Bridge processes at once; more than one needs `database_url` (they share a PostgreSQL store)."""
    database_url: str | None = None
    """A PostgreSQL URL (an empty schema) instead of the SQLite file `bridge.db` in the work directory."""
    lease_seconds: float = 3.0
    """SHOPIFY_BRIDGE_LEASE_SECONDS of the processes on PostgreSQL: a killed one's shop moves within it."""


@dataclass
class CrashReport:
    settings: CrashSettings
    workdir: Path
    kills: int = 0
    kills_with_in_flight: int = 0
    kills_leaving_torn_tail: int = 0
    productive_kills: int = 0
    """Bridge lives, ended by a kill, in which events were created or delivered."""
    traffic: TrafficCounts = field(default_factory=TrafficCounts)
    orders: int = 0
    history_orders: int = 0
    excluded_orders: int = 0
    racy_orders: int = 0
    placed_events: int = 0
    refund_events: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    rejected_500: int = 0
    torn_requests: int = 0
    recovery_seconds: list[float] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        s = self.settings
        lines = [
            f"seed {s.seed} · kills {self.kills} ({self.kills_with_in_flight} with deliveries in flight, "
            f"{self.kills_leaving_torn_tail} leaving a torn jsonl tail, "
            f"{self.productive_kills} after progress) · workdir {self.workdir}",
            f"orders {self.orders} (history {self.history_orders}, excluded {self.excluded_orders}, "
            f"racy {self.racy_orders}) · refunds made {self.traffic.refunds} · "
            f"changes refused {self.traffic.refused}",
            f"events {self.placed_events} Placed Order + {self.refund_events} Received Refund",
            "deliveries " + ", ".join(f"{d}: {n} (raw duplicates {self.duplicates.get(d, 0)})"
                                      for d, n in self.deliveries.items()),
            f"receiver answered 500 {self.rejected_500}× · torn requests {self.torn_requests}",
            f"recovery to fully delivered: max {max(self.recovery_seconds, default=0):.2f}s "
            f"over {len(self.recovery_seconds)} run(s)",
            f"violations: {len(self.violations)}",
        ]
        return "\n".join(lines + [f"  - {v}" for v in self.violations[:40]])


class CrashHarness:
    """`async with CrashHarness(settings, workdir) as harness:` — the shop, the receiver, the bridge.

    `run()` does the whole randomized schedule; tests may instead drive `kill_cycle`,
    `kill_inside_jsonl_write` and `settle_and_check` themselves.
    """

    def __init__(
        self, settings: CrashSettings, workdir: Path, *, progress: Callable[[str], None] | None = None
    ) -> None:
        self.settings = settings
        self.workdir = workdir
        self.progress = progress or (lambda line: None)
        self.rng = random.Random(settings.seed)
        self.report = CrashReport(settings, workdir)
        self.in_flight_at_kills: Counter[tuple[str, str]] = Counter()
        self.kill_sizes: list[int] = []
        self.sim = SimulatorServer(orders=0, seed=settings.seed, search_lag_seconds=0,
                                   bucket_size=SIM_BUCKET_SIZE, restore_rate=SIM_RESTORE_RATE)
        self.recorder = RecordingServer(
            fail_first_probability=settings.fail_first_probability, seed=settings.seed,
            max_answer_delay_seconds=settings.max_answer_delay_seconds, signing_secret=SIGNING_SECRET,
        )
        self.traffic = ShopTraffic(
            self.sim.state, seed=settings.seed, rush_probability=settings.rush_probability
        )
        self.report.traffic = self.traffic.counts
        self.bridges: list[BridgeProcess] = []
        self._progress_mark = (0, 0)  # (events, delivered deliveries) when the last bridge ended
        self._seen_violations: set[str] = set()

    @property
    def jsonl_path(self) -> Path:
        return self.workdir / "events.jsonl"

    @property
    def db_path(self) -> Path:
        return self.workdir / "bridge.db"

    @property
    def database(self) -> Path | str:
        return self.settings.database_url or self.db_path

    @property
    def destinations(self) -> tuple[str | None, str]:
        return (None if self.settings.processes > 1 else JSONL_DESTINATION, HTTP_DESTINATION)

    async def __aenter__(self) -> CrashHarness:
        s = self.settings
        if s.processes > 1 and s.database_url is None:
            raise ValueError("several bridge processes share a PostgreSQL store: give database_url")
        self.workdir.mkdir(parents=True, exist_ok=True)
        await self.sim.start()
        await self.recorder.start()
        config = write_config(
            self.workdir, self.sim.url, self.recorder.url, s.poll_interval_seconds,
            database=s.database_url or "bridge.db", jsonl=s.processes == 1,
        )
        env = {k: v for k, v in os.environ.items() if k != "SHOPIFY_BRIDGE_CONFIG"}
        env.update({TOKEN_VAR: self.sim.token, SECRET_VAR: SIGNING_SECRET,
                    "SHOPIFY_BRIDGE_LEASE_SECONDS": str(s.lease_seconds)})
        logs = ["bridge.log"] if s.processes == 1 else [f"bridge-{n}.log" for n in range(1, s.processes + 1)]
        self.bridges = [BridgeProcess(config, env, self.workdir / log, paged_writes=s.paged_jsonl_writes)
                        for log in logs]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for bridge in self.bridges:
            if bridge.running:
                await bridge.kill()
        await self.recorder.stop()
        await self.sim.stop()

    def _running(self) -> BridgeProcess:
        if not self.bridges:
            raise RuntimeError("use the harness inside `async with`")
        return self.bridges[0]

    async def run(self) -> CrashReport:
        """The randomized schedule: kills, checkpoints every `checkpoint_every` kills, a final run."""
        s = self.settings
        async with self:
            if s.processes > 1:
                await self.warm_up()
            for number in range(1, s.kills + 1):
                if s.processes > 1:
                    await self.kill_one_of_many(number)
                else:
                    await self.kill_cycle(number)
                if s.checkpoint_every and number % s.checkpoint_every == 0 and number < s.kills:
                    await self.settle_and_check(f"checkpoint after kill #{number}")
            await self.settle_and_check(f"final run after {s.kills} kills")
        return self.report

    async def kill_cycle(self, number: int) -> None:
        """Change the shop, start the bridge, change the shop again while it runs, SIGKILL it."""
        s, bridge = self.settings, self._running()
        self.traffic.burst(self.rng.randint(0, s.changes_per_cycle))
        run_for = self.rng.uniform(s.min_run_seconds, s.max_run_seconds)
        change_at = self.rng.uniform(0, run_for)
        await bridge.start(f"kill #{number} after {run_for:.3f}s")
        code = await bridge.exited_within(change_at)
        if code is None:
            self.traffic.burst(self.rng.randint(0, s.changes_per_cycle // 2))  # changes while it works
            code = await bridge.exited_within(run_for - change_at)
        if code is not None:
            self._violation(f"kill #{number}: the bridge exited on its own with code {code} (see bridge.log, "
                            f"generation {bridge.generation})")
        await bridge.kill()
        self._after_kill(f"kill #{number} after {run_for:.2f}s")

    async def warm_up(self) -> None:
        """Start every process and wait for the shop's first connection: the kills then hit a running
        system (processes take a second or two to start, more on a busy machine)."""
        for index, bridge in enumerate(self.bridges, start=1):
            await bridge.start(f"process {index} started")
        deadline = time.monotonic() + self.settings.settle_timeout_seconds
        while read_store(self.database).first_connected_at is None:
            if time.monotonic() > deadline:
                self._violation("no process connected the shop within the settle timeout")
                return
            await asyncio.sleep(STORE_POLL_SECONDS)

    async def kill_one_of_many(self, number: int) -> None:
        """Every process runs (a killed one is started again); the shop changes; one of them, chosen at
        random, is SIGKILLed after a random time while the others go on."""
        s = self.settings
        for index, bridge in enumerate(self.bridges, start=1):
            if not bridge.running:
                await bridge.start(f"process {index} (re)started before kill #{number}")
        self.traffic.burst(self.rng.randint(0, s.changes_per_cycle))
        run_for = self.rng.uniform(s.min_run_seconds, s.max_run_seconds)
        await asyncio.sleep(run_for / 2)
        self.traffic.burst(self.rng.randint(0, s.changes_per_cycle // 2))  # changes while they work
        await asyncio.sleep(run_for / 2)
        for index, bridge in enumerate(self.bridges, start=1):
            if not bridge.running:
                self._violation(f"kill #{number}: process {index} exited on its own with code "
                                f"{bridge.returncode} (see {bridge.log_path.name}, generation {bridge.generation})")
        victim = self.rng.choice([bridge for bridge in self.bridges if bridge.running] or self.bridges)
        pid = victim.pid
        await victim.kill()
        self._after_kill(f"kill #{number}: process {self.bridges.index(victim) + 1} after {run_for:.2f}s", pid=pid)

    async def kill_inside_jsonl_write(self, orders: int = 30, timeout: float = 20.0) -> bool:
        """Create `orders` orders, start the bridge and SIGKILL it while its JSONL write is under way.

        Needs `paged_jsonl_writes` (else the write is too quick to hit). True when the kill left
        the file ending in a torn line.
        """
        bridge = self._running()
        for _ in range(orders):
            self.traffic.new_order("web")
        await bridge.start(f"kill inside a jsonl write of {orders} events")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await bridge.exited_within(0.005) is not None:
                break
            writing = read_store(self.database).payloads(JSONL_DESTINATION, "in_flight")
            if writing and _ends_torn(self.jsonl_path):
                break
        await bridge.kill()
        self._after_kill("kill aimed inside a jsonl write")
        return _ends_torn(self.jsonl_path)

    def _after_kill(self, label: str, *, pid: int | None = None) -> None:
        """After a kill: what the killed process (`pid`; None: the only one) had in flight may arrive twice."""
        self.report.kills += 1
        store = read_store(self.database)
        caught = store.in_flight(pid)
        self.in_flight_at_kills.update(caught)
        self.report.kills_with_in_flight += bool(caught)
        self.report.kills_leaving_torn_tail += _ends_torn(self.jsonl_path)
        self.kill_sizes.append(self.jsonl_path.stat().st_size if self.jsonl_path.exists() else 0)
        self.report.productive_kills += self._advance_progress_mark(store)
        self.progress(f"{label}: {len(caught)} deliveries in flight, {len(store.events)} events stored")

    async def settle_and_check(self, label: str) -> None:
        """Run the bridge(s) until everything is delivered, stop with SIGTERM, check every invariant."""
        self._running()
        started = time.monotonic()
        since = datetime.now(UTC).isoformat(timespec="seconds")
        for bridge in self.bridges:
            if not bridge.running:
                await bridge.start(label)
        gaps, recovered_at = await self._wait_complete(since)
        codes = [await bridge.stop() for bridge in self.bridges]
        code = next((c for c in codes if c != 0), 0)
        if gaps:
            self._violation(f"{label}: not complete after {self.settings.settle_timeout_seconds:g}s: "
                            f"{len(gaps)} gap(s), first: {gaps[:3]}")
        if recovered_at is not None:
            self.report.recovery_seconds.append(recovered_at - started)
        if code != 0:
            self._violation(f"{label}: graceful stop exited with code {code} (see bridge.log)")
        self._check(label)
        took = "not complete" if recovered_at is None else f"complete in {recovered_at - started:.2f}s"
        self.progress(f"{label}: {took}, stop exit {code}")

    async def _wait_complete(self, since: str) -> tuple[list[str], float | None]:
        """Poll the store until everything is delivered and this run has polled the shop after `since`.

        Returns the gaps left at the deadline (none: complete) and when the store was first seen
        complete (the recovery time; the poll marker has one-second resolution, so it is waited
        for without counting it).
        """
        deadline = time.monotonic() + self.settings.settle_timeout_seconds
        orders = self.sim.state.orders()  # the shop does not change while the bridge settles
        gaps: list[str] = ["not checked yet"]
        recovered_at: float | None = None
        while time.monotonic() < deadline:
            await asyncio.sleep(STORE_POLL_SECONDS)
            for bridge in self.bridges:
                if not bridge.running:
                    return [f"{bridge.log_path.name}: the bridge exited on its own with code {bridge.returncode}"], None
            store = read_store(self.database)
            exp = invariants.expectations(orders, self.traffic.orders, store)
            gaps = exp.undecided + [f"event {e} not created" for e in exp.required if e not in store.events]
            gaps += [f"delivery of {e} to {d} is {state}" for e, d, state in store.undelivered()]
            if not gaps:
                jsonl = scan_jsonl(self.jsonl_path)
                gaps = invariants.missing(exp, store, jsonl, self.recorder, self.destinations)
            if gaps:
                recovered_at = None  # not complete after all (a late poll found more)
                continue
            recovered_at = recovered_at or time.monotonic()
            if store.last_poll_ok_at is not None and store.last_poll_ok_at > since:
                return [], recovered_at
            gaps = [f"no successful poll since {since} (last: {store.last_poll_ok_at})"]
        return gaps, None

    def _advance_progress_mark(self, store: StoreView) -> bool:
        delivered = sum(state == "delivered" for state in store.delivery_state.values())
        mark = (len(store.events), delivered)
        moved, self._progress_mark = mark != self._progress_mark, mark
        return moved

    def _check(self, label: str) -> None:
        store = read_store(self.database)
        self._advance_progress_mark(store)
        orders = self.sim.state.orders()
        exp = invariants.expectations(orders, self.traffic.orders, store)
        found = invariants.check(exp, store, scan_jsonl(self.jsonl_path), self.recorder, self.destinations,
                                 self.in_flight_at_kills, self.kill_sizes)
        r = self.report
        r.orders = len(orders)
        r.history_orders, r.excluded_orders = exp.history_orders, exp.excluded_orders
        r.racy_orders = exp.racy_orders
        r.placed_events, r.refund_events = found.placed_events, found.refund_events
        r.deliveries, r.duplicates = found.copies, found.duplicates
        r.rejected_500, r.torn_requests = self.recorder.rejected(), self.recorder.torn()
        for violation in found.violations:
            self._violation(violation, label=label)
        for bridge in self.bridges:
            log = bridge.log_path
            text = log.read_text(errors="replace") if log.exists() else ""
            for name, secret in (("access token", self.sim.token), ("signing secret", SIGNING_SECRET)):
                if secret in text:
                    self._violation(f"the {name} appears in {log.name}", label=label)

    def _violation(self, text: str, *, label: str = "") -> None:
        """Record a violation once: a later checkpoint sees an earlier one's damage again."""
        if text in self._seen_violations:
            return
        self._seen_violations.add(text)
        self.report.violations.append(f"{label}: {text}" if label else text)
        self.progress(f"VIOLATION {self.report.violations[-1]}")


def _ends_torn(path: Path) -> bool:
    """The file ends inside a line: the last write was cut short."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) != b"\n"


def fresh_schema(server_url: str) -> str:
    """An empty schema of its own on a PostgreSQL server; the URL whose connections use it."""
    import psycopg

    schema = f"crash_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in server_url else "?"
    return f"{server_url}{joiner}options=-csearch_path%3D{schema}"


async def run_crash_harness(settings: CrashSettings, workdir: Path,
                            progress: Callable[[str], None] | None = None) -> CrashReport:
    return await CrashHarness(settings, workdir, progress=progress).run()
