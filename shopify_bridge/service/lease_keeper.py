"""Which shops this process polls when several bridge processes share one PostgreSQL store.

Every `renew` seconds the keeper (one per process) beats in `workers`, renews the leases it holds,
hands back the in-flight deliveries of workers that went silent, and balances: with W live workers and
S configured shops each worker aims at ceil(S / W) shops — it takes free or expired leases up to that
share and gives back what it holds beyond it (never a shop whose cycle is running). So a new process
gets its share within a tick or two, a new shop in the shared config is taken by whoever has room, and
a dead process's shops are free once its leases expire (`duration`) and taken at the next tick: within
duration + renew = 40 s by default. A graceful stop gives everything back at once.

`holds(shop)` is what a source loop asks before each cycle. It trusts the last renewal only until
`margin` before the lease's expiry: a process that cannot reach the database stops polling
before another one may take its shops. The lease makes one poller per shop the rule; exactly-once
events do not depend on it (the unique (shop, event_id) does that, and the outbox's row claims).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from msgspec import Struct

from shopify_bridge import exit_codes
from shopify_bridge.errors import BridgeError
from shopify_bridge.observe.log import get_logger
from shopify_bridge.store import Store
from shopify_bridge.store.leases import WORKER_TIMEOUT
from shopify_bridge.store.sql import StoreUnavailable
from shopify_bridge.timeutil import Clock, parse_ts

log = get_logger(component="leases")

FORGET_WORKERS_AFTER = timedelta(days=1)  # rows of long-dead workers are removed (they hold nothing)
LEASE_SECONDS_VARIABLE = "SHOPIFY_BRIDGE_LEASE_SECONDS"


class LeaseTiming(Struct, frozen=True):
    """How long a lease (and a worker's heartbeat) lasts; renewed every third of it, trusted until a sixth
    of it is left. 30 s by default; SHOPIFY_BRIDGE_LEASE_SECONDS (3 to 600) changes it for every process
    (the crash tests use a short one; all processes on one store must agree)."""

    duration: timedelta = WORKER_TIMEOUT

    @property
    def renew(self) -> float:
        return self.duration.total_seconds() / 3

    @property
    def margin(self) -> timedelta:
        return self.duration / 6

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> LeaseTiming:
        text = environ.get(LEASE_SECONDS_VARIABLE, "").strip()
        if not text:
            return cls()
        try:
            seconds = float(text)
        except ValueError:
            seconds = -1.0
        if not 3 <= seconds <= 600:
            raise BridgeError(f"{LEASE_SECONDS_VARIABLE}={text!r}: must be a number of seconds from 3 to 600",
                              exit_code=exit_codes.CONFIG)
        return cls(timedelta(seconds=seconds))


class LeaseKeeper:
    def __init__(
        self,
        store: Store,
        shops: Sequence[str],
        clock: Clock,
        *,
        on_gained: Callable[[str], None] | None = None,
        timing: LeaseTiming | None = None,
    ) -> None:
        self.store = store
        self.shops = tuple(shops)
        self.clock = clock
        self.on_gained = on_gained or (lambda shop: None)
        self.timing = timing or LeaseTiming()
        self.duration = self.timing.duration
        self.held: dict[str, datetime] = {}  # shop -> when its lease expires, as last renewed
        self.gained_at: dict[str, datetime] = {}  # shop -> when this process took it
        self.busy: set[str] = set()  # shops whose cycle runs now: never given back meanwhile
        self.alive_until: datetime | None = None  # our heartbeat counts until then
        self.session = 0  # the store connection of the last renewal (`Sql.session`)

    @property
    def owner(self) -> str:
        return self.store.owner

    def holds(self, shop: str) -> bool:
        """This process may poll `shop` now: it holds the lease, with time to spare."""
        expires = self.held.get(shop)
        return self.confirmed and expires is not None and self.clock() < expires - self.timing.margin

    @property
    def confirmed(self) -> bool:
        """The leases were last renewed on the connection the store has now. After a lost connection, the
        next tick confirms which of them are still ours (renewed) before any of them is trusted again."""
        return self.session != 0 and self.session == self.store.sql.session

    def alive(self) -> bool:
        """Our last heartbeat still counts (with time to spare): we may claim deliveries."""
        return self.alive_until is not None and self.clock() < self.alive_until - self.timing.margin

    @contextlib.contextmanager
    def working(self, shop: str) -> Iterator[None]:
        """Around a cycle of `shop`: its lease is not given back while the cycle runs."""
        self.busy.add(shop)
        try:
            yield
        finally:
            self.busy.discard(shop)

    def share(self, now: datetime) -> int:
        live = len(self.store.leases.live_workers(now, self.duration)) or 1
        return math.ceil(len(self.shops) / live)

    def tick(self) -> None:
        """Beat, renew, hand back dead workers' claims, then take or give back shops towards our share."""
        now = self.clock()
        leases = self.store.leases
        leases.heartbeat(now)
        self.alive_until = now + self.duration
        held = leases.renew(now, self.duration)
        for shop in held - set(self.shops):  # no longer in our config: let a process that has it poll it
            leases.release(shop)
        self.held = {shop: now + self.duration for shop in held if shop in self.shops}
        recovered = self.store.outbox.recover_in_flight(now, silence=self.duration)
        if recovered:
            log.info("re-sending deliveries that a silent worker had in flight", count=recovered)
        target = self.share(now)
        if len(self.held) > target:
            self._give_back(len(self.held) - target)
        elif len(self.held) < target:
            self._take(now, target - len(self.held))
        leases.forget_dead_workers(now, FORGET_WORKERS_AFTER)
        self.session = self.store.sql.session

    def _give_back(self, count: int) -> None:
        idle = sorted((shop for shop in self.held if shop not in self.busy), key=self._rank, reverse=True)
        for shop in idle[:count]:
            if self.store.leases.release(shop):
                log.info("lease given back to balance the processes", shop=shop)
            self.held.pop(shop, None)

    def _take(self, now: datetime, count: int) -> None:
        taken = {lease.shop: lease for lease in self.store.leases.all()}
        free = [
            shop for shop in self.shops
            if shop not in self.held and (shop not in taken or parse_ts(taken[shop].expires_at) <= now)
        ]
        for shop in sorted(free, key=self._rank)[:count]:
            if self.store.leases.acquire(shop, now, self.duration):
                previous = taken.get(shop)
                log.info("lease taken", shop=shop, previous_owner=previous.owner if previous else None)
                self.held[shop] = now + self.duration
                self.gained_at[shop] = now
                self.on_gained(shop)

    def _rank(self, shop: str) -> str:
        """Each process prefers other shops (a stable hash of owner and shop): fewer collisions."""
        return hashlib.sha256(f"{self.owner}\0{shop}".encode()).hexdigest()

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every `timing.renew` seconds until `stop`; a failed tick is logged and tried at the next."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.timing.renew)
            if stop.is_set():
                return
            self.safe_tick()

    def safe_tick(self) -> None:
        try:
            self.tick()
        except StoreUnavailable:
            return  # the database is away: the bridge logs the outage once; `holds` is False meanwhile
        except self.store.sql.errors as exc:
            # Nothing renewed: `holds` and `alive` run out on their own before anyone may take over.
            log.warning("leases not renewed", error=f"{type(exc).__name__}: {exc}")

    def retire(self) -> None:
        """Give every lease back and leave `workers` (a graceful stop): others take the shops at once."""
        self.held.clear()
        self.alive_until = None
        try:
            self.store.leases.retire()
        except StoreUnavailable:
            return  # a process stopping in an outage: its leases expire on their own
        except self.store.sql.errors as exc:
            log.warning("leases not given back; they expire on their own", error=f"{type(exc).__name__}: {exc}")
