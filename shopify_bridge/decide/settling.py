"""Settling a refund's money: what a waiting refund waits for, when it is read again, when waiting ends.

A refund that is not final yet is `waiting`, for one of three things (`waits_for`):

- `placed_order` — its order is new or held: it follows the Placed Order built at release and is not
  read on its own meanwhile;
- `details` — its transactions, line items and shipping lines have not been read (a refund from a bulk
  result, whose details a bulk query cannot select), or Shopify did not return it when asked;
- `pending` — one of its REFUND transactions is still in flight (PENDING or AWAITING_RESPONSE).

A refund waiting for `details` or `pending` is read again with a backoff from 1 minute doubling to 1 hour
(`attempts` counts the reads that found it still waiting; a refund never read yet is due at once), from
`since` — when it began waiting for its money — for up to the source's `refund_settle_days`. A refund
still waiting after that is `refund_unsettled`: final, read no more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from msgspec import Struct

from shopify_bridge.timeutil import iso, parse_ts

WaitsFor = Literal["placed_order", "details", "pending"]
FIRST_REREAD = timedelta(minutes=1)
LONGEST_REREAD = timedelta(hours=1)
UNSETTLED = "refund_unsettled"
# OrderTransactionStatus values of a transaction still in flight (notes §2.8): its money may yet move.
IN_FLIGHT = ("PENDING", "AWAITING_RESPONSE")


class RecordedRefund(Struct, frozen=True):
    """A refund as the store knows it: its status and, while it waits, what for, since when, reads so far."""

    status: str
    waits_for: str | None = None
    since: str | None = None
    attempts: int = 0


class Wait(Struct, frozen=True):
    """A waiting refund's settling state, as it is recorded."""

    waits_for: WaitsFor
    since: str
    attempts: int
    next_read_at: datetime | None  # None: not read on its own (waits for the Placed Order)


def reread_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th read that found the refund still waiting: 1 min, 2, 4 … 1 hour."""
    if attempts <= 0:
        return timedelta(0)
    return min(FIRST_REREAD * (1 << min(attempts - 1, 16)), LONGEST_REREAD)


def waiting(recorded: RecordedRefund | None, waits_for: WaitsFor, now: datetime, *, read: bool) -> Wait:
    """The settling state of a refund found waiting for `waits_for` now. `read` says whether its details
    were asked of Shopify for this decision (False for a bulk result, which cannot carry them)."""
    before = recorded if recorded is not None and recorded.status == "waiting" else None
    # The clock for its money starts once it stops waiting for its order.
    restart = (
        before is None
        or before.since is None
        or (before.waits_for in (None, "placed_order") and before.waits_for != waits_for)
    )
    since = iso(now) if restart or before is None else str(before.since)
    attempts = 0 if before is None or restart else before.attempts
    if waits_for == "placed_order":
        return Wait(waits_for, since, 0, None)
    if not read:
        return Wait(waits_for, since, attempts, now)  # never asked: read at once
    attempts += 1
    return Wait(waits_for, since, attempts, now + reread_delay(attempts))


def out_of_time(wait: Wait, now: datetime, settle_days: int) -> bool:
    """Whether a refund waiting for its money has waited `refund_settle_days` and is given up on."""
    return wait.waits_for != "placed_order" and now >= parse_ts(wait.since) + timedelta(days=settle_days)
