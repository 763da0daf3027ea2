"""Start-up cost of the console script: modules imported and CPU seconds before any work is done.

Not a test: it prints figures. Each case runs many times in a fresh child process (the machine is noisy:
medians); the CPU is user + sys of that child, from `os.wait4`. The child is `shopify_bridge.cli.entry.main`
— what the `shopify-bridge` console script runs — with its stderr not a terminal, as under a supervisor:

- `--version` and `--help`: the typer app and its frame;
- `run --once`: `--json-logs run --once` with a one-source, one-jsonl-destination config (the backfill
  bench's), in a fresh directory each time, up to the moment the bridge is built — `startup_done`, just
  before its first request — where the child counts its modules and exits at once.

`--against DIR` measures the same cases on another checkout too (e.g. `git archive main | tar -x -C DIR`),
imported through PYTHONPATH, and prints both side by side. Both are byte-compiled first, as an installed
wheel is (this environment sets PYTHONDONTWRITEBYTECODE=1, see `bench/backfill_whole.compile_package`).

    .venv/bin/python bench/startup.py                     # 15 runs per case
    .venv/bin/python bench/startup.py --runs 25 --against /tmp/main-checkout
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv" / "bin" / "python"

CONFIG = """\
database = "bridge.db"

[[sources]]
name = "Bench Store"
store = "sim-snowboards"
access_token = "${BENCH_STARTUP_TOKEN}"
api_url = "http://127.0.0.1:9"
start_date = "2024-01-01"

[[destinations]]
name = "events-file"
type = "jsonl"
path = "events.jsonl"
"""

# The child: the console script's `main` with `argv`; writes its module count to $BENCH_STARTUP_OUT. For
# `run`, the count is taken where start-up ends — `startup_done`, called by `cli.run._run` once the bridge is
# built and before its first request — and the child leaves there (any other caller is a failure: exit 3).
CHILD = """\
import os, sys
out = os.environ["BENCH_STARTUP_OUT"]

def counted():
    with open(out, "w") as file:
        file.write(str(len(sys.modules)))

if os.environ.get("BENCH_STARTUP_STOP") == "1":
    import shopify_bridge.cli.startup as startup

    def startup_done():
        if sys._getframe(1).f_code.co_name != "_run":
            os._exit(3)
        counted()
        os._exit(0)

    startup.startup_done = startup_done  # before `entry`, `app` and `run` import it
from shopify_bridge.cli.entry import main
code = main()
counted()
sys.exit(code)
"""

CASES = {
    "--version": (["--version"], False),
    "--help": (["--help"], False),
    "run --once": (["--config", "shopify-bridge.toml", "--json-logs", "run", "--once"], True),
}


@dataclass
class Figures:
    modules: int
    cpu: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.cpu) * 1000


def compiled(root: Path) -> None:
    """Byte-compile `root`'s packages, as installing the wheel does (no compiling from source per start)."""
    for package in ("shopify_bridge", "tui"):
        if (root / package).is_dir():
            compileall.compile_dir(root / package, quiet=1)


def run_child(root: Path, argv: list[str], stop: bool, workdir: Path) -> tuple[int, float]:
    """(modules imported, CPU seconds) of one child importing the bridge from `root`."""
    out = workdir / "modules.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("SHOPIFY_BRIDGE_CONFIG", "PYTHONPATH")}
    env.update(PYTHONPATH=str(root), BENCH_STARTUP_OUT=str(out), BENCH_STARTUP_TOKEN="shpat_bench",
               BENCH_STARTUP_STOP="1" if stop else "0")
    proc = subprocess.Popen([str(PYTHON), "-c", CHILD, *argv], cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
    if proc.returncode != 0 or not out.exists():
        raise SystemExit(f"{' '.join(argv)} from {root} failed (exit {proc.returncode}): {errors.decode()[-2000:]}")
    return int(out.read_text()), usage.ru_utime + usage.ru_stime


def measure(roots: list[Path], case: str, runs: int) -> list[Figures]:
    """`case` `runs` times for each root, the roots taking turns (so that a noisy spell hits them alike)."""
    argv, stop = CASES[case]
    figures = [Figures(0, []) for _ in roots]
    for _ in range(runs):
        for root, figure in zip(roots, figures, strict=True):
            with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:  # a fresh store for every run
                workdir = Path(tmp)
                (workdir / "shopify-bridge.toml").write_text(CONFIG)
                modules, seconds = run_child(root, argv, stop, workdir)
            figure.modules = max(figure.modules, modules)
            figure.cpu.append(seconds)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15, help="runs per case (the median is printed)")
    parser.add_argument("--against", type=Path, help="another checkout to measure beside this one")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of: {', '.join(CASES)}")
    args = parser.parse_args()
    roots = {"this": REPO} | ({"against": args.against.resolve()} if args.against else {})
    for root in roots.values():
        compiled(root)
    print(f"{args.runs} runs per case; CPU = user + sys of the child, median (min-max) ms; stderr not a TTY")
    print(f"{'case':<12} " + "".join(f"{label + ' modules':>16} {label + ' CPU ms':>24}" for label in roots))
    for case in args.cases.split(","):
        cells = []
        for figures in measure(list(roots.values()), case, args.runs):
            spread = f"{figures.median_ms:.0f} ({min(figures.cpu) * 1000:.0f}-{max(figures.cpu) * 1000:.0f})"
            cells.append(f"{figures.modules:>16} {spread:>24}")
        print(f"{case:<12} " + "".join(cells), flush=True)


if __name__ == "__main__":
    sys.exit(main())
