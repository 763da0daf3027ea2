"""What happens in the simulated shop between (and during) bridge runs, and what each change implies.

`ShopTraffic` makes seeded random changes through `SimulatorState` and keeps a ledger of the
orders it created: their kind decides whether a Placed Order is expected. A change that can flip
the exclusion decision depending on whether the bridge saw the order before it (a cancellation or
an `Exclude` tag added after creation) marks the order *racy*: then either decision is correct, and
the invariants only demand that the bridge's stored decision and its events agree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from shopify_bridge.simulator.shop import SimulatorState

EXCLUDE_TAG = "Exclude"
OrderKind = Literal["web", "pos", "test", "tagged"]
EXCLUDED_KINDS: frozenset[str] = frozenset({"pos", "test", "tagged"})


@dataclass
class PlannedOrder:
    """An order the traffic created: `kind` fixes the exclusion unless a later change made it racy."""

    gid: str
    order_id: str
    name: str
    kind: OrderKind
    racy: str | None = None

    @property
    def excluded_by_kind(self) -> bool:
        return self.kind in EXCLUDED_KINDS


@dataclass
class TrafficCounts:
    orders: int = 0
    upsells: int = 0
    refunds: int = 0
    refused: int = 0
    cancels: int = 0
    late_tags: int = 0


class ShopTraffic:
    """Seeded random store activity; `burst()` is a handful of changes, sometimes a rush of orders."""

    def __init__(self, state: SimulatorState, seed: int = 0, *, rush_probability: float = 0.1,
                 rush_size: int = 25) -> None:
        self.state = state
        self.rng = random.Random(seed)
        self.rush_probability = rush_probability
        self.rush_size = rush_size
        self.orders: dict[str, PlannedOrder] = {}
        self.counts = TrafficCounts()

    def burst(self, changes: int) -> None:
        if self.rng.random() < self.rush_probability:
            # Many events in one delivery batch: a kill then tears a larger write.
            for _ in range(self.rush_size):
                self.new_order("web")
        for _ in range(changes):
            self.step()

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.40 or len(self.orders) < 3:
            self.new_order("web")
        elif roll < 0.46:
            self.new_order("pos")
        elif roll < 0.52:
            self.new_order("test")
        elif roll < 0.56:
            self.new_order("tagged")
        elif roll < 0.68:
            self.upsell()
        elif roll < 0.90:
            self.refund()
        elif roll < 0.95:
            self.cancel()
        else:
            self.late_tag()

    # -- changes -----------------------------------------------------------------------------
    def new_order(self, kind: OrderKind) -> PlannedOrder:
        fields: dict[str, Any] = {"sourceName": "pos" if kind == "pos" else "web", "test": kind == "test"}
        fields["tags"] = [EXCLUDE_TAG] if kind == "tagged" else []
        doc = self.state.create_order(**fields)
        planned = PlannedOrder(doc["id"], doc["legacyResourceId"], doc["name"], kind)
        self.orders[planned.gid] = planned
        self.counts.orders += 1
        return planned

    def _recent(self, window: int = 12) -> PlannedOrder:
        return self.rng.choice(list(self.orders.values())[-window:])

    def upsell(self) -> None:
        self._attempt(lambda: self.state.add_line_item(self._recent().gid), "upsells")

    def refund(self) -> None:
        planned = self.rng.choice(list(self.orders.values()))
        doc = self.state.order(planned.gid)
        lines = [line for line in doc["lineItems"] if line["currentQuantity"] > 0]
        if not lines:
            return
        line = self.rng.choice(lines)
        wanted = [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}]
        self._attempt(lambda: self.state.refund(planned.gid, wanted, note="crash harness"), "refunds")

    def cancel(self) -> None:
        planned = self._recent(4)
        if self._attempt(lambda: self.state.cancel(planned.gid), "cancels"):
            planned.racy = planned.racy or "cancelled after creation"

    def late_tag(self) -> None:
        planned = self._recent(4)
        if self._attempt(lambda: self.state.add_tag(planned.gid, EXCLUDE_TAG), "late_tags"):
            planned.racy = planned.racy or "Exclude tag added after creation"

    def _attempt(self, change: Any, counter: str) -> bool:
        """Apply a change the shop may refuse (refunding an unpaid order…): a refusal is counted."""
        try:
            change()
        except (ValueError, KeyError):
            self.counts.refused += 1
            return False
        setattr(self.counts, counter, getattr(self.counts, counter) + 1)
        return True
