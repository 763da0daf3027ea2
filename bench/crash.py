"""Crash bench: SIGKILL the real bridge hundreds of times and prove that nothing is lost or doubled.

The long version of `tests/crash/test_crash.py`: the simulator and a recording HTTP receiver run
in this process, the bridge (`python -m shopify_bridge --config … run`) as a subprocess that is
killed after a random 0.05–1.5 s, again and again, while the shop keeps changing. Every
`--checkpoint-every` kills (and at the end) the bridge runs until everything is delivered, stops
with SIGTERM, and every invariant is checked (see `tests/crash/invariants.py`).

Prints the counts: kills, orders, events, deliveries and raw duplicates by destination, the
longest recovery to "fully delivered", and every violation with the seed and kill that show it.
Exit status 1 when an invariant was violated. The work directory (store, JSONL file, bridge.log
with one section per bridge process) is kept for inspection.

With `--processes N` (N > 1) N bridge processes share one PostgreSQL store (a fresh schema on the
server of `--postgres`, default $SHOPIFY_BRIDGE_TEST_POSTGRES) and each kill takes one of them at
random; see docs/scale.md. `scripts/throwaway-postgres start DIR` gives a server.

    .venv/bin/python bench/crash.py [--kills 300] [--seed 1] [--paged-writes] [--workdir DIR]
    .venv/bin/python bench/crash.py --processes 3 [--postgres URL] [--lease-seconds 3] [--kills 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

# The harness lives with the tests (the CI test drives the same code); make the repo importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.crash.harness import CrashSettings, fresh_schema, run_crash_harness


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--kills", type=int, default=300, help="SIGKILLs before the final run (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the shop's changes and kill times")
    parser.add_argument("--min-run", type=float, default=None,
                        help="shortest time between kills (s; default 0.05, with --processes 0.5)")
    parser.add_argument("--max-run", type=float, default=None,
                        help="longest time between kills (s; default 1.5, with --processes 4: a process needs "
                             "a second or two to start, and the others go on meanwhile)")
    parser.add_argument("--checkpoint-every", type=int, default=25,
                        help="run to completion and check every N kills (0: only at the end)")
    parser.add_argument("--fail-first", type=float, default=0.1,
                        help="share of events whose first HTTP request is answered 500")
    parser.add_argument("--answer-delay", type=float, default=0.1,
                        help="longest random delay of the receiver's answers (s)")
    parser.add_argument("--paged-writes", action="store_true",
                        help="make JSONL writes slow and chunked so that kills tear them")
    parser.add_argument("--workdir", type=Path, default=None, help="where to keep the store, files and logs")
    parser.add_argument("--processes", type=int, default=1,
                        help="bridge processes on one PostgreSQL store (more than 1: --postgres)")
    parser.add_argument("--postgres", default=os.environ.get("SHOPIFY_BRIDGE_TEST_POSTGRES"), metavar="URL",
                        help="PostgreSQL server for --processes (a fresh schema is made on it)")
    parser.add_argument("--lease-seconds", type=float, default=3.0,
                        help="the processes' lease time (SHOPIFY_BRIDGE_LEASE_SECONDS)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = CrashSettings(
        kills=args.kills,
        seed=args.seed,
        min_run_seconds=args.min_run if args.min_run is not None else (0.5 if args.processes > 1 else 0.05),
        max_run_seconds=args.max_run if args.max_run is not None else (4.0 if args.processes > 1 else 1.5),
        checkpoint_every=args.checkpoint_every,
        fail_first_probability=args.fail_first,
        max_answer_delay_seconds=args.answer_delay,
        paged_jsonl_writes=args.paged_writes,
        processes=args.processes,
        lease_seconds=args.lease_seconds,
    )
    if args.processes > 1:
        if not args.postgres:
            print("--processes needs a PostgreSQL server: --postgres URL or SHOPIFY_BRIDGE_TEST_POSTGRES",
                  file=sys.stderr)
            return 2
        settings.database_url = fresh_schema(args.postgres)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="shopify-bridge-crash-"))
    started = time.monotonic()
    report = asyncio.run(run_crash_harness(settings, workdir, progress=None if args.quiet else print))
    print()
    print(report.summary())
    many = f" --processes {args.processes} --lease-seconds {args.lease_seconds:g}" if args.processes > 1 else ""
    print(f"wall time {time.monotonic() - started:.0f}s · reproduce: bench/crash.py --kills {args.kills} "
          f"--seed {args.seed}" + (" --paged-writes" if args.paged_writes else "") + many)
    return 1 if report.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
