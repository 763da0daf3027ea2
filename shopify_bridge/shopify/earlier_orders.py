"""The earlier orders of a shop in one bulk operation: who ordered by when, for `$is_new_customer`.

A backfill that forwards history must say for each order whether its customer ordered before. Asking
`ordersCount` per customer costs one request each (≈ 10,000 for 20,000 orders); instead one extra bulk
operation lists every order processed before the backfill's end with just what the rule needs — id,
`processedAt`, `test`, `email`, `customer { id }` — and `read_result` folds its result into, per customer
key (`decide.new_customer`), the earliest non-test order. Bulk results honour the 60-day window without
`read_all_orders` as `orders` does (notes gotcha 10): the caller knows whether that list is complete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson

from shopify_bridge.decide import new_customer as rules
from shopify_bridge.shopify.bulk.query import orders_search

# Shopify echoes the query in `BulkOperation.query`: this line names the operation's purpose.
EARLIER_ORDERS_QUERY_TAG = "# shopify-bridge: earlier orders (new customers)"
NOTE_BATCH = 10_000


def bulk_query(end: datetime) -> str:
    """Every order processed before `end` (a superset: the search's `<` acts as `<=`), five fields each."""
    return f"""{EARLIER_ORDERS_QUERY_TAG}
{{
  orders(query: {json.dumps(orders_search(None, end))}, sortKey: PROCESSED_AT) {{
    edges {{ node {{ id processedAt test email customer {{ id }} }} }}
  }}
}}
"""


def read_result(path: Path, batch: int = NOTE_BATCH) -> Iterator[dict[str, datetime]]:
    """The result file as batches of `{customer key: earliest non-test processedAt}`, read line by line (a
    child line, which this query has none of, or an unreadable one is skipped)."""
    earliest: dict[str, datetime] = {}
    with path.open("rb") as lines:
        for line in lines:
            try:
                order = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(order, dict) or "__parentId" in order or not order.get("processedAt"):
                continue
            rules.note_earliest(earliest, order)
            if len(earliest) >= batch:
                yield earliest
                earliest = {}
    if earliest:
        yield earliest
