"""Destinations: where events go. Each takes payloads (exact JSON bytes) and says what happened."""

from shopify_bridge.destinations.base import Destination, DeliveryResult

__all__ = ["DeliveryResult", "Destination"]
