"""The whole backfill as an operator runs it: the real `shopify-bridge run --once` against a seeded simulator.

Driven by `bench/backfill.py --whole` (see there). For each size the shop runs in a process of its own
(`bench/backfill_sim.py`), a config with a source whose `start_date` covers every order (history stored, not
forwarded: the default) is written into a fresh directory, and `.venv/bin/shopify-bridge run --once` — the
console script of the README — runs as a subprocess. Its figures come from `os.wait4`: user + sys CPU of the
bridge and of any child it waited for, and its peak RSS (`ru_maxrss`). This launcher stays small on purpose:
a child's `ru_maxrss` also carries the size of the process it was spawned from, so the launcher's own peak is
printed with the figures, and a bridge peak near it would be the launcher's. Afterwards the store must hold
all N orders, each as history with one version.

While the bridge runs, its CPU and RSS are sampled from /proc; with the phase changes of its JSON log they give
CPU seconds, wall seconds and peak RSS per phase (start-up, waiting for the bulk operation, download, staging,
ingest, after). The profilers are in `bench/backfill_profile.py`.
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
BRIDGE = VENV_BIN / "shopify-bridge"
OUT = REPO / "bench" / "out"
TOKEN_VAR = "BENCH_SIM_TOKEN"
SHOP = "sim-snowboards.myshopify.com"


@dataclass
class Figures:
    orders: int
    cpu_user: float
    cpu_sys: float
    peak_rss_mb: float
    wall: float
    exit_code: int
    stored: int
    history: int
    versions: int
    seed_s: float
    result_mb: float
    phases: list[Phase] = field(default_factory=list)

    @property
    def cpu(self) -> float:
        return self.cpu_user + self.cpu_sys

    @property
    def waited(self) -> float:
        """Wall seconds spent waiting for the simulator to write the result (the "bulk op" phase)."""
        return sum(p.wall for p in self.phases if p.name == "running")


@dataclass
class Phase:
    name: str
    wall: float
    cpu: float
    peak_rss_mb: float


class Sampler:
    """Samples a process's CPU (all its threads) and RSS from /proc every `interval` seconds, with the wall time.

    Joined with the phase changes of the bridge's log, it splits the run's CPU by backfill phase; sampling
    from outside costs the bridge nothing.
    """

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float, float]] = []  # (epoch seconds, CPU seconds, RSS MB)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        proc = Path(f"/proc/{self.pid}")
        while True:
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                rss = next((int(line.split()[1]) for line in (proc / "status").read_text().splitlines()
                            if line.startswith("VmRSS:")), 0)
            except (OSError, StopIteration, IndexError):
                return  # reaped
            if fields[0] == "Z":
                return
            self.samples.append((time.time(), (int(fields[11]) + int(fields[12])) / self.TICK, rss / 1024))
            time.sleep(self.interval)

    def join(self) -> None:
        self._thread.join()

    def phases(self, marks: list[tuple[str, float]], end: tuple[float, float]) -> list[Phase]:
        """CPU, wall time and peak RSS between consecutive marks (name, epoch), the last one up to `end`
        (epoch, the process's final CPU seconds)."""
        bounds = [*marks, ("", end[0])]
        out = []
        for (name, start), (_, stop) in pairwise(bounds):
            inside = [s for s in self.samples if start <= s[0] < stop]
            first = self._cpu_at(start)
            last = end[1] if stop == end[0] else self._cpu_at(stop)
            out.append(Phase(name, stop - start, max(0.0, last - first), max((s[2] for s in inside), default=0.0)))
        return out

    def _cpu_at(self, moment: float) -> float:
        before = [s[1] for s in self.samples if s[0] <= moment]
        return before[-1] if before else 0.0


PHASE_NAMES = {"start": "start-up", "running": "bulk op", "downloading": "download", "staging": "staging",
               "ingesting": "ingest", "done": "after"}


def result_bytes(log: Path) -> int:
    """The result file's size, from the `downloading` progress lines of the bridge's JSON log (its `fileSize`)."""
    size = 0
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "backfill progress" and entry.get("phase") == "downloading":
            size = max(size, int(entry.get("total") or 0), int(entry.get("done") or 0))
    return size


def phase_marks(log: Path, started: float) -> list[tuple[str, float]]:
    """(phase, epoch) of each first `backfill progress` line of a phase in the bridge's JSON log."""
    marks = [("start", started)]
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        phase = entry.get("phase") if entry.get("event") == "backfill progress" else None
        if phase in PHASE_NAMES and phase not in (m[0] for m in marks):
            marks.append((phase, datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()))
    return marks


class Shop:
    """`with Shop(orders) as shop:` — a seeded simulator process; `shop.info` is its JSON line."""

    def __init__(self, orders: int, seed: int = 1) -> None:
        self.orders, self.seed = orders, seed
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> Shop:
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "python"), str(REPO / "bench" / "backfill_sim.py"), "--orders", str(self.orders),
             "--seed", str(self.seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.__exit__()
            raise SystemExit(f"the simulator for {self.orders} orders did not start")
        self.info = json.loads(line)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the simulator serves until its stdin closes
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def write_config(workdir: Path, shop: Shop) -> Path:
    """A config with one source backfilling every order of the shop (history: stored, not forwarded)."""
    earliest = date.fromisoformat(str(shop.info["earliest"])[:10]) if shop.info["earliest"] else date.today()
    # A day earlier than the earliest order: `start_date` is a day in the shop's time zone, west of UTC.
    start = earliest - timedelta(days=1)
    path = workdir / "shopify-bridge.toml"
    path.write_text(f"""\
database = "bridge.db"

[[sources]]
name = "Bench Store"
store = "sim-snowboards"
access_token = "${{{TOKEN_VAR}}}"
api_url = "{shop.info['url']}"
start_date = "{start.isoformat()}"

[[destinations]]
name = "events-file"
type = "jsonl"
path = "events.jsonl"
""")
    path.chmod(0o600)
    return path


def compile_package() -> int:
    """Byte-compile the bridge's modules into `__pycache__`, as installing its wheel does; how many compiled.

    The package is an editable install here, and with PYTHONDONTWRITEBYTECODE=1 (set in this environment)
    every start of the bridge would compile its ~90 modules from source again (0.06-0.1 CPU s), which an
    installed bridge never pays. Done once before measuring, and said so in the output.
    """
    sources = list((REPO / "shopify_bridge").rglob("*.py"))
    compileall.compile_dir(REPO / "shopify_bridge", quiet=1)
    return len(sources)


def launcher_peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_measured(argv: list[str], env: dict[str, str], log: IO[bytes], cwd: Path
                 ) -> tuple[int, Any, float, Sampler, float]:
    """Run `argv` to its end; (exit code, its rusage from wait4, wall seconds, its samples, start epoch)."""
    started, epoch = time.perf_counter(), time.time()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=cwd)
    sampler = Sampler(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    return proc.returncode, usage, wall, sampler, epoch


def bridge_argv(config: Path, wrapper: list[str]) -> list[str]:
    return [*wrapper, str(BRIDGE), "--config", str(config), "--json-logs", "run", "--once"]


def stored_counts(db: Path) -> tuple[int, int, int]:
    """(orders, of which history, order versions) of the bench shop in the bridge's store."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        orders, history = conn.execute(
            "SELECT count(*), coalesce(sum(status = 'history'), 0) FROM orders WHERE shop = ?", (SHOP,)
        ).fetchone()
        versions = conn.execute("SELECT count(*) FROM order_versions WHERE shop = ?", (SHOP,)).fetchone()[0]
    return int(orders), int(history), int(versions)


# `--env NAME=VALUE` of the bench: extra environment of the bridge process (e.g. MALLOC_ARENA_MAX=2).
BRIDGE_ENV: dict[str, str] = {}


def run_bridge(shop: Shop, workroot: Path, wrapper: list[str] | None = None, label: str = "run") -> Figures:
    """Run the bridge's backfill once against `shop` (under `wrapper`) in a fresh directory; check the store."""
    workdir = workroot / f"whole-{shop.orders}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    config = write_config(workdir, shop)
    env = {k: v for k, v in os.environ.items() if k != "SHOPIFY_BRIDGE_CONFIG"}
    env.update(BRIDGE_ENV)
    env[TOKEN_VAR] = str(shop.info["token"])
    OUT.mkdir(exist_ok=True)
    log_path = OUT / f"{label}-{shop.orders}.log"
    with log_path.open("wb") as log:
        code, usage, wall, sampler, started = run_measured(bridge_argv(config, wrapper or []), env, log, workdir)
    stored, history, versions = stored_counts(workdir / "bridge.db")
    shutil.rmtree(workdir, ignore_errors=True)
    cpu = usage.ru_utime + usage.ru_stime
    phases = sampler.phases(phase_marks(log_path, started), (started + wall, cpu)) if not wrapper else []
    return Figures(shop.orders, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024, wall, code, stored,
                   history, versions, float(shop.info["seed_s"]), result_bytes(log_path) / 1e6, phases)


HEADER = (f"{'orders':>8} {'result MB':>9} {'CPU s':>7} {'user':>7} {'sys':>6} {'peak RSS MB':>11} {'wall s':>7} "
          f"{'orders/CPU-s':>12} {'stored':>8}   shop seed s, wait for bulk op s")


def row(f: Figures) -> str:
    ok = "ok" if good(f) else (
        f"WRONG (exit {f.exit_code}, {f.stored} stored, {f.history} history, {f.versions} versions)")
    return (f"{f.orders:>8} {f.result_mb:>9.0f} {f.cpu:>7.2f} {f.cpu_user:>7.2f} {f.cpu_sys:>6.2f} "
            f"{f.peak_rss_mb:>11.1f} {f.wall:>7.1f} {f.orders / f.cpu:>12,.0f} {f.stored:>8} {ok:>4}   "
            f"{f.seed_s:.0f}, {f.waited:.1f}")


def phase_row(f: Figures) -> str:
    """CPU s / wall s / peak RSS MB per phase, from /proc samples and the log's phase changes."""
    return "          by phase, CPU s/wall s/RSS MB: " + " · ".join(
        f"{PHASE_NAMES[p.name]} {p.cpu:.2f}/{p.wall:.1f}/{p.peak_rss_mb:.0f}" for p in f.phases)


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def median_row(runs: list[Figures]) -> str:
    """The median CPU s, peak RSS and wall s of a size's runs (the machine may be shared)."""
    cpu = statistics.median(f.cpu for f in runs)
    return (f"{'median':>8} {'':>9} {cpu:>7.2f} {'':>7} {'':>6} "
            f"{statistics.median(f.peak_rss_mb for f in runs):>11.1f} {statistics.median(f.wall for f in runs):>7.1f} "
            f"{runs[0].orders / cpu:>12,.0f}   of {len(runs)} runs")


def good(f: Figures) -> bool:
    return f.exit_code == 0 and f.stored == f.history == f.versions == f.orders


def whole(sizes: list[int], workroot: Path, repeat: int = 1, compiled: bool = True) -> int:
    """Each size's shop is seeded once; the bridge backfills it `repeat` times, each time into a new store."""
    if compiled:
        print(f"byte-compiled the {compile_package()} modules of shopify_bridge first, as a wheel install does "
              "(--source-start: measure the editable install compiling them from source on each start)")
    print("whole `shopify-bridge run --once` backfill (CPU of the bridge process tree; the shop runs apart)")
    print(f"load average before: {load_average()}")
    print(HEADER, flush=True)
    failed = 0
    for size in sizes:
        with Shop(size) as shop:
            runs = []
            for _ in range(repeat):
                figures = run_bridge(shop, workroot)
                failed += not good(figures)
                runs.append(figures)
                print(row(figures), flush=True)
                print(phase_row(figures), flush=True)
            if repeat > 1:
                print(median_row(runs), flush=True)
    print(f"load average after: {load_average()}")
    print(f"launcher peak RSS {launcher_peak_mb():.0f} MB (a bridge peak at or below it is the launcher's); "
          f"logs in {OUT.relative_to(REPO)}/")
    return 1 if failed else 0


def set_bridge_env(settings: list[str]) -> None:
    """`--env NAME=VALUE` settings into `BRIDGE_ENV`."""
    for setting in settings:
        name, equals, value = setting.partition("=")
        if not equals:
            raise SystemExit(f"--env takes NAME=VALUE, not {setting!r}")
        BRIDGE_ENV[name] = value
