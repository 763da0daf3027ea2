"""The bulk backfill's GraphQL documents: the orders bulk query and the run / poll / cancel operations.

The bulk query selects exactly the order fields of the poll (`ORDER_SCALARS`, `LINE_ITEM_FIELDS`), so a
backfilled order normalizes to the same document as a polled one. Shopify's bulk rules shape it: every
connection through `edges { node }` (never `nodes`), no pagination arguments, at most 5 connections and a
nesting depth of 2, and no connection inside a list field — which is why `refunds` (a list on Order) stays
the inline selection of `ORDER_SCALARS` and refund details are read later with ordinary queries.

Window semantics. The backfill window is half-open on `processedAt`: `start <= processedAt < end`. Shopify's
search treats `<` like `<=` (and `>` like `>=`), so the search string can only ask for a *superset* of the
window: `processed_at:>='<start, floored to the second>' processed_at:<'<end, ceiled to the second>'`.
The exact boundary is applied client-side with `in_window`, which the backfill must call on every order it
reads back; otherwise an order processed exactly at `end` would be taken by two adjacent windows.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from shopify_bridge.shopify import search
from shopify_bridge.shopify.queries import LINE_ITEM_FIELDS, ORDER_SCALARS
from shopify_bridge.timeutil import parse_ts

# Shopify echoes the submitted bulk query verbatim in `BulkOperation.query`; this first line lets the
# backfill recognise its own operations after a restart (e.g. when listing `bulkOperations`).
BULK_ORDERS_QUERY_TAG = "# shopify-bridge: orders backfill"

BULK_OPERATION_FIELDS = """
    id status type errorCode createdAt completedAt objectCount rootObjectCount
    fileSize url partialDataUrl query
"""

# The bulk query travels as the `$query` variable, never spliced into the mutation text. `groupObjects:
# false` is the 2026-01+ default, spelled out because grouping is slower and more likely to time out, and
# because the reader does not rely on children following their parent anyway.
BULK_RUN_QUERY = f"""
mutation BridgeBulkRunQuery($query: String!) {{
  bulkOperationRunQuery(query: $query, groupObjects: false) {{
    bulkOperation {{ {BULK_OPERATION_FIELDS} }}
    userErrors {{ field message code }}
  }}
}}
"""

BULK_OPERATION = f"""
query BridgeBulkOperation($id: ID!) {{
  bulkOperation(id: $id) {{ {BULK_OPERATION_FIELDS} }}
}}
"""

# BulkOperationCancelPayload.userErrors are plain UserError: there is no `code` to select.
BULK_CANCEL = """
mutation BridgeBulkCancel($id: ID!) {
  bulkOperationCancel(id: $id) {
    bulkOperation { id status objectCount }
    userErrors { field message }
  }
}
"""


def _ceil_to_second(moment: datetime) -> datetime:
    floored = moment.replace(microsecond=0)
    return floored if floored == moment else floored + timedelta(seconds=1)


def _require_aware(name: str, moment: datetime | None) -> None:
    if moment is not None and moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (a naive datetime has no defined instant)")


def orders_search(start: datetime | None, end: datetime | None) -> str:
    """The `orders(query:)` search string for the window: a superset of `[start, end)` (see module doc)."""
    _require_aware("start", start)
    _require_aware("end", end)
    if start is not None and end is not None and start >= end:
        raise ValueError(f"empty backfill window: start {start.isoformat()} is not before {end.isoformat()}")
    terms = []
    if start is not None:
        # date_term drops sub-seconds, i.e. floors: `>=` on the floor is a superset of `>= start`.
        terms.append(search.date_term("processed_at", ">=", start))
    if end is not None:
        terms.append(search.date_term("processed_at", "<", _ceil_to_second(end)))
    return search.all_of(*terms)


def bulk_orders_query(start: datetime | None, end: datetime | None) -> str:
    """The one bulk query document of the backfill, for orders processed in `[start, end)`.

    Pass it as the `query` variable of `BULK_RUN_QUERY`. Filter what comes back with `in_window`.
    """
    wanted = orders_search(start, end)
    # A GraphQL string literal: JSON's escaping is GraphQL's (quotes, backslashes, control characters).
    arguments = f"query: {json.dumps(wanted)}, sortKey: PROCESSED_AT" if wanted else "sortKey: PROCESSED_AT"
    return f"""{BULK_ORDERS_QUERY_TAG}
{{
  orders({arguments}) {{
    edges {{
      node {{
        {ORDER_SCALARS}
        lineItems {{
          edges {{
            node {{ {LINE_ITEM_FIELDS} }}
          }}
        }}
      }}
    }}
  }}
}}
"""


def in_window(processed_at: str, start: datetime | None, end: datetime | None) -> bool:
    """Whether an order's `processedAt` (Shopify's ISO string) lies in the half-open `[start, end)`."""
    _require_aware("start", start)
    _require_aware("end", end)
    moment = parse_ts(processed_at)
    return (start is None or moment >= start) and (end is None or moment < end)
