"""The whole backfill commit path, measured: stage → reassemble → ingest into the store (prints figures).

`bench/backfill.py` measures parsing and reassembly alone against a `json.loads` baseline; this
adds what a real backfill does after that: the orders go through `ingest.ingest_orders` in batches of
1,000, each a transaction on the store's own connection with `synchronous=FULL` (the batch's facts
read at once, `decide.lifecycle` for each order: content hash, history decision, refunds; the
decisions written at once: version rows, order rows).

    .venv/bin/python bench/backfill_store.py [--orders 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.backfill import peak_rss_mb, write_file
from shopify_bridge.decide.source_context import SourceContext
from shopify_bridge.service import ingest
from shopify_bridge.shopify.bulk import assemble, documents
from shopify_bridge.shopify.bulk.staging import open_staging
from shopify_bridge.store import Store
from shopify_bridge.timeutil import system_clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "bulk.jsonl"
        write_file(source, args.orders)
        store = Store.open_writer(folder / "store.db")
        ctx = SourceContext(shop="bench.myshopify.com", name="Bench", destinations=("file",))
        store.sources.ensure(ctx.shop, ctx.name)
        now = system_clock()
        first_connected = now.isoformat()
        started = time.perf_counter()
        staging = open_staging(folder / "staging.db")
        stats = assemble.stage_file(staging, "op", source)
        staged = time.perf_counter()
        batch: list[dict] = []
        count = 0

        def flush() -> None:
            with store.transaction():
                ingest.ingest_orders(store, ctx, batch, origin="bulk", now=now, first_connected_at=first_connected)
            batch.clear()

        for doc in documents.iter_orders(staging, "op"):
            batch.append(doc)
            count += 1
            if len(batch) >= 1000:
                flush()
        flush()
        done = time.perf_counter()
        versions = store.conn.execute("SELECT COUNT(*) FROM order_versions").fetchone()[0]
        print(f"orders                 {count:>10,}   (staged {stats.orders:,}, versions stored {versions:,})")
        print(f"stage                  {staged - started:>9.2f} s")
        print(f"reassemble + ingest    {done - staged:>9.2f} s")
        print(f"total                  {done - started:>9.2f} s   {count / (done - started):>9,.0f} orders/s")
        print(f"peak RSS               {peak_rss_mb():>9.1f} MB")


if __name__ == "__main__":
    main()
