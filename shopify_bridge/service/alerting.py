"""What the bridge tells `[alerts]`: a source that fails or polls again, deliveries that go dead, and (from
the `reconcile` command) days whose orders do not add up.

`BridgeAlerts` turns the bridge's own events into alerts (`observe.alert_rules`) and hands them to the
sender (`observe.alerts.Alerter`). A source is told about when it *becomes* failed, not on every retry
while it stays failed, and its recovery only after that; the rate limit does the rest. Without an
`[alerts]` table every method does nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from shopify_bridge.config import Config
from shopify_bridge.deliver.loop import DeadLetter
from shopify_bridge.observe import alert_rules
from shopify_bridge.observe.alerts import Alerter, SentAlerts, Sleep, sinks_of
from shopify_bridge.store import Store
from shopify_bridge.timeutil import Clock

if TYPE_CHECKING:  # the `reconcile` command's module: `run` never loads it
    from shopify_bridge.service.reconcile import DayResult


class BridgeAlerts:
    def __init__(self, alerter: Alerter | None, source_names: dict[str, str], clock: Clock) -> None:
        self.alerter = alerter
        self._names = source_names  # shop → source name
        self._clock = clock
        self._failing: dict[str, datetime] = {}  # source name → when it became failed

    @classmethod
    def for_config(cls, config: Config, sent: SentAlerts, clock: Clock, sleep: Sleep = asyncio.sleep) -> BridgeAlerts:
        alerter = None
        if config.alerts is not None:
            alerter = Alerter(sinks_of(config.alerts), clock=clock, sent=sent, sleep=sleep)
        return cls(alerter, {source.shop_domain: source.name for source in config.sources}, clock)

    def source_failed(self, source: str, reason: str) -> None:
        if self.alerter is None or source in self._failing:
            return
        now = self._clock()
        self._failing[source] = now
        self.alerter.notify(alert_rules.source_failed(source, reason, now))

    def source_ok(self, source: str) -> None:
        since = self._failing.pop(source, None)
        if self.alerter is None or since is None:
            return
        self.alerter.notify(alert_rules.source_recovered(source, since, self._clock()))

    def dead_letter(self, dead: DeadLetter) -> None:
        if self.alerter is None:
            return
        source = self._names.get(dead.shop, dead.shop)
        self.alerter.notify(alert_rules.dead_letters(source, [(dead.destination, dead.event_id, dead.error)],
                                                     self._clock()))

    async def run(self, stop: asyncio.Event) -> None:
        if self.alerter is not None:
            await self.alerter.run(stop)

    async def flush(self) -> None:
        """`run --once`: send what this cycle caused now (one attempt each: a cron run does not linger)."""
        if self.alerter is not None:
            await self.alerter.flush_safely(retry=False)


class ReconcileAlerts:
    """`reconcile`: one `reconcile_mismatch` per source with mismatching days. The command reads the store
    only, so it honours the windows the bridge recorded but cannot record its own (a writable store does)."""

    def __init__(self, config: Config, store: Store, clock: Clock) -> None:
        self._clock = clock
        self.alerter = None
        if config.alerts is not None:
            self.alerter = Alerter(sinks_of(config.alerts), clock=clock, sent=store.alerts, record=store.writable)

    def mismatch(self, source: str, days: Sequence[DayResult]) -> None:
        wrong = [(day.day.isoformat(), day.shopify, day.accounted) for day in days if not day.ok]
        if self.alerter is not None and wrong:
            self.alerter.notify(alert_rules.reconcile_mismatch(source, wrong, self._clock()))

    async def flush(self) -> None:
        if self.alerter is not None:
            await self.alerter.flush_safely()
