"""Leases and workers: which process polls which shop, and which processes are alive.

Several bridge processes may share one PostgreSQL store. Each is a *worker* (a row in `workers`,
its `seen_at` rewritten every few seconds); each shop is polled by the worker holding its *lease*
(a row in `leases` with an owner and an expiry, renewed while the owner lives). Every change of
ownership is one conditional row write, so two workers never both believe they took the same shop:
a lease is taken only when it is free, expired or already the taker's.

The timing policy (how long a lease lasts, how many shops a worker takes) is the service's
(`service.lease_keeper`); this module only reads and writes the rows.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from msgspec import Struct

from shopify_bridge.store.sql import Sql
from shopify_bridge.timeutil import iso

# A worker not heard from for this long is dead: its outbox claims are taken back (`Outbox.
# recover_in_flight`) and, as its leases last as long, its shops are free. It beats every few seconds.
WORKER_TIMEOUT = timedelta(seconds=30)


def new_owner() -> str:
    """A name for this process that no other process (here or on another host) will have."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease(Struct, frozen=True):
    shop: str
    owner: str
    expires_at: str  # UTC ISO


class Leases:
    def __init__(self, sql: Sql, owner: str) -> None:
        self.sql = sql
        self.owner = owner

    # -- workers ------------------------------------------------------------------------------
    def heartbeat(self, now: datetime) -> None:
        """This worker is alive at `now` (registered on its first beat)."""
        at = iso(now)
        with self.sql.transaction():
            self.sql.run(
                "INSERT INTO workers (owner, host, pid, started_at, seen_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at",
                (self.owner, socket.gethostname(), os.getpid(), at, at),
            )

    def live_workers(self, now: datetime, silence: timedelta) -> list[str]:
        """Workers heard from within `silence` before `now`, in a stable order."""
        rows = self.sql.all("SELECT owner FROM workers WHERE seen_at > ? ORDER BY owner", (iso(now - silence),))
        return [str(owner) for (owner,) in rows]

    def forget_dead_workers(self, now: datetime, after: timedelta) -> int:
        """Drop the rows of workers silent for `after` (their leases have long expired)."""
        with self.sql.transaction():
            return self.sql.run("DELETE FROM workers WHERE seen_at <= ?", (iso(now - after),))

    def retire(self) -> None:
        """A graceful stop: give up every lease now (others take the shops at once) and leave `workers`."""
        with self.sql.transaction():
            self.sql.run("DELETE FROM leases WHERE owner = ?", (self.owner,))
            self.sql.run("DELETE FROM workers WHERE owner = ?", (self.owner,))

    # -- leases -------------------------------------------------------------------------------
    def renew(self, now: datetime, duration: timedelta) -> set[str]:
        """Extend every lease this worker holds to `now + duration`; the shops it holds.

        A lease that expired but was not taken by another is still this worker's: nobody else polled.
        """
        with self.sql.transaction():
            self.sql.run("UPDATE leases SET expires_at = ? WHERE owner = ?", (iso(now + duration), self.owner))
            rows = self.sql.all("SELECT shop FROM leases WHERE owner = ?", (self.owner,))
        return {str(shop) for (shop,) in rows}

    def acquire(self, shop: str, now: datetime, duration: timedelta) -> bool:
        """Take `shop`'s lease when it is free, expired or already ours; True when we hold it now."""
        at = iso(now)
        with self.sql.transaction():
            changed = self.sql.run(
                "INSERT INTO leases (shop, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (shop) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at, "
                "expires_at = excluded.expires_at WHERE leases.owner = excluded.owner OR leases.expires_at <= ?",
                (shop, self.owner, at, iso(now + duration), at),
            )
        return changed > 0

    def release(self, shop: str) -> bool:
        """Give `shop` up (another worker may take it at once); False when we did not hold it."""
        with self.sql.transaction():
            return self.sql.run("DELETE FROM leases WHERE shop = ? AND owner = ?", (shop, self.owner)) > 0

    def all(self) -> list[Lease]:
        """Every lease row, by shop: for dashboards, `status` and the tests."""
        rows = self.sql.all("SELECT shop, owner, expires_at FROM leases ORDER BY shop")
        return [Lease(str(shop), str(owner), str(expires)) for shop, owner, expires in rows]
