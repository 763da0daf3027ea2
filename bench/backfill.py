"""Benchmark of the bulk backfill's local half: stage a JSONL result in SQLite, then iterate order documents.

Not a test: it prints figures. For every size it writes a synthetic Shopify-like bulk result (≈3 line items
per order, 10 % of orders with refunds, children shuffled away from their parents with
`groupObjects: false`, slashes escaped as Shopify does) into a temporary directory, then runs the
measurement in a fresh subprocess so that each size's peak RSS is its own:

- baseline: the stdlib `json.loads` of every line, nothing else;
- stage: `stage_file` into a staging database (`open_staging`);
- iterate: `iter_orders` over every staged order.

Targets: ≥ 20,000 orders/s for stage + iterate, peak RSS ≤ 150 MB and not growing with N.

    .venv/bin/python bench/backfill.py                      # quick: 10k orders
    .venv/bin/python bench/backfill.py --sizes 10000,100000,300000

`--whole` measures the whole process instead: the real `shopify-bridge run --once` backfilling a seeded
simulator (in a process of its own), with the CPU seconds, peak RSS, wall time and orders per CPU-second of the
bridge's process tree, and a check that the store holds every order (`bench/backfill_whole.py`). Targets on
20k orders: ≤ 2.0 CPU s (≥ 10,000 orders per CPU-second) and peak RSS ≤ 150 MB, flat from 10k to 300k.
`--profile` and `--memory` run it under py-spy/cProfile/perf/strace or memray, their output in `bench/out/`.

    .venv/bin/python bench/backfill.py --whole                          # 10k, 20k, 100k and 300k orders
    .venv/bin/python bench/backfill.py --whole --sizes 20000
    .venv/bin/python bench/backfill.py --whole --profile pyspy          # 100k; or --profile cprofile
    .venv/bin/python bench/backfill.py --whole --profile perf,strace --sizes 20000  # native CPU, I/O calls
    .venv/bin/python bench/backfill.py --whole --memory                 # 20k and 100k under memray

`--forward-history` runs a whole forward_history backfill against the simulator and prints the requests
per 1,000 orders and the bridge's time (`bench/backfill_forward.py`).

    .venv/bin/python bench/backfill.py --forward-history     # requests per 1,000 orders, 20,000 orders' time
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `bench.backfill_whole`

from shopify_bridge.shopify.bulk.assemble import stage_file
from shopify_bridge.shopify.bulk.documents import iter_orders
from shopify_bridge.shopify.bulk.staging import open_staging

BUCKETS = 64


def _money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "CAD"},
            "presentmentMoney": {"amount": amount, "currencyCode": "USD"}}


def _address(n: int) -> dict[str, Any]:
    return {"firstName": "Ann", "lastName": f"Lee{n}", "city": "Toronto", "provinceCode": "ON",
            "zip": "M5V 2T6", "countryCodeV2": "CA", "phone": "+14165550100"}


def synthetic_order(n: int, rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One order line (every field of ORDER_SCALARS) and its line-item lines."""
    oid = 5_800_000_000_000 + n
    gid = f"gid://shopify/Order/{oid}"
    at = f"2026-0{1 + n % 6}-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z"
    refunds = []
    if n % 10 == 0:
        refunds.append({"id": f"gid://shopify/Refund/{oid}", "legacyResourceId": str(oid), "createdAt": at,
                        "processedAt": at, "updatedAt": at, "note": "damaged",
                        "totalRefundedSet": _money("5.0")})
    order = {
        "id": gid, "legacyResourceId": str(oid), "name": f"#{1000 + n}", "createdAt": at, "updatedAt": at,
        "processedAt": at, "cancelledAt": None, "cancelReason": None, "test": False, "sourceName": "web",
        "tags": ["vip"] if n % 7 == 0 else [], "email": f"buyer{n}@example.com", "phone": None,
        "currencyCode": "CAD", "presentmentCurrencyCode": "USD",
        "displayFinancialStatus": "PARTIALLY_REFUNDED" if refunds else "PAID",
        "discountCodes": ["SAVE5"] if n % 5 == 0 else [], "edited": False, "taxesIncluded": False,
        "checkoutToken": f"chk{n:x}", "cartToken": f"cart{n:x}",
        "totalPriceSet": _money("35.5"), "currentTotalPriceSet": _money("35.5"), "totalTaxSet": _money("4.1"),
        "currentTotalTaxSet": _money("4.1"), "totalDiscountsSet": _money("0.0"),
        "currentTotalDiscountsSet": _money("0.0"), "totalShippingPriceSet": _money("5.0"),
        "totalRefundedSet": _money("5.0" if refunds else "0.0"),
        "customer": {"id": f"gid://shopify/Customer/{7000 + n}", "legacyResourceId": str(7000 + n),
                     "firstName": "Ann", "lastName": f"Lee{n}",
                     "defaultEmailAddress": {"emailAddress": f"buyer{n}@example.com"},
                     "defaultPhoneNumber": {"phoneNumber": "+14165550100"}, "defaultAddress": _address(n)},
        "billingAddress": _address(n), "shippingAddress": _address(n), "refunds": refunds,
    }
    items = []
    for k in range(rng.choice((2, 3, 3, 4))):
        items.append({
            "id": f"gid://shopify/LineItem/{oid * 10 + k}", "title": f"Board {k}", "name": f"Board {k}",
            "variantTitle": "Blue", "sku": f"SB-{k}", "vendor": "Acme", "quantity": 1, "currentQuantity": 1,
            "originalUnitPriceSet": _money("10.0"),
            "product": {"id": f"gid://shopify/Product/{900 + k}", "legacyResourceId": str(900 + k)},
            "variant": {"id": f"gid://shopify/ProductVariant/{9000 + k}", "legacyResourceId": str(9000 + k)},
            "image": {"url": f"https://cdn.shopify.com/s/files/1/sb{k}.png"},
            "__parentId": gid,
        })
    return order, items


