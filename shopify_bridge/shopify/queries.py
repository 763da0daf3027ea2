"""Every GraphQL document the bridge sends to Shopify.

Page sizes are chosen so that each query's *requested* cost stays well under Shopify's
1,000-point single-query limit (`shopify.cost` prices them with Shopify's documented model).
Polling lists a window's orders as `id updatedAt` only (`LIST_ORDERS`: 14 points for 250 orders), and
reads in full, by id in batches (`READ_ORDERS`, `nodes(ids:)`), just those newer than the store: the
overlap that the search index's lag makes every window re-read then costs almost nothing.

A page size that something pages through is a variable (`$first`, `$lineItemsFirst`) whose
default is today's size: the client always sends it, and after MAX_COST_EXCEEDED halves it for
that operation (the caller follows `pageInfo`, so smaller pages lose nothing). An order with more
line items than `LINE_ITEMS_PAGE` gets follow-up `order(id:)` queries; a refund with more lines,
transactions or shipping lines than its first page gets follow-up `node(id:)` queries.
"""

from __future__ import annotations

API_VERSION_DEFAULT = "2026-07"

LIST_PAGE = 250
READ_BATCH = 25  # ids per `nodes(ids:)` read (Shopify takes up to 250 input items)
LINE_ITEMS_PAGE = 10
LINE_ITEMS_FOLLOW_UP_PAGE = 100
REFUND_LINE_ITEMS_PAGE = 50
REFUND_TRANSACTIONS_PAGE = 20
REFUND_SHIPPING_PAGE = 10
REFUND_FOLLOW_UP_PAGE = 250
REFUNDS_BATCH = 250
RECONCILE_PAGE = 250

MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"

ADDRESS = "firstName lastName city provinceCode zip countryCodeV2 phone"

# Order-level fields (no connections) shared by the poll, the read-by-id and the bulk query.
ORDER_SCALARS = f"""
    id legacyResourceId name createdAt updatedAt processedAt cancelledAt cancelReason test
    sourceName tags email phone currencyCode presentmentCurrencyCode displayFinancialStatus
    discountCodes edited taxesIncluded checkoutToken cartToken
    customAttributes {{ key value }}
    totalPriceSet {{ {MONEY} }}
    currentTotalPriceSet {{ {MONEY} }}
    totalTaxSet {{ {MONEY} }}
    currentTotalTaxSet {{ {MONEY} }}
    totalDiscountsSet {{ {MONEY} }}
    currentTotalDiscountsSet {{ {MONEY} }}
    totalShippingPriceSet {{ {MONEY} }}
    totalRefundedSet {{ {MONEY} }}
    customer {{
      id legacyResourceId firstName lastName
      defaultEmailAddress {{ emailAddress }}
      defaultPhoneNumber {{ phoneNumber }}
      defaultAddress {{ {ADDRESS} }}
    }}
    billingAddress {{ {ADDRESS} }}
    shippingAddress {{ {ADDRESS} }}
    refunds {{ id legacyResourceId createdAt processedAt updatedAt note totalRefundedSet {{ {MONEY} }} }}
"""

LINE_ITEM_FIELDS = f"""
    id title name variantTitle sku vendor quantity currentQuantity
    originalUnitPriceSet {{ {MONEY} }}
    product {{ id legacyResourceId }}
    variant {{ id legacyResourceId }}
    image {{ url }}
"""

# The orders of one `updated_at` window, listed in `updatedAt` order: what changed, not what it is.
LIST_ORDERS = f"""
query BridgeListOrders($query: String!, $after: String, $first: Int = {LIST_PAGE}) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ id updatedAt }}
  }}
}}
"""

# Orders read in full by id, from Shopify's database (never lagged like the search index); an id that
# is no order (any more) comes back null.
READ_ORDERS = f"""
query BridgeReadOrders($ids: [ID!]!, $lineItemsFirst: Int = {LINE_ITEMS_PAGE}) {{
  nodes(ids: $ids) {{
    ... on Order {{
      {ORDER_SCALARS}
      lineItems(first: $lineItemsFirst) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {LINE_ITEM_FIELDS} }}
      }}
    }}
  }}
}}
"""

READ_ORDER = f"""
query BridgeReadOrder($id: ID!, $lineItemsFirst: Int = {LINE_ITEMS_PAGE}) {{
  order(id: $id) {{
    {ORDER_SCALARS}
    lineItems(first: $lineItemsFirst) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {LINE_ITEM_FIELDS} }}
    }}
  }}
}}
"""

