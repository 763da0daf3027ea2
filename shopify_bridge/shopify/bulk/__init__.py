"""Bulk-operation backfill: the bulk query documents, the JSONL reader and the SQLite reassembly.

- `query`: `bulk_orders_query(start, end)`, `in_window`, and the run / poll / cancel documents.
- `operation`: `BulkOperations` — run the query, wait for the operation, cancel a leftover (Shopify only).
- `download`: `download(url, target)` — stream a result file from its signed URL.
- `jsonl`: `JsonlReader` / `read_records` — a streaming, typed view of one result file.
- `assemble`: `stage_file` — order-independent staging of a result file, quarantine with reasons.
- `documents`: `iter_orders` — the staged orders as order documents, each parsed once.
- `staging`: the staging database (ids and places of the lines) and its lines file: `open_staging`, `clear`,
  `quarantined`.
"""

from shopify_bridge.shopify.bulk.assemble import StageStats, stage_file
from shopify_bridge.shopify.bulk.documents import iter_orders
from shopify_bridge.shopify.bulk.jsonl import ChildLine, JsonlReader, Malformed, OrderLine, Truncated, read_records
from shopify_bridge.shopify.bulk.query import (
    BULK_CANCEL,
    BULK_OPERATION,
    BULK_RUN_QUERY,
    bulk_orders_query,
    in_window,
)
from shopify_bridge.shopify.bulk.staging import clear, open_staging, quarantined

__all__ = [
    "BULK_CANCEL",
    "BULK_OPERATION",
    "BULK_RUN_QUERY",
    "ChildLine",
    "JsonlReader",
    "Malformed",
    "OrderLine",
    "StageStats",
    "Truncated",
    "bulk_orders_query",
    "clear",
    "in_window",
    "iter_orders",
    "open_staging",
    "quarantined",
    "read_records",
    "stage_file",
]
