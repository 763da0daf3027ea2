"""The operator's Textual dashboard for shopify-bridge.

The core (`shopify_bridge`) never imports this package; the dashboard reads the store through
`shopify_bridge.store.schema.open_reader` and asks for writes through `DashboardActions`.
"""

from tui.actions import DashboardActions
from tui.app import DashboardApp

__all__ = ["DashboardActions", "DashboardApp"]
