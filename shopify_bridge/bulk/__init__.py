"""Bulk-operation backfill: the bulk query documents, the JSONL reader and the SQLite reassembly.

- `query`: `bulk_orders_query(start, end)`, `in_window`, and the run / poll / cancel documents.
- `jsonl`: `JsonlReader` / `read_records` — a streaming, typed view of one result file.
- `assemble`: `stage_file`, `iter_orders` — order-independent reassembly into order documents.
- `staging`: the SQLite staging tables: `open_staging`, `clear`, `quarantined`.
"""

from shopify_bridge.bulk.assemble import StageStats, iter_orders, stage_file
from shopify_bridge.bulk.jsonl import ChildLine, JsonlReader, Malformed, OrderLine, Truncated, read_records
from shopify_bridge.bulk.query import (
    BULK_CANCEL,
    BULK_OPERATION,
    BULK_RUN_QUERY,
    bulk_orders_query,
    in_window,
)
from shopify_bridge.bulk.staging import clear, open_staging, quarantined

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
