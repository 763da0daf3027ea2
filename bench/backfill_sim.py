"""The simulated shop of `bench/backfill.py --whole`, run as a process of its own so that its CPU is not counted.

    .venv/bin/python bench/backfill_sim.py --orders 20000 [--seed 1]

Seeds the built-in simulator with `SimulatorServer(orders=N)` (the simulator's own seeding: orders processed
over the last 30 days, a few later refunds, cancels and added line items), prints one JSON line (its URL,
token, order count, the earliest `processedAt`, and how long seeding and warming took), then serves until its
standard input closes.

Two bench-only settings, both through the simulator's Python API (no simulator code is changed):

- `state.bulk.objects_per_second` is raised (from 1,000) so that the operation completes as soon as the bridge
  polls it: the figures are the bridge's, not a simulated Shopify's write speed.
- The bulk result is computed before the bridge starts (`warm`). The simulator runs a bulk query in full
  inside `bulkOperationRunQuery` (about 1.3 ms per order in graphql-core), so from about 20,000 orders the
  mutation outlasts the bridge's 30 s GraphQL timeout. `run_bulk_query` is wrapped so that a query with the
  warm query's selection whose search matches exactly the same orders (checked with the simulator's own search
  over its index) gets the warm result; anything else is computed as before. The only difference from an
  unwrapped run is the seed of the children's shuffle (any shuffle is a valid Shopify file).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphql import DocumentNode, FieldNode, OperationDefinitionNode, StringValueNode, print_ast

from bench.backfill import peak_rss_mb
from shopify_bridge.shopify.bulk.query import bulk_orders_query
from shopify_bridge.simulator import bulk as sim_bulk
from shopify_bridge.simulator.bulk_rules import check_bulk_query
from shopify_bridge.simulator.bulk_run import BulkOutput
from shopify_bridge.simulator.search import parse_search
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.simulator.shop import SimulatorState

OBJECTS_PER_SECOND = 1e9
_SEARCH_ARGUMENT = re.compile(r'query: "(?:[^"\\]|\\.)*"')


def orders_search(document: DocumentNode) -> str | None:
    """The `query:` argument of the root `orders` field of a bulk query."""
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for selection in definition.selection_set.selections:
            if isinstance(selection, FieldNode) and selection.name.value == "orders":
                for argument in selection.arguments:
                    if argument.name.value == "query" and isinstance(argument.value, StringValueNode):
                        return argument.value.value
    return None


def selection_signature(document: DocumentNode) -> str:
    """The query text without its search string: equal for two windows of the same bulk query."""
    return _SEARCH_ARGUMENT.sub("", print_ast(document))


def matching_orders(state: SimulatorState, document: DocumentNode, now: datetime) -> frozenset[int]:
    """The order numbers the simulator's search index gives for the query's search string (as `_orders` reads)."""
    plan = parse_search(orders_search(document), now)
    return frozenset(number for number, doc in state.store.indexed(now)
                     if plan.predicate(doc) and state.store.current(number) is not None)


@dataclass
class WarmResult:
    signature: str
    grouped: bool
    orders: frozenset[int]
    output: BulkOutput


def warm(state: SimulatorState, grouped: bool = False) -> WarmResult:
    """Run the bridge's bulk query over every order now, and serve its result to an equivalent query later."""
    now = state.now()
    document, _ = check_bulk_query(bulk_orders_query(now - timedelta(days=3650), now), state.bulk.schema)
    output = sim_bulk.run_bulk_query(state, document, now, grouped=grouped, seed=1)
    result = WarmResult(selection_signature(document), grouped, matching_orders(state, document, now), output)
    real = sim_bulk.run_bulk_query

    def run_bulk_query(state: SimulatorState, document: DocumentNode, now: datetime, *, grouped: bool,
                       seed: int) -> BulkOutput:
        if (grouped == result.grouped and selection_signature(document) == result.signature
                and matching_orders(state, document, now) == result.orders):
            return result.output
        return real(state, document, now, grouped=grouped, seed=seed)

    sim_bulk.run_bulk_query = run_bulk_query  # type: ignore[assignment]  # what BulkEngine.run_query calls
    return result


async def serve(orders: int, seed: int) -> None:
    started = time.perf_counter()
    sim = SimulatorServer(orders=orders, seed=seed)
    seeded = time.perf_counter()
    sim.state.bulk.objects_per_second = OBJECTS_PER_SECOND
    result = warm(sim.state)
    warmed = time.perf_counter()
    earliest = min(doc["processedAt"] for doc in sim.state.store.all_current()) if orders else None
    async with sim:
        info: dict[str, Any] = {
            "url": sim.url, "token": sim.token, "orders": len(sim.state.store), "earliest": earliest,
            "seed_s": round(seeded - started, 1), "warm_s": round(warmed - seeded, 1),
            "objects": result.output.objects, "bytes": sum(map(len, result.output.lines)) + result.output.objects,
            "rss_mb": round(peak_rss_mb()),
        }
        print(json.dumps(info), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the bench closes it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(serve(args.orders, args.seed))


if __name__ == "__main__":
    main()
