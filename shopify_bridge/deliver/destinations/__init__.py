"""Destinations: where events go. Each takes payloads (exact JSON bytes) and says what happened."""

from shopify_bridge.deliver.destinations.base import DeliveryResult, Destination, Outgoing

__all__ = ["DeliveryResult", "Destination", "Outgoing"]