def _line(obj: dict[str, Any]) -> bytes:
    # Shopify escapes every `/` in its JSONL; `/` only occurs inside strings, so this stays valid JSON.
    return orjson.dumps(obj).replace(b"/", b"\\/") + b"\n"


def write_file(path: Path, orders: int, seed: int = 7) -> None:
    """Write the synthetic result in flat memory: lines go to random buckets, each bucket is shuffled."""
    rng = random.Random(seed)
    bucket_paths = [path.with_suffix(f".b{i}") for i in range(BUCKETS)]
    buckets = [p.open("wb") for p in bucket_paths]
    for n in range(orders):
        order, items = synthetic_order(n, rng)
        for obj in (order, *items):
            buckets[rng.randrange(BUCKETS)].write(_line(obj))
    for bucket in buckets:
        bucket.close()
    with path.open("wb") as out:
        for bucket_path in bucket_paths:
            lines = bucket_path.read_bytes().splitlines(keepends=True)
            rng.shuffle(lines)
            out.writelines(lines)
            bucket_path.unlink()


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's VmHWM belongs to the current address space; ru_maxrss
    would also carry the parent's size at fork across `exec`, i.e. the file generator's memory."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(path: Path, orders: int) -> dict[str, Any]:
    """Run in a fresh process: baseline, stage, iterate; peak RSS of this process."""
    started = time.perf_counter()
    with path.open("rb") as stream:
        for raw in stream:
            json.loads(raw)
    baseline = time.perf_counter() - started

    conn = open_staging(path.with_suffix(".staging.db"))
    started = time.perf_counter()
    stats = stage_file(conn, "bench", path)
    staged = time.perf_counter() - started
    started = time.perf_counter()
    seen = sum(1 for _ in iter_orders(conn, "bench"))
    iterated = time.perf_counter() - started
    if seen != orders or stats.orders != orders or stats.quarantined:
        raise SystemExit(f"wrong result: {seen} documents, {stats}")
    return {"orders": orders, "lines": stats.lines, "mb": stats.bytes_read / 1e6, "baseline_s": baseline,
            "stage_s": staged, "iterate_s": iterated,
            "peak_rss_mb": peak_rss_mb()}


