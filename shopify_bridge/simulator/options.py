"""Every way a simulated shop can be made harsher (or kinder), as one plain dataclass.

`SimulatorOptions()` is what tests and the demo get by default; `SimulatorOptions.harsh()` is Shopify at
its worst as the notes describe it, one switch away. The `simulate` command builds its options with
`SimulatorOptions.from_cli(...)`, so the command line and the Python API cannot drift apart.

Sources of each behaviour (see docs/simulator.md for the long form):

- search lag per change, out of order: notes §2.3 ("Less than 10 seconds" typically, lightward/mechanic-tasks
  PR #66; order search "unreliable" right after a change, shopify-draft-proxy hard-and-weird-notes) and PRODUCT.md
  "Never miss an order" (sometimes by minutes, not in `updatedAt` order);
- a competing app draining the bucket: notes §3.1 (limits are per app+store, but the store's
  traffic is shared in practice) and PRODUCT.md "API cost" ("even with the bucket drained by another app");
- several transactions per refund: notes §2.8 and gotcha 18 (a Refund's money is in its `transactions`);
- the 60-day window without `read_all_orders`: notes §2.1 and gotcha 10;
- ignored HTTP Range requests on result files: notes gotcha 6 (`fileSize` may differ from downloaded bytes;
  a plain signed GCS GET) — whether a retry can resume is not promised anywhere, so both are offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from shopify_bridge.simulator.money import check_currency

DEFAULT_SCOPES = ("read_customer_events", "read_customers", "read_orders", "read_products", "read_all_orders")
DEFAULT_API_VERSIONS = ("2025-07", "2025-10", "2026-01", "2026-04", "2026-07")
TYPICAL_LAG_SECONDS = 10.0  # notes §2.3: "Less than 10 seconds"
HARSH_LAG_MAX_SECONDS = 15 * 60.0
HARSH_LATE_SHARE = 0.2
HARSH_COMPETING_SHARE = 0.8
HARSH_REFUND_SPLIT = 3


@dataclass(frozen=True)
class SimulatorOptions:
    """How one simulated shop behaves. Defaults are today's values (some still kind); see `harsh()`."""

    seed: int = 0
    orders: int = 20
    history_days: int = 30
    # The search index: a constant lag (`search_lag_seconds`), or — when `search_lag_max_seconds` is set —
    # a lag drawn per change: most changes within TYPICAL_LAG_SECONDS, `search_lag_late_share` of them up
    # to the maximum, so changes become searchable out of `updatedAt` order.
    search_lag_seconds: float = 2.0
    search_lag_max_seconds: float | None = None
    search_lag_late_share: float = HARSH_LATE_SHARE
    # Another app of the same shop spending this share of the restore rate (0.8: 80 points of 100 per second).
    competing_app_share: float = 0.0
    bucket_size: int = 2000
    restore_rate: int = 100
    # A refund's money split over up to this many REFUND transactions (1: always one transaction).
    refund_split: int = HARSH_REFUND_SPLIT
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    api_versions: tuple[str, ...] = DEFAULT_API_VERSIONS
    shop_currency: str = "CAD"
    # Presentment currencies buyers may pay in (a quarter of generated orders use one of them).
    presentment_currencies: tuple[str, ...] = ("USD", "EUR")
    # Result-file downloads: honour `Range` with 206 (True) or ignore it and send the whole file (False).
    bulk_honours_range: bool = True
    # Where the numbering starts: every numeric id this far past its usual base, order numbers (#1001)
    # from `first_order_number`, so a demo continuing an earlier database never reuses a stored id.
    id_offset: int = 0
    first_order_number: int = 1001

    @classmethod
    def harsh(cls, **overrides: Any) -> SimulatorOptions:
        """Shopify at its worst as recorded: minutes of out-of-order lag, a greedy neighbour, split refunds."""
        base = cls(
            search_lag_max_seconds=HARSH_LAG_MAX_SECONDS,
            competing_app_share=HARSH_COMPETING_SHARE,
            refund_split=HARSH_REFUND_SPLIT,
        )
        return replace(base, **overrides)

    def with_changes(self, **changes: Any) -> SimulatorOptions:
        return replace(self, **changes)

    @property
    def read_all_orders(self) -> bool:
        return "read_all_orders" in self.scopes or "write_all_orders" in self.scopes

    @classmethod
    def from_cli(
        cls,
        *,
        harsh: bool = False,
        seed: int = 0,
        orders: int = 50,
        history_days: int | None = None,
        search_lag: float | None = None,
        search_lag_max: float | None = None,
        competing_app: float | None = None,
        refund_split: int | None = None,
        no_read_all_orders: bool = False,
        currency: str | None = None,
        presentment: Sequence[str] = (),
        ignore_range: bool = False,
    ) -> SimulatorOptions:
        """Options from the `simulate` command's flags; a flag given overrides the profile's value."""
        options = cls.harsh() if harsh else cls()
        changes: dict[str, Any] = {"seed": seed, "orders": orders}
        if history_days is not None:
            changes["history_days"] = history_days
        if search_lag is not None:
            changes.update(search_lag_seconds=search_lag, search_lag_max_seconds=None)
        if search_lag_max is not None:
            changes["search_lag_max_seconds"] = search_lag_max
        if competing_app is not None:
            changes["competing_app_share"] = competing_app
        if refund_split is not None:
            changes["refund_split"] = refund_split
        if no_read_all_orders:
            changes["scopes"] = tuple(s for s in options.scopes if s not in ("read_all_orders", "write_all_orders"))
        if currency:
            changes["shop_currency"] = currency.upper()
        if presentment:
            changes["presentment_currencies"] = tuple(c.upper() for c in presentment)
        if ignore_range:
            changes["bulk_honours_range"] = False
        return options.with_changes(**changes).validated()

    def validated(self) -> SimulatorOptions:
        """The options, or ValueError naming the first one out of range (one clear line for the CLI)."""
        if self.search_lag_seconds < 0 or (self.search_lag_max_seconds or 0) < 0:
            raise ValueError("search lag cannot be negative")
        if not 0 <= self.search_lag_late_share <= 1:
            raise ValueError("search_lag_late_share must be between 0 and 1")
        if not 0 <= self.competing_app_share < 1:
            raise ValueError("the competing app's share of the restore rate must be at least 0 and below 1")
        if self.refund_split < 1:
            raise ValueError("refund_split must be at least 1")
        if self.id_offset < 0 or self.first_order_number < 1:
            raise ValueError("id_offset cannot be negative and first_order_number must be at least 1")
        if self.orders < 0 or self.history_days < 1:
            raise ValueError("orders must be at least 0 and history_days at least 1")
        for currency in (self.shop_currency, *self.presentment_currencies):
            check_currency(currency)
        return self
