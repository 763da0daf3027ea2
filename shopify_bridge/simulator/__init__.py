"""A built-in stand-in for Shopify's Admin GraphQL API (demo, integration tests, cassettes).

It shares no code with the rest of the bridge on purpose: it must behave as Shopify does, not as
the bridge believes Shopify does.
"""

from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.cost import actual_cost, requested_cost
from shopify_bridge.simulator.options import SimulatorOptions
from shopify_bridge.simulator.schema import simulator_schema
from shopify_bridge.simulator.server import SimulatorServer, serve_forever
from shopify_bridge.simulator.shop import SimulatorState

__all__ = [
    "ManualClock",
    "SimulatorOptions",
    "SimulatorServer",
    "SimulatorState",
    "actual_cost",
    "requested_cost",
    "serve_forever",
    "simulator_schema",
]
