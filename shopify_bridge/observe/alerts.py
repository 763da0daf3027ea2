"""Sending alerts to the `[alerts]` url (POST JSON) and/or command (argv, the JSON on stdin).

The rules (what an alert says, one per kind and source per 15 minutes) are `alert_rules`; this is the
sending. `Alerter.notify` is called from anywhere in the bridge and never blocks or raises. Its task
(`run`) waits `COLLECT_SECONDS` after a first cause so that causes arriving together (a batch of
deliveries going dead) become one alert, puts each through the gate and sends it; held alerts are sent
when their window ends. A send is tried up to three times (`RETRY_DELAYS`), all within a minute of the
cause; when no sink took it, it is logged and dropped, and the bridge goes on. A sink counts as told
when the url answers 2xx or the command exits 0; one of the two is enough to start the window.

The url is a secret (a chat webhook URL is a credential): it is registered with the log redactor by
the config, and failures name it only as "url". Every string of the document passes the redactor
before it is sent. The times the last alerts went out are kept in the store (`store.alerts`), so the
rate limit holds across restarts; a read-only store (`reconcile`) honours them but cannot add to them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

import aiohttp

from shopify_bridge.observe.alert_rules import Alert, AlertGate
from shopify_bridge.observe.log import REDACTOR, get_logger
from shopify_bridge.timeutil import Clock

SEND_TIMEOUT_SECONDS = 10.0
RETRY_DELAYS = (5.0, 15.0)  # three attempts: 10 s + 5 + 10 + 15 + 10 = 50 s at most, inside the minute
COLLECT_SECONDS = 2.0
IDLE_SECONDS = 60.0
ERROR_HEAD_CHARS = 200

log = get_logger(component="alerts")

Sleep = Callable[[float], Awaitable[None]]


class AlertSinkError(Exception):
    """A sink did not take the alert; the message names the sink, never the url itself."""


class AlertSink(Protocol):
    name: str

    async def __call__(self, body: bytes) -> None: ...


class WebhookSink:
    """POSTs the JSON document to the url; 2xx is taken."""

    name = "url"

    def __init__(self, url: str, timeout_seconds: float = SEND_TIMEOUT_SECONDS) -> None:
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    def __repr__(self) -> str:
        return "WebhookSink(url=***)"

    async def __call__(self, body: bytes) -> None:
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as session, session.post(
                self._url, data=body, headers={"Content-Type": "application/json"}, allow_redirects=False
            ) as answer:
                if not 200 <= answer.status < 300:
                    head = (await answer.content.read(ERROR_HEAD_CHARS)).decode("utf-8", "replace")
                    raise AlertSinkError(f"url answered HTTP {answer.status}: {' '.join(head.split())}")
        except TimeoutError:
            raise AlertSinkError("url: no answer in time") from None
        except aiohttp.ClientError as exc:
            # The exception's text may hold the url: only its kind is told.
            raise AlertSinkError(f"url: {type(exc).__name__}") from None


class CommandSink:
    """Runs the argv with the JSON document on stdin; exit status 0 is taken."""

    name = "command"

    def __init__(self, argv: Sequence[str], timeout_seconds: float = SEND_TIMEOUT_SECONDS) -> None:
        self._argv = list(argv)
        self._timeout = timeout_seconds

    async def __call__(self, body: bytes) -> None:
        try:
            process = await asyncio.create_subprocess_exec(
                *self._argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise AlertSinkError(f"command {self._argv[0]!r} cannot run: {exc.strerror or exc}") from None
        try:
            _, stderr = await asyncio.wait_for(process.communicate(body), self._timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AlertSinkError(f"command {self._argv[0]!r} did not finish within {self._timeout:g} s") from None
        if process.returncode != 0:
            head = " ".join(stderr.decode("utf-8", "replace").split())[:ERROR_HEAD_CHARS]
            raise AlertSinkError(f"command {self._argv[0]!r} exited {process.returncode}: {head}")


class SentAlerts(Protocol):
    """Where the times of the last alerts are kept (`store.alerts`)."""

    def last_sent(self) -> dict[tuple[str, str], datetime]: ...

    def record_sent(self, kind: str, source: str, at: datetime) -> None: ...


def alert_body(alert: Alert) -> bytes:
    """The JSON document as sent: every string through the log redactor (no secret leaves in an alert)."""
    return json.dumps(REDACTOR.value(alert.document()), ensure_ascii=False).encode()


class Alerter:
    def __init__(
        self,
        sinks: Sequence[AlertSink],
        *,
        clock: Clock,
        sent: SentAlerts | None = None,
        record: bool = True,
        sleep: Sleep = asyncio.sleep,
        collect_seconds: float = COLLECT_SECONDS,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.sinks = list(sinks)
        self.clock = clock
        self._sent = sent
        self._record = record and sent is not None
        self._sleep = sleep
        self._collect = collect_seconds
        self._retry_delays = tuple(retry_delays)
        self.gate = AlertGate(self._last_sent())
        self._queue: list[Alert] = []
        self._wake = asyncio.Event()
        self.delivered: list[Alert] = []  # what went out in this process, for `run --once` and tests

    def _last_sent(self) -> dict[tuple[str, str], datetime]:
        if self._sent is None:
            return {}
        try:
            return self._sent.last_sent()
        except Exception as exc:  # the store's answer is a nicety here: without it the windows start now
            log.warning("alert history not read", error=f"{type(exc).__name__}: {exc}")
            return {}

    def notify(self, alert: Alert) -> None:
        """Queue an alert (never blocks, never raises); `run` or `flush` sends it."""
        self._queue.append(alert)
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send alerts as they come and held ones as their windows end, until `stop`; then what is queued."""
        while not stop.is_set():
            if not self._queue:
                self._wake.clear()
                await self._wait(stop, self._idle_seconds(), self._wake)
            if self._queue and not stop.is_set():
                await self._wait(stop, self._collect)  # let the causes arriving together join this one
            await self.flush_safely()
        await self.flush_safely(retry=False)

    async def flush_safely(self, *, retry: bool = True) -> None:
        """`flush`, and whatever goes wrong in it is logged: alerting never ends the bridge's other work."""
        try:
            await self.flush(retry=retry)
        except Exception as exc:
            log.error("alerts failed", error=f"{type(exc).__name__}: {exc}")

    def _idle_seconds(self) -> float:
        due = self.gate.next_due()
        if due is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(0.0, (due - self.clock()).total_seconds()))

    @staticmethod
    async def _wait(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> None:
        # Real time, whatever clock the bridge runs on: this only paces how often the task looks.
        events = [stop] if wake is None else [stop, wake]
        waiters = [asyncio.ensure_future(event.wait()) for event in events]
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters:
            task.cancel()

    async def flush(self, *, retry: bool = True) -> None:
        """Send what is queued (through the gate) and the held alerts whose window has ended."""
        queued, self._queue = self._queue, []
        now = self.clock()
        ready: list[Alert] = []
        for alert in _merged(queued):
            passed = self.gate.offer(alert, now)
            if passed is not None:
                ready.append(passed)
            else:
                log.info("alert held by the rate limit", kind=alert.kind, source=alert.source)
        ready += self.gate.due(now)
        for alert in ready:
            await self._send(alert, retry=retry)

    async def _send(self, alert: Alert, *, retry: bool) -> None:
        body = alert_body(alert)
        delays = self._retry_delays if retry else ()
        for attempt, delay in enumerate((*delays, None), start=1):
            failures = []
            for sink in self.sinks:
                try:
                    await sink(body)
                except Exception as exc:  # a failing sink is told about, never lets the bridge fail
                    failures.append(REDACTOR.text(str(exc) if isinstance(exc, AlertSinkError)
                                                  else f"{sink.name}: {type(exc).__name__}: {exc}"))
            if len(failures) < len(self.sinks):
                self._took(alert)
                for failure in failures:
                    log.warning("alert sink failed", kind=alert.kind, source=alert.source, error=failure)
                return
            if delay is None:
                log.error("alert not sent", kind=alert.kind, source=alert.source, attempts=attempt,
                          error="; ".join(failures))
                return
            log.warning("alert not sent yet", kind=alert.kind, source=alert.source, attempt=attempt,
                        error="; ".join(failures), wait_seconds=delay)
            await self._sleep(delay)

    def _took(self, alert: Alert) -> None:
        at = self.clock()
        self.gate.sent(alert, at)
        self.delivered.append(alert)
        log.info("alert sent", kind=alert.kind, source=alert.source)
        if self._record and self._sent is not None:
            try:
                self._sent.record_sent(alert.kind, alert.source, at)
            except Exception as exc:  # the window still holds in this process
                log.warning("alert not recorded", kind=alert.kind, error=f"{type(exc).__name__}: {exc}")


def _merged(alerts: Sequence[Alert]) -> list[Alert]:
    """Alerts of one kind and source that came together folded into one (causes added), in first-seen order."""
    merged: dict[tuple[str, str], Alert] = {}
    for alert in alerts:
        first = merged.get(alert.key)
        merged[alert.key] = alert if first is None else first.fold(alert)
    return list(merged.values())


class AlertsSpec(Protocol):
    @property
    def url(self) -> str | None: ...
    @property
    def command(self) -> list[str]: ...


def sinks_of(spec: AlertsSpec) -> list[AlertSink]:
    """The sinks an `[alerts]` table names: the url, the command, or both."""
    sinks: list[AlertSink] = []
    if spec.url:
        sinks.append(WebhookSink(spec.url))
    if spec.command:
        sinks.append(CommandSink(spec.command))
    return sinks
