"""Every GraphQL document the bridge sends to Shopify.

Page sizes are chosen so that each query's *requested* cost stays well under Shopify's
1,000-point single-query limit (`shopify.cost` prices them with Shopify's documented model).
Polling lists a window's orders as `id updatedAt` only (`LIST_ORDERS`: 14 points for 250 orders), and
reads in full, by id in batches (`READ_ORDERS`, `nodes(ids:)`), just those newer than the store: the
overlap that the search index's lag makes every window re-read then costs almost nothing.

A page size that something pages through is a variable (`$first`, `$lineItemsFirst`) whose
default is today's size: the client always sends it, and after MAX_COST_EXCEEDED halves it for
that operation (the caller follows `pageInfo`, so smaller pages lose nothing). An order with more
line items than `LINE_ITEMS_PAGE` gets follow-up `order(id:)` queries.

The connections of `READ_REFUND` stay literal: nothing pages through them, so a smaller page
would silently drop refund lines, transactions or shipping lines instead of costing less.
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
RECONCILE_PAGE = 250

MONEY = "shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }"

ADDRESS = "firstName lastName city provinceCode zip countryCodeV2 phone"

# Order-level fields (no connections) shared by the poll, the read-by-id and the bulk query.
ORDER_SCALARS = f"""
    id legacyResourceId name createdAt updatedAt processedAt cancelledAt cancelReason test
    sourceName tags email phone currencyCode presentmentCurrencyCode displayFinancialStatus
    discountCodes edited taxesIncluded checkoutToken cartToken
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

# Refund details live in connections inside the `refunds` list, so they are read per refund
# (never in a bulk query, and never multiplied by an orders page).
READ_REFUND = f"""
query BridgeReadRefund($id: ID!) {{
  node(id: $id) {{
    ... on Refund {{
      id legacyResourceId createdAt processedAt updatedAt note
      totalRefundedSet {{ {MONEY} }}
      refundLineItems(first: {REFUND_LINE_ITEMS_PAGE}) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{
          id quantity restockType
          priceSet {{ {MONEY} }}
          subtotalSet {{ {MONEY} }}
          lineItem {{
            id title name variantTitle sku
            product {{ id legacyResourceId }}
            variant {{ id legacyResourceId }}
          }}
        }}
      }}
      transactions(first: {REFUND_TRANSACTIONS_PAGE}) {{
        nodes {{ id kind status processedAt amountSet {{ {MONEY} }} }}
      }}
      refundShippingLines(first: {REFUND_SHIPPING_PAGE}) {{
        nodes {{ id subtotalAmountSet {{ {MONEY} }} }}
      }}
    }}
  }}
}}
"""

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

# reconcile: the orders of one shop-timezone day, ids and names only (cheap: no nested connections).
RECONCILE_ORDERS = f"""
query BridgeReconcileOrders($query: String!, $after: String, $first: Int = {RECONCILE_PAGE}) {{
  orders(first: $first, after: $after, query: $query, sortKey: PROCESSED_AT) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ id legacyResourceId name processedAt }}
  }}
}}
"""