ORDER_LINE_ITEMS_PAGE = f"""
query BridgeOrderLineItems($id: ID!, $after: String, $first: Int = {LINE_ITEMS_FOLLOW_UP_PAGE}) {{
  order(id: $id) {{
    id
    lineItems(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {LINE_ITEM_FIELDS} }}
    }}
  }}
}}
"""

# Refund details live in connections inside the `refunds` list, so they are read apart from their order
# (never in a bulk query, and never multiplied by an orders page): many refunds at once with
# `nodes(ids:)` (at most REFUNDS_BATCH ids, Shopify's cap on input arrays), each connection's first page
# sized by a variable (halved after MAX_COST_EXCEEDED), and what a page leaves out read with the
# follow-up queries below, to the last page.
REFUND_FIELDS = f"""
    id legacyResourceId createdAt processedAt updatedAt note
    totalRefundedSet {{ {MONEY} }}
"""
REFUND_LINE_ITEM_FIELDS = f"""
    id quantity restockType
    priceSet {{ {MONEY} }}
    subtotalSet {{ {MONEY} }}
    lineItem {{
      id title name variantTitle sku
      product {{ id legacyResourceId }}
      variant {{ id legacyResourceId }}
    }}
"""
REFUND_TRANSACTION_FIELDS = f"id kind status processedAt amountSet {{ {MONEY} }}"
REFUND_SHIPPING_FIELDS = f"id subtotalAmountSet {{ {MONEY} }}"

READ_REFUNDS = f"""
query BridgeReadRefunds(
  $ids: [ID!]!, $lineItemsFirst: Int = {REFUND_LINE_ITEMS_PAGE},
  $transactionsFirst: Int = {REFUND_TRANSACTIONS_PAGE}, $shippingFirst: Int = {REFUND_SHIPPING_PAGE}
) {{
  nodes(ids: $ids) {{
    ... on Refund {{
      {REFUND_FIELDS}
      refundLineItems(first: $lineItemsFirst) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {REFUND_LINE_ITEM_FIELDS} }}
      }}
      transactions(first: $transactionsFirst) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {REFUND_TRANSACTION_FIELDS} }}
      }}
      refundShippingLines(first: $shippingFirst) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {REFUND_SHIPPING_FIELDS} }}
      }}
    }}
  }}
}}
"""


def _refund_follow_up(name: str, connection: str, fields: str) -> str:
    return f"""
query {name}($id: ID!, $after: String, $first: Int = {REFUND_FOLLOW_UP_PAGE}) {{
  node(id: $id) {{
    ... on Refund {{
      id
      {connection}(first: $first, after: $after) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {fields} }}
      }}
    }}
  }}
}}
"""


REFUND_LINE_ITEMS_NEXT = _refund_follow_up("BridgeRefundLineItems", "refundLineItems", REFUND_LINE_ITEM_FIELDS)
REFUND_TRANSACTIONS_NEXT = _refund_follow_up("BridgeRefundTransactions", "transactions", REFUND_TRANSACTION_FIELDS)
REFUND_SHIPPING_NEXT = _refund_follow_up("BridgeRefundShippingLines", "refundShippingLines", REFUND_SHIPPING_FIELDS)

SHOP_INFO = """
query BridgeShopInfo {
  shop { id name myshopifyDomain currencyCode ianaTimezone }
  currentAppInstallation { accessScopes { handle } }
}
"""

ORDERS_COUNT = """
query BridgeOrdersCount($query: String!) {
  ordersCount(query: $query, limit: null) { count precision }
}
"""

EARLIER_ORDERS_BATCH = 10
"""`$is_new_customer` searches per request: each an aliased `ordersCount` of one query, still 10 points
apiece (a `…Count` field's price), so a batch saves requests and their latency, not points."""


def earlier_orders(searches: int) -> str:
    """One query asking `searches` `ordersCount`s at once, as `c0`, `c1`… with the searches in `$q0`, `$q1`…;
    its name says how many, so that the pacer learns each size's cost apart."""
    params = ", ".join(f"$q{i}: String!" for i in range(searches))
    fields = "\n".join(f"  c{i}: ordersCount(query: $q{i}, limit: null) {{ count precision }}" for i in range(searches))
    return f"query BridgeEarlierOrders{searches}({params}) {{\n{fields}\n}}\n"

# reconcile: the orders of one shop-timezone day, ids and names only (cheap: no nested connections).
RECONCILE_ORDERS = f"""
query BridgeReconcileOrders($query: String!, $after: String, $first: Int = {RECONCILE_PAGE}) {{
  orders(first: $first, after: $after, query: $query, sortKey: PROCESSED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ id legacyResourceId name processedAt }}
  }}
}}
"""
