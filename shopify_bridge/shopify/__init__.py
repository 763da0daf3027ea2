"""Shopify Admin GraphQL access: query documents, the throttle-aware client and response parsing."""
