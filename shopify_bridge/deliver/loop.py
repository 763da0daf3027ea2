"""The delivery loop: drains the outbox into destinations, one loop per destination.

Each destination has its own loop, so a slow or failing destination never holds up another
(or a source's polling). Retries back off exponentially with jitter:
delay(n) = min(RETRY_CAP, RETRY_BASE * 2**(n-1)) * uniform(0.5, 1.0), or the server's
`Retry-After` when it gave one; a delivery goes dead after `max_attempts` attempts or once it is
older than `max_age` (then `replay` re-sends it with the same event_id).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shopify_bridge.deliver.destinations.base import Destination
from shopify_bridge.observe.log import get_logger
from shopify_bridge.retry import Backoff
from shopify_bridge.store.db import StorageFailure, storage_failure
from shopify_bridge.store.outbox import Due, Outbox
from shopify_bridge.timeutil import Clock, parse_ts

DELIVERY_RETRY = Backoff(base=2.0, cap=3600.0)
IDLE_WAIT_SECONDS = 5.0

log = get_logger(component="delivery")


def retry_delay(attempt: int, rng: Callable[[], float] = random.random) -> float:
    return DELIVERY_RETRY.delay(attempt, rng)


@dataclass
class RetryPolicy:
    max_attempts: int | None = None
    max_age: timedelta | None = None


@dataclass
class DeliveryStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    by_destination: dict[str, int] = field(default_factory=dict)


class Deliverer:
    def __init__(
        self,
        outbox: Outbox,
        destinations: Sequence[Destination],
        clock: Clock,
        policies: dict[str, RetryPolicy] | None = None,
    ) -> None:
        self.outbox = outbox
        self.destinations = list(destinations)
        self.clock = clock
        self.policies = policies or {}
        self.wake = asyncio.Event()

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
        while True:
            if stop is not None and stop.is_set():
                return stats  # shutting down: the batch in flight was finished and recorded; the rest waits
            now = self.clock()
            outbox.bury_refunds_of_dead_orders(destination.name)
            batch = outbox.due(destination.name, now, limit=destination.batch_size)
            if not batch:
                return stats
            outbox.mark_in_flight(destination.name, [d.event_seq for d in batch])
            results = await destination.send([(d.event_id, d.payload.encode()) for d in batch])
            now = self.clock()
            delivered = [d.event_seq for d, r in zip(batch, results, strict=True) if r.outcome == "delivered"]
            if delivered:
                outbox.mark_delivered(destination.name, delivered, now)
                stats.delivered += len(delivered)
            progressed = bool(delivered)
            for item, result in zip(batch, results, strict=True):
                if result.outcome == "delivered":
                    continue
                progressed = True
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
            if len(delivered) < len(batch):
                # Something failed: later events of the same order must not overtake it this round.
                return stats

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
            self.outbox.mark_dead(destination, item.event_seq, reason, status)
            stats.dead += 1
            log.warning("delivery dead", destination=destination, event_id=item.event_id, error=reason, status=status)
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

    async def deliver_once(self) -> DeliveryStats:
        total = DeliveryStats()
        for destination in self.destinations:
            stats = await self.drain(destination)
            total.delivered += stats.delivered
            total.retried += stats.retried
            total.dead += stats.dead
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
        while not stop.is_set():
            try:
                await self.drain(destination, stop)
            except StorageFailure:
                raise  # the disk or the database file failed: the whole process stops (exit 74)
            except Exception as exc:  # a destination bug must not end the process's other work
                failure = storage_failure(exc)
                if failure is not None:
                    raise failure from exc
                log.error("delivery loop failed", destination=destination.name, error=f"{type(exc).__name__}: {exc}")
            wait = self.next_due_in(destination.name)
            self.wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