def _print_row(r: dict[str, Any]) -> None:
    total = r["stage_s"] + r["iterate_s"]
    print(f"{r['orders']:>8} {r['lines']:>9} {r['mb']:>8.1f} {r['baseline_s']:>10.2f} {r['stage_s']:>8.2f} "
          f"{r['iterate_s']:>8.2f} {total / r['baseline_s']:>6.1f}x {r['orders'] / total:>10,.0f} "
          f"{r['peak_rss_mb']:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", help="order counts, e.g. 10000,100000,300000 (default 10000; with --whole "
                        "10000,20000,100000,300000, --profile 100000, --memory 20000,100000; 20000 with "
                        "--forward-history)")
    parser.add_argument("--forward-history", action="store_true",
                        help="a whole forward_history backfill against the simulator: requests per 1,000 orders "
                        "and the time (bench/backfill_forward.py)")
    parser.add_argument("--whole", action="store_true", help="the real `shopify-bridge run --once` as a process")
    parser.add_argument("--profile", help="with --whole: profile the run with pyspy, cprofile, perf and/or strace "
                        "(comma-separated)")
    parser.add_argument("--repeat", type=int, default=1, help="with --whole: bridge runs per seeded shop")
    parser.add_argument("--source-start", action="store_true",
                        help="with --whole: don't byte-compile the package first (each start compiles it)")
    parser.add_argument("--memory", action="store_true", help="with --whole: the run under memray")
    parser.add_argument("--workdir", help="with --whole: where the bridge's store goes (default bench/out/work)")
    parser.add_argument("--env", action="append", metavar="NAME=VALUE",
                        help="with --whole: add to the bridge's environment (repeatable), e.g. MALLOC_ARENA_MAX=2")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: the per-size subprocess
    parser.add_argument("--orders", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.orders)))
        return
    if args.forward_history:
        from bench.backfill_forward import main as forward_history

        forward_history([int(s) for s in (args.sizes or "20000").split(",")])
        return
    if args.whole or args.profile or args.memory:
        raise SystemExit(whole(args))
    args.sizes = args.sizes or "10000"
    print(f"{'orders':>8} {'lines':>9} {'MB':>8} {'json.loads':>10} {'stage':>8} {'iterate':>8} {'ratio':>7} "
          f"{'orders/s':>10} {'RSS MB':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
            path = Path(tmp) / "result.jsonl"
            write_file(path, size)
            # The generator leaves ~4 KB of dirty page cache per order; flushed now, so that its writeback
            # is not charged to the staging writes measured next (a download arrives far slower than this).
            os.sync()
            out = subprocess.run([sys.executable, __file__, "--measure", str(path), "--orders", str(size)],
                                 check=True, capture_output=True, text=True).stdout
            _print_row(json.loads(out))


def whole(args: argparse.Namespace) -> int:
    """`--whole`, `--profile`, `--memory`: the real `shopify-bridge run --once`, measured from outside."""
    from bench import backfill_profile, backfill_whole

    backfill_whole.set_bridge_env(args.env or [])
    default = "100000" if args.profile else "20000,100000" if args.memory else "10000,20000,100000,300000"
    sizes = [int(s) for s in (args.sizes or default).split(",")]
    workroot = Path(args.workdir) if args.workdir else backfill_whole.OUT / "work"
    if args.profile:
        return max(backfill_profile.profile(size, workroot, args.profile.split(",")) for size in sizes)
    if args.memory:
        return max(backfill_profile.memory(size, workroot) for size in sizes)
    return backfill_whole.whole(sizes, workroot, args.repeat, compiled=not args.source_start)


if __name__ == "__main__":
    main()
