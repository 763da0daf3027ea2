"""Sending alerts: the url and the command sinks, retries within the minute, failures that never stop anything,
the rate limit kept in the store, and the bridge telling about a failing source, its recovery and dead letters."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from shopify_bridge.config import Config, config_from_toml
from shopify_bridge.observe import alert_rules
from shopify_bridge.observe.alerts import Alerter, AlertSinkError, CommandSink, WebhookSink, alert_body
from shopify_bridge.observe.log import register_secrets
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store import Store
from tests.delivery.receiver import Receiver, Reply
from tests.e2e.test_walking_skeleton import cycle
from tests.fake_clock import FakeClock

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TOKEN = "shpat_alerts_canary_1"


class FakeSink:
    def __init__(self, name: str, failures: int = 0) -> None:
        self.name = name
        self.failures = failures
        self.bodies: list[bytes] = []

    async def __call__(self, body: bytes) -> None:
        self.bodies.append(body)
        if self.failures:
            self.failures -= 1
            raise AlertSinkError(f"{self.name} is down")


class Waits:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    server.key_of = lambda path, body: path
    await server.start()
    yield server
    await server.stop()


async def test_a_send_is_retried_within_the_minute_and_one_sink_taking_it_is_enough() -> None:
    url, command, waits = FakeSink("url", failures=2), FakeSink("command", failures=9), Waits()
    alerter = Alerter([url, command], clock=FakeClock(T0), sleep=waits)
    alerter.notify(alert_rules.source_failed("Main", "HTTP 401", T0))
    with capture_logs() as logs:
        await alerter.flush()
    assert len(url.bodies) == 3 and waits.seconds == [5.0, 15.0]  # 3 tries: 50 s at most with the timeouts
    assert [a.kind for a in alerter.delivered] == ["source_failed"]
    assert [e["event"] for e in logs].count("alert sink failed") == 1  # the command, told once it is over


async def test_no_sink_taking_it_is_logged_and_nothing_raises() -> None:
    url, waits = FakeSink("url", failures=99), Waits()
    alerter = Alerter([url], clock=FakeClock(T0), sleep=waits)
    alerter.notify(alert_rules.source_failed("Main", "HTTP 401", T0))
    with capture_logs() as logs:
        await alerter.flush()
    assert alerter.delivered == [] and len(url.bodies) == 3
    [error] = [e for e in logs if e["log_level"] == "error"]
    assert error["event"] == "alert not sent" and "url is down" in error["error"]
    alerter.notify(alert_rules.source_failed("Main", "HTTP 401", T0))  # not rate-limited: it never went out
    url.failures = 0
    await alerter.flush(retry=False)
    assert len(alerter.delivered) == 1


async def test_causes_that_come_together_are_one_alert_and_the_store_keeps_the_window(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    store = Store.open_writer(tmp_path / "bridge.db")
    try:
        sink = FakeSink("url")
        alerter = Alerter([sink], clock=clock, sent=store.alerts)
        for event_id in ("1", "2", "3"):
            alerter.notify(alert_rules.dead_letters("Main", [("meta", event_id, "HTTP 400")], clock()))
        await alerter.flush()
        [body] = sink.bodies
        assert json.loads(body)["message"] == "1 to meta: HTTP 400; 2 to meta: HTTP 400; 3 to meta: HTTP 400"
        assert store.alerts.last_sent() == {("dead_letters", "Main"): T0}

        clock.advance(60)  # a restart: a new alerter reads the window from the store
        again = Alerter([sink], clock=clock, sent=store.alerts)
        again.notify(alert_rules.dead_letters("Main", [("meta", "4", "HTTP 400")], clock()))
        await again.flush()
        assert len(sink.bodies) == 1
        clock.advance(15 * 60)
        await again.flush()
        assert json.loads(sink.bodies[-1])["message"] == "4 to meta: HTTP 400"
    finally:
        store.close()


async def test_a_read_only_store_is_honoured_but_not_written(tmp_path: Path) -> None:
    writer = Store.open_writer(tmp_path / "bridge.db")
    writer.alerts.record_sent("reconcile_mismatch", "Other", T0)
    writer.close()
    reader = Store.open_reader(tmp_path / "bridge.db")
    try:
        sink = FakeSink("url")
        alerter = Alerter([sink], clock=FakeClock(T0 + timedelta(minutes=1)), sent=reader.alerts, record=False)
        alerter.notify(alert_rules.reconcile_mismatch("Main", [("2026-11-19", 3, 2)], T0))
        alerter.notify(alert_rules.reconcile_mismatch("Other", [("2026-11-19", 3, 2)], T0))
        await alerter.flush()
        assert [json.loads(b)["source"] for b in sink.bodies] == ["Main"]  # Other's window is still open
        assert reader.alerts.last_sent() == {("reconcile_mismatch", "Other"): T0}
    finally:
        reader.close()


def test_the_body_passes_the_redactor() -> None:
    register_secrets(["alert-canary-secret-77"])
    body = alert_body(alert_rules.source_failed("Main", "echoed alert-canary-secret-77 back", T0))
    assert b"alert-canary-secret-77" not in body and json.loads(body)["message"] == "failed: echoed *** back"


async def test_the_url_sink_posts_the_json_and_never_names_the_url(receiver: Receiver) -> None:
    sink = WebhookSink(receiver.base_url("/hook/s3cret-path"))
    body = alert_body(alert_rules.source_failed("Main", "HTTP 401", T0))
    await sink(body)
    [request] = receiver.requests
    assert (request.path, request.body, request.headers["Content-Type"]) == (
        "/hook/s3cret-path", body, "application/json")
    receiver.default = Reply(500, "no")
    with pytest.raises(AlertSinkError, match=r"^url answered HTTP 500: no$"):
        await sink(body)
    with pytest.raises(AlertSinkError) as refused:
        await WebhookSink("http://127.0.0.1:1/s3cret-path")(body)
    assert "s3cret" not in str(refused.value) and "127.0.0.1" not in str(refused.value)


async def test_the_command_sink_gets_the_json_on_stdin_and_its_failures_are_told(tmp_path: Path) -> None:
    out = tmp_path / "alert.json"
    body = alert_body(alert_rules.source_failed("Main", "HTTP 401", T0))
    copy = f"import sys, pathlib; pathlib.Path({str(out)!r}).write_bytes(sys.stdin.buffer.read())"
    await CommandSink([sys.executable, "-c", copy])(body)
    assert out.read_bytes() == body
    failing = "import sys; sys.stderr.write('pager   offline'); sys.exit(3)"
    with pytest.raises(AlertSinkError, match=r"exited 3: pager offline$"):
        await CommandSink([sys.executable, "-c", failing])(body)
    with pytest.raises(AlertSinkError, match="cannot run"):
        await CommandSink([str(tmp_path / "no-such-program")])(body)
    with pytest.raises(AlertSinkError, match=r"did not finish within 0\.2 s"):
        await CommandSink([sys.executable, "-c", "import time; time.sleep(5)"], timeout_seconds=0.2)(body)


def bridge_config(tmp_path: Path, sim_url: str, receiver: Receiver) -> Config:
    raw = {
        "database": "bridge.db",
        "sources": [{"name": "Sim Store", "store": "sim-snowboards", "access_token": "${TOKEN}", "api_url": sim_url}],
        "destinations": [{"name": "hook", "type": "http", "url": receiver.base_url("/hook"), "max_attempts": 1}],
        "alerts": {"url": receiver.base_url("/alerts")},
    }
    return config_from_toml(raw, {"TOKEN": TOKEN}, file=tmp_path / "shopify-bridge.toml")


def alerts_sent(receiver: Receiver) -> list[dict[str, str]]:
    return [json.loads(r.body) for r in receiver.requests if r.path == "/alerts"]


async def test_the_bridge_tells_about_dead_letters_in_the_same_cycle(tmp_path: Path, receiver: Receiver) -> None:
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=3, orders=0, clock=clock, search_lag_seconds=0) as sim:
        config = bridge_config(tmp_path, sim.url, receiver)
        assert await cycle(config, clock) == 0
        receiver.script("/hook", Reply(410, "gone"))
        order = sim.state.create_order(sourceName="web", test=False, tags=[])
        assert await cycle(config, clock, advance=5) == 0
        [alert] = alerts_sent(receiver)
        assert alert["kind"] == "dead_letters" and alert["source"] == "Sim Store"
        assert alert["message"] == f"{order['legacyResourceId']} to hook: HTTP 410: gone"
        assert alert["at"] == (T0 + timedelta(seconds=5)).isoformat()


async def test_the_bridge_tells_when_a_source_fails_and_when_it_polls_again(tmp_path: Path, receiver: Receiver) -> None:
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=3, orders=0, clock=clock, search_lag_seconds=0) as sim:
        config = bridge_config(tmp_path, sim.url, receiver)
        assert await cycle(config, clock) == 0
        sim.state.inject("http_401", count=2)
        assert await cycle(config, clock, advance=60) == 77
        [failed] = alerts_sent(receiver)
        assert (failed["kind"], failed["source"]) == ("source_failed", "Sim Store")
        assert "401" in failed["message"] and TOKEN not in json.dumps(failed)
        bridge = Bridge(config, clock=clock)  # one process, two cycles: a failure stays one alert
        try:
            clock.advance(60)
            assert await bridge.run_once() == 77
            clock.advance(60)
            assert await bridge.run_once() == 0
        finally:
            bridge.close()
        kinds = [alert["kind"] for alert in alerts_sent(receiver)]
        assert kinds == ["source_failed", "source_recovered"]
        assert alerts_sent(receiver)[-1]["message"] == "polls again after 60 s failing"


async def test_reconcile_tells_the_days_that_do_not_add_up(tmp_path: Path, receiver: Receiver) -> None:
    from collections import Counter
    from datetime import date

    from shopify_bridge.service.alerting import ReconcileAlerts
    from shopify_bridge.service.reconcile import DayResult

    config = bridge_config(tmp_path, "http://127.0.0.1:1", receiver)
    Store.open_writer(config.database).close()
    store = Store.open_reader(config.database)
    try:
        alerts = ReconcileAlerts(config, store, lambda: T0)
        good = DayResult(date(2026, 11, 18), 2, Counter(forwarded=2))
        bad = DayResult(date(2026, 11, 19), 3, Counter(forwarded=1, excluded=1), missing=["#1003"])
        alerts.mismatch("Sim Store", [good])
        alerts.mismatch("Sim Store", [good, bad])
        await alerts.flush()
    finally:
        store.close()
    [alert] = alerts_sent(receiver)
    assert (alert["kind"], alert["source"]) == ("reconcile_mismatch", "Sim Store")
    assert alert["message"] == "2026-11-19: Shopify counts 3 orders, the bridge accounts for 2"


async def test_the_alerts_task_survives_its_own_failures_and_sends_what_is_queued_at_stop() -> None:
    import asyncio

    class Broken(FakeSink):
        async def __call__(self, body: bytes) -> None:
            raise RuntimeError("not an AlertSinkError")

    sink = FakeSink("url")
    alerter = Alerter([Broken("command"), sink], clock=FakeClock(T0), collect_seconds=0)
    stop = asyncio.Event()
    task = asyncio.create_task(alerter.run(stop))
    alerter.gate.offer = None  # type: ignore[assignment,method-assign]  # flush itself now fails
    alerter.notify(alert_rules.source_failed("Main", "HTTP 401", T0))
    with capture_logs() as logs:
        for _ in range(50):
            await asyncio.sleep(0)
            if any(e["event"] == "alerts failed" for e in logs):
                break
        assert not task.done()  # logged, still running
        del alerter.gate.offer  # mended: the class's method again
        alerter.notify(alert_rules.source_failed("Other", "HTTP 401", T0))
        stop.set()
        await asyncio.wait_for(task, 5)
    assert [json.loads(b)["source"] for b in sink.bodies] == ["Other"]
    assert any(e["event"] == "alert sink failed" and "RuntimeError" in e["error"] for e in logs)
