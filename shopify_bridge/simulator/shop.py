"""The simulated shop as a Python control object: the shop's data plus everything one may do to it.

`SimulatorState` is a `ShopState` (the plain data every other module reads) with the operator's and the
tests' verbs: create, edit, tag, cancel, delete, refund, settle, advance the clock, inject faults. The
`/_sim` control API only translates JSON into these calls. It sits at the top of the simulator's imports:
it uses `changes` and `bulk`, and nothing below uses it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from shopify_bridge.simulator import changes
from shopify_bridge.simulator.bulk import BulkEngine
from shopify_bridge.simulator.clock import Clock, ManualClock
from shopify_bridge.simulator.data import random_customer
from shopify_bridge.simulator.faults import Fault
from shopify_bridge.simulator.options import DEFAULT_API_VERSIONS, DEFAULT_SCOPES, SimulatorOptions
from shopify_bridge.simulator.orders import Doc, gid, gid_number, public_doc
from shopify_bridge.simulator.records import customer_doc
from shopify_bridge.simulator.state import ShopState

__all__ = ["DEFAULT_API_VERSIONS", "DEFAULT_SCOPES", "ManualClockRequired", "SimulatorState", "new_token"]


def new_token() -> str:
    return "shpat_sim_" + secrets.token_hex(16)


class ManualClockRequired(RuntimeError):
    """The clock can only be advanced when the simulator runs on a ManualClock."""


class SimulatorState(ShopState):
    def __init__(
        self,
        *,
        token: str,
        options: SimulatorOptions | None = None,
        clock: Clock | None = None,
        shop_domain: str = "sim-snowboards.myshopify.com",
        **overrides: Any,
    ) -> None:
        """`options` (or the defaults) with any field overridden by keyword (`orders=3, search_lag_seconds=0`)."""
        if "api_versions" in overrides or "scopes" in overrides:
            for key in ("api_versions", "scopes"):
                if key in overrides:
                    overrides[key] = tuple(overrides[key])
        chosen = (options or SimulatorOptions()).with_changes(**overrides)
        super().__init__(token=token, options=chosen, clock=clock)
        self.shop["myshopifyDomain"] = shop_domain
        self.bulk = BulkEngine(self)  # registers its operations and mutations in the state
        for _ in range(max(5, chosen.orders // 3)):
            self.add_customer(random_customer(self.rng, self.rng.randint(10, 99999)))
        self._seed(chosen.orders, chosen.history_days)

    # -- time ---------------------------------------------------------------------------------
    def advance(self, seconds: float) -> datetime:
        if not isinstance(self.clock, ManualClock):
            raise ManualClockRequired("the simulator runs on the system clock; only a ManualClock can be advanced")
        return self.clock.advance(seconds)

    def customer_by_id(self, legacy_id: int) -> Doc:
        return customer_doc(self.person(legacy_id))

    # -- changes ------------------------------------------------------------------------------
    def create_order(self, **fields: Any) -> Doc:
        """A new order: random unless fields are given (camelCase, as in `data.random_order_spec`)."""
        return public_doc(changes.create_order(self, fields))

    def add_line_item(self, ref: str | int, line: Mapping[str, Any] | None = None, *, paid: bool = True) -> Doc:
        return public_doc(changes.add_line_item(self, self.resolve_order(ref), line, paid=paid))

    def add_tag(self, ref: str | int, tag: str) -> Doc:
        return public_doc(changes.add_tag(self, self.resolve_order(ref), tag))

    def cancel(self, ref: str | int, reason: str = "CUSTOMER") -> Doc:
        return public_doc(changes.cancel(self, self.resolve_order(ref), reason))

    def delete(self, ref: str | int) -> None:
        changes.delete(self, self.resolve_order(ref))

    def refund(
        self,
        ref: str | int,
        lines: Sequence[Mapping[str, Any]] = (),
        *,
        shipping: bool | Decimal | str = False,
        status: str = "SUCCESS",
        note: str | None = None,
        amount: Decimal | str | None = None,
        transactions: Sequence[Mapping[str, Any]] | None = None,
        created_at_null: bool = False,
    ) -> Doc:
        """Refund `lines` ([{lineItemId, quantity, restockType}]) and optionally shipping; the new refund.

        `transactions` ([{kind, status, amount}]) gives the refund's transactions outright (any kind and
        status, several of them, or `[]` for a restock-only refund that moves no money).
        """
        number = self.resolve_order(ref)
        made = changes.refund(
            self,
            number,
            lines,
            shipping=shipping,
            status=status,
            note=note,
            amount=amount,
            transactions=transactions,
            created_at_null=created_at_null,
        )
        return public_doc(made)

    def refund_all(self, ref: str | int, *, status: str = "SUCCESS", note: str | None = None) -> Doc:
        """Refund every unit still on the order and all shipping not yet refunded."""
        doc = self.order(ref)
        lines = [
            {"lineItemId": line["id"], "quantity": line["currentQuantity"], "restockType": "RETURN"}
            for line in doc["lineItems"]
            if line["currentQuantity"] > 0
        ]
        return self.refund(ref, lines, shipping=True, status=status, note=note)

    def settle_refund(self, refund_ref: str | int, status: str = "SUCCESS") -> Doc:
        """Move a refund's PENDING transactions to `status` (SUCCESS or FAILURE): the money moves now (or not)."""
        refund_gid = str(refund_ref) if str(refund_ref).startswith("gid://") else gid("Refund", int(refund_ref))
        return public_doc(changes.settle_refund(self, refund_gid, status))

    def inject(self, kind: str, count: int = 1, **params: Any) -> Fault:
        return self.faults.add(kind, count, **params)

    # -- seeding ------------------------------------------------------------------------------
    def _seed(self, count: int, history_days: int) -> None:
        """`count` orders processed over the last `history_days`, with a few later changes each."""
        now = self.now()
        start = now - timedelta(days=history_days)
        moments = sorted(
            start + timedelta(seconds=self.rng.uniform(0, history_days * 86400 - 600)) for _ in range(count)
        )
        for moment in moments:
            order = changes.create_order(self, {}, at=moment)
            number = gid_number(order["id"])
            self._seed_history(number, order, moment, now)

    def _seed_history(self, number: int, order: Doc, moment: datetime, now: datetime) -> None:
        roll = self.rng.random()
        later = moment + timedelta(hours=self.rng.uniform(1, 48))
        if later >= now:
            return
        if roll < 0.03:
            changes.cancel(self, number, "CUSTOMER", at=later)
        elif roll < 0.09 and order["displayFinancialStatus"] == "PAID":
            line = order["lineItems"][0]
            changes.refund(
                self,
                number,
                [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}],
                note="Customer changed their mind",
                at=later,
            )
        elif roll < 0.13:
            changes.add_line_item(self, number, at=moment + timedelta(minutes=self.rng.uniform(1, 5)))
