"""The delivery loop: drains the outbox into destinations, one loop per destination.

Each destination has its own loop, so a slow or failing destination never holds up another
(or a source's polling). Retries back off exponentially with jitter:
delay(n) = min(RETRY_CAP, RETRY_BASE * 2**(n-1)) * uniform(0.5, 1.0), or the server's
`Retry-After` when it gave one; a delivery goes dead after `max_attempts` attempts or once it is
older than `max_age` (then `replay` re-sends it with the same event_id).

A batch is claimed (`Outbox.claim`: read and marked in flight for this process in one transaction)
before it is sent, so processes sharing a PostgreSQL store drain the same destination side by side
and never send one row twice. `may_claim` (the lease keeper's liveness) stops a process whose
heartbeat no longer counts from claiming: the others may then be taking its claims back.

Before sending, the router (`routing.Router`) judges each claimed delivery again: one that its
destination does not take (any more) is recorded `filtered` or `skipped` with its reason instead of
being sent, and one it cannot judge or map is dead at once with why. Every delivery that goes dead is
reported to `on_dead` (the alerts).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from msgspec import Struct, field

from shopify_bridge.deliver.destinations.base import Destination, Outgoing
from shopify_bridge.deliver.routing import Router
from shopify_bridge.observe.log import get_logger
from shopify_bridge.retry import Backoff
from shopify_bridge.store.db import StorageFailure, storage_failure
from shopify_bridge.store.outbox import Due, Outbox
from shopify_bridge.store.sql import StoreUnavailable
from shopify_bridge.timeutil import Clock, parse_ts

DELIVERY_RETRY = Backoff(base=2.0, cap=3600.0)
IDLE_WAIT_SECONDS = 5.0

log = get_logger(component="delivery")


def retry_delay(attempt: int, rng: Callable[[], float] = random.random) -> float:
    return DELIVERY_RETRY.delay(attempt, rng)


class RetryPolicy(Struct):
    max_attempts: int | None = None
    max_age: timedelta | None = None


class DeliveryStats(Struct):
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    kept_out: int = 0  # filtered or skipped: the destination does not take them
    by_destination: dict[str, int] = field(default_factory=dict)


class DeadLetter(Struct, frozen=True):
    """A delivery that just went dead: what the alerts say about it."""

    destination: str
    shop: str
    event_id: str
    error: str
    status: int | None


class Deliverer:
    def __init__(
        self,
        outbox: Outbox,
        destinations: Sequence[Destination],
        clock: Clock,
        policies: dict[str, RetryPolicy] | None = None,
        *,
        router: Router | None = None,
        on_dead: Callable[[DeadLetter], None] | None = None,
        may_claim: Callable[[], bool] | None = None,
    ) -> None:
        self.outbox = outbox
        self.destinations = list(destinations)
        self.clock = clock
        self.policies = policies or {}
        self.router = router
        self.on_dead = on_dead or (lambda dead: None)
        self.may_claim = may_claim or (lambda: True)
        self.wake = asyncio.Event()
        # Per destination: deliveries sent whose `delivered` could not be recorded (the database server went
        # away in between), with when. Recorded once it is back, before anything is handed back to be sent
        # again: a lost connection is not a dead process, and must not send an event twice.
        self._sent_unrecorded: dict[str, tuple[list[int], datetime]] = {}

    async def open(self) -> None:
        recovered = self.outbox.recover_in_flight(self.clock())
        if recovered:
            log.info("re-sending deliveries that were in flight when the bridge stopped", count=recovered)
        for destination in self.destinations:
            await destination.open()

    async def close(self) -> None:
        for destination in self.destinations:
            await destination.close()

    async def drain(self, destination: Destination, stop: asyncio.Event | None = None) -> DeliveryStats:
        """Send everything due now to one destination; returns what happened."""
        stats = DeliveryStats()
        outbox = self.outbox
        self._record_sent(destination.name)  # what an earlier drain sent while the database was away
        while True:
            if stop is not None and stop.is_set():
                return stats  # shutting down: the batch in flight was finished and recorded; the rest waits
            now = self.clock()
            if not self.may_claim():
                log.warning("not claiming: this process's heartbeat is overdue", destination=destination.name)
                return stats
            outbox.bury_refunds_of_dead_orders(destination.name)
            batch = outbox.claim(destination.name, now, limit=destination.batch_size)
            if not batch:
                return stats
            sendable = self._route(destination.name, batch, now, stats)
            if not sendable:
                continue  # all of them kept out or dead: the next ones may be due behind them
            results = await destination.send([Outgoing(d.event_id, d.payload.encode(), d.facts) for d in sendable])
            now = self.clock()
            delivered = [d.event_seq for d, r in zip(sendable, results, strict=True) if r.outcome == "delivered"]
            if delivered:
                self._sent_unrecorded[destination.name] = (delivered, now)
                self._record_sent(destination.name)
                stats.delivered += len(delivered)
            progressed = bool(delivered) or len(sendable) < len(batch)
            for item, result in zip(sendable, results, strict=True):
                if result.outcome == "delivered":
                    continue
                progressed = True
                if result.outcome == "skipped":
                    self._keep_out(destination.name, item, "skipped", result.reason or "skipped", result.error or "")
                    stats.kept_out += 1
                    continue
                self._record_failure(
                    destination.name,
                    item,
                    result.status,
                    result.error or "failed",
                    result.outcome == "dead",
                    result.retry_after,
                    now,
                    stats,
                )
            if not progressed:
                return stats
            if any(result.outcome in ("retry", "dead") for result in results):
                # Something failed: later events of the same order must not overtake it this round.
                return stats

    def _record_sent(self, destination: str) -> None:
        """Record as delivered what was sent to `destination` and not yet recorded; raises `StoreUnavailable`
        (and keeps them) while the database server is away."""
        sent = self._sent_unrecorded.get(destination)
        if sent is not None:
            self.outbox.mark_delivered(destination, *sent)
            del self._sent_unrecorded[destination]

    def _route(self, destination: str, batch: list[Due], now: datetime, stats: DeliveryStats) -> list[Due]:
        """The deliveries of `batch` to send; the others are recorded now (kept out, or dead when they cannot
        be judged)."""
        router = self.router
        if router is None or router.takes_everything(destination):
            return batch
        sendable = []
        for item in batch:
            try:
                why = router(destination, item.payload, item.facts, now)
            except ValueError as exc:  # PayloadError among them: it would fail the same way every time
                self._mark_dead(destination, item, f"cannot be sent: {exc}", None, stats)
                continue
            if why is None:
                sendable.append(item)
            else:
                self._keep_out(destination, item, why.state, why.reason, why.detail)
                stats.kept_out += 1
        return sendable

    def _keep_out(self, destination: str, item: Due, state: str, reason: str, detail: str) -> None:
        self.outbox.mark_kept_out(destination, item.event_seq, state, reason, detail)
        log.info("delivery kept out", destination=destination, event_id=item.event_id, state=state, reason=reason)

    def _record_failure(
        self,
        destination: str,
        item: Due,
        status: int | None,
        error: str,
        permanent: bool,
        retry_after: float | None,
        now: datetime,
        stats: DeliveryStats,
    ) -> None:
        policy = self.policies.get(destination, RetryPolicy())
        attempts = item.attempts + 1
        too_many = policy.max_attempts is not None and attempts >= policy.max_attempts
        too_old = policy.max_age is not None and now - parse_ts(item.created_at) >= policy.max_age
        if permanent or too_many or too_old:
            reason = error if permanent else f"{error} (gave up after {attempts} attempts)"
            self._mark_dead(destination, item, reason, status, stats)
            return
        delay = retry_after if retry_after is not None else retry_delay(attempts)
        self.outbox.mark_retry(destination, item.event_seq, now + timedelta(seconds=delay), error, status)
        stats.retried += 1
        log.info(
            "delivery retry",
            destination=destination,
            event_id=item.event_id,
            attempt=attempts,
            error=error,
            wait_seconds=round(delay, 1),
        )

    def _mark_dead(self, destination: str, item: Due, reason: str, status: int | None, stats: DeliveryStats) -> None:
        self.outbox.mark_dead(destination, item.event_seq, reason, status)
        stats.dead += 1
        log.warning("delivery dead", destination=destination, event_id=item.event_id, error=reason, status=status)
        try:
            self.on_dead(DeadLetter(destination, item.shop, item.event_id, reason, status))
        except Exception as exc:  # telling someone must never stop the delivery
            log.error("dead letter not reported", destination=destination, error=f"{type(exc).__name__}: {exc}")

    async def deliver_once(self) -> DeliveryStats:
        total = DeliveryStats()
        for destination in self.destinations:
            stats = await self.drain(destination)
            total.delivered += stats.delivered
            total.retried += stats.retried
            total.dead += stats.dead
            total.kept_out += stats.kept_out
            total.by_destination[destination.name] = stats.delivered
        return total

    def next_due_in(self, destination: str) -> float:
        next_at = self.outbox.next_attempt_at(destination)
        if next_at is None:
            return IDLE_WAIT_SECONDS
        return max(0.0, min(IDLE_WAIT_SECONDS, (next_at - self.clock()).total_seconds()))

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(self._loop(d, stop) for d in self.destinations))

    async def _loop(self, destination: Destination, stop: asyncio.Event) -> None:
        unsettled = False  # a drain ended without recording what it had claimed
        while not stop.is_set():
            wait = IDLE_WAIT_SECONDS
            try:
                if unsettled:  # what was sent is recorded; the rest of the claims go out again
                    self._record_sent(destination.name)
                    self.outbox.hand_back(destination.name)
                    unsettled = False
                await self.drain(destination, stop)
                wait = self.next_due_in(destination.name)
            except StorageFailure:
                raise  # the disk or the database file failed: the whole process stops (exit 74)
            except StoreUnavailable:
                unsettled = True  # the database server is away: the bridge logs it once; we try again
            except Exception as exc:  # a destination bug must not end the process's other work
                failure = storage_failure(exc)
                if failure is not None:
                    raise failure from exc
                log.error("delivery loop failed", destination=destination.name, error=f"{type(exc).__name__}: {exc}")
                unsettled = True
            self.wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
