"""Delivery: the outbox drain, retries and the destinations."""
