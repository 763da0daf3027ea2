"""The simulated shop of `bench/backfill.py --whole`, run as a process of its own so that its CPU is not counted.

    .venv/bin/python bench/backfill_sim.py --orders 20000 [--seed 1]

Seeds the built-in simulator with `SimulatorServer(orders=N)` (the simulator's own seeding: orders processed
over the last 30 days, a few later refunds, cancels and added line items), prints one JSON line (its URL,
token, order count, the earliest `processedAt`, and how long seeding took), then serves until its standard
input closes.

The simulator runs as it does for anyone: `bulkOperationRunQuery` answers CREATED at once and the result file
is written in the background while the operation runs. One setting, through its Python API: the operation's
pace, `state.bulk.objects_per_second`, is raised from Shopify's captured ~1,000 objects/s (notes §1.2), so
that the operation completes as soon as the file is written: the figures are the bridge's, not a simulated
Shopify's write speed. The time the bridge waits for the operation is the "bulk op" phase of the bench.
And one option: the search index shows every change at once (`search_lag_seconds=0`). The bench checks that
one `run --once` stores all N orders, which only holds for orders searchable when the bulk operation starts;
with the default harsh lag (up to 15 min, drawn per change) the newest seeded orders may not be yet (seed 1,
100k orders: Order/5801234599999, 12.8 min late), and the bridge's sweep finds them in a later cycle
(`tests/core/test_poll_windows.py`), which one `run --once` does not wait for.
The seeded shop is frozen out of this process's cyclic garbage collector (`gc.freeze`): hundreds of thousands
of order documents that live as long as the process would otherwise be walked by every full collection
while the operation's file is planned and written.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.backfill import peak_rss_mb
from shopify_bridge.simulator.server import SimulatorServer

OBJECTS_PER_SECOND = 1e9


def dump_orders(sim: SimulatorServer, path: Path) -> None:
    """Debugging aid: one JSON line per current order (id, processedAt, createdAt, updatedAt) into `path`."""
    with path.open("w") as out:
        for doc in sim.state.store.all_current():
            out.write(json.dumps({k: doc.get(k) for k in ("id", "processedAt", "createdAt", "updatedAt")}) + "\n")


async def serve(orders: int, seed: int, dump: Path | None = None) -> None:
    started = time.perf_counter()
    sim = SimulatorServer(orders=orders, seed=seed, search_lag_seconds=0)
    gc.freeze()
    seeded = time.perf_counter()
    sim.state.bulk.objects_per_second = OBJECTS_PER_SECOND
    earliest = min(doc["processedAt"] for doc in sim.state.store.all_current()) if orders else None
    if dump is not None:
        dump_orders(sim, dump)
    async with sim:
        info: dict[str, Any] = {
            "url": sim.url, "token": sim.token, "orders": len(sim.state.store), "earliest": earliest,
            "seed_s": round(seeded - started, 1), "rss_mb": round(peak_rss_mb()),
        }
        print(json.dumps(info), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the bench closes it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dump", type=Path, help="write each order's id and timestamps there (JSON lines)")
    args = parser.parse_args()
    asyncio.run(serve(args.orders, args.seed, args.dump))


if __name__ == "__main__":
    main()
