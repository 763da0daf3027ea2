"""Benchmark: how the client paces itself against a shop whose bucket another app drains.

Drives the real `ShopifyClient` (through a fake transport) against the fake Shopify bucket of the tests
(`tests/shopify/fake_shop.py`: Shopify's bucket rules, 2,000 points restored at 100/s, a competing app
taking its share steadily or in bursts, all on virtual time), for the bridge's poll-cycle workload.
Prints per setup: the share of THROTTLED answers (PRODUCT.md: ≤ 5 %), the points per second we got
against what the competitor left us, and the client's own counters (`ShopifyClient.usage`).

    .venv/bin/python bench/pacing.py [--requests 2000] [--clients 1]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.shopify.fake_shop import FakeShop, VirtualTime, client_on, send_workload

# (label, steady share of the restore taken by the other app, bursts: (share, every n seconds))
SETUPS: list[tuple[str, float, tuple[float, float] | None]] = [
    ("alone", 0.0, None),
    ("other app 50 % steady", 0.5, None),
    ("other app 80 % steady", 0.8, None),
    ("other app 90 % steady", 0.9, None),
    ("other app 95 % steady", 0.95, None),
    ("other app 80 % every 1 s", 0.0, (0.8, 1.0)),
    ("other app 80 % every 5 s", 0.0, (0.8, 5.0)),
    ("other app 90 % every 10 s", 0.0, (0.9, 10.0)),
]


async def run(label: str, steady: float, bursts: tuple[float, float] | None, requests: int, clients: int) -> str:
    time = VirtualTime()
    shop = FakeShop(time, competitor_share=steady, start_level=0 if steady or bursts else None)
    pool = [client_on(shop) for _ in range(clients)]
    await send_workload(pool, shop, requests, bursts)
    throttled = shop.answered.count("throttled")
    got = sum(c.usage.points_actual for c in pool) / time.now
    left = (1 - max(steady, bursts[0] if bursts else 0.0)) * shop.restore_rate
    waited = sum(c.usage.bucket_wait_seconds for c in pool)
    requested = sum(c.usage.points_requested for c in pool)
    return (
        f"{label:<28} {throttled / len(shop.answered):>7.2%} {throttled:>5} {len(shop.answered):>6}"
        f" {got:>8.1f} {left:>6.1f} {time.now:>8.0f} {waited:>8.0f} {requested:>9.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=1, help="clients of the shop sending at once")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    print(f"{args.requests} requests, {args.clients} client(s) at once, bucket 2000 points restored at 100/s")
    print(f"{'setup':<28} {'THROTTLED':>7} {'n':>5} {'sent':>6} {'pts/s':>8} {'left':>6} {'time s':>8}"
          f" {'waited':>8} {'requested':>9}")
    for label, steady, bursts in SETUPS:
        print(asyncio.run(run(label, steady, bursts, args.requests, args.clients)))


if __name__ == "__main__":
    main()
