"""Never-miss bench: the long version of `tests/never_miss/test_never_miss.py`.

Many seeds of random traffic (new web/POS/test/tagged orders, upsells, refunds, cancellations, late tags)
against the simulator at its harshest — search lag drawn per change up to 15 minutes, another app taking
80 % of the restore rate, split refunds, faults on any request, some repeated past the client's retries —
polled by the real client and poller on one virtual clock. For each seed it prints the orders, events,
faults and failed polls, what the sweep recovered, the THROTTLED share and the holds' lateness, and every
violation of the contract: each created order exactly one of a delivered Placed Order, a recorded
exclusion or history, and no event_id created or delivered twice. Exit status 1 on any violation.

    .venv/bin/python bench/never_miss.py [--seeds 10] [--first-seed 100] [--minutes 180]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import structlog

from tests.never_miss.harness import Scenario, run_scenario, violations


async def main(args: argparse.Namespace) -> int:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    broken = 0
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        started = time.monotonic()
        delay = None if seed % 3 == 0 else 600
        outcome = await run_scenario(Scenario(seed=seed, minutes=args.minutes, upsell_delay=delay,
                                              changes_per_minute=args.changes_per_minute))
        found = violations(outcome)
        late = sorted(outcome.lateness)
        p95 = late[int(0.95 * (len(late) - 1))] if late else 0.0
        print(f"seed {seed}: {len(outcome.orders)} orders, {len(outcome.events)} events, {outcome.faults} faults "
              f"({outcome.failures} failed steps), {outcome.recovered} recovered by the sweep, THROTTLED "
              f"{outcome.throttled}/{outcome.requests}, hold lateness p95 {p95:.0f} s max {max(late, default=0):.0f} s"
              f" — {len(found)} violations ({time.monotonic() - started:.0f} s)")
        for line in found:
            print(f"   {line}")
        broken += bool(found)
    print(f"{args.seeds - broken} of {args.seeds} seeds kept every invariant")
    return 1 if broken else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=180.0, help="traffic per seed, virtual minutes")
    parser.add_argument("--changes-per-minute", type=float, default=3.0)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
