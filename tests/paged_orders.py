"""A page of whole orders: the heavy paged query (two page sizes, 110 points) that the client, pacing and
simulator tests price, throttle and halve.

The bridge itself no longer sends it: it lists a window's ids (`queries.LIST_ORDERS`) and reads in full,
by id, only what changed (`queries.READ_ORDERS`). The order and line-item selections are the bridge's own.
"""

from __future__ import annotations

from shopify_bridge.shopify.queries import LINE_ITEM_FIELDS, LINE_ITEMS_PAGE, ORDER_SCALARS

ORDERS_PAGE = 10

PAGED_ORDERS = f"""
query PagedOrders(
  $query: String!, $after: String, $first: Int = {ORDERS_PAGE}, $lineItemsFirst: Int = {LINE_ITEMS_PAGE}
) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      {ORDER_SCALARS}
      lineItems(first: $lineItemsFirst) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {LINE_ITEM_FIELDS} }}
      }}
    }}
  }}
}}
"""
