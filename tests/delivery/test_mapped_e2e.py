"""End to end per destination type: the simulator, the bridge and a local recording server standing in for
GA4, Meta's Conversions API and a Segment-compatible data plane (each type's `endpoint` points at it).

What each type received is checked field by field where the contract fixes it, and byte for byte against
the payload builder fed with the stored event; then retries, dead letters and replay, which every type
does exactly like `http`; and the filters and skips recorded per destination instead of being sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.cli import inspect
from shopify_bridge.config import Config, config_from_toml
from shopify_bridge.decide.money import loads_event
from shopify_bridge.deliver.payloads import DestinationRequest, build_request
from shopify_bridge.deliver.routing import order_facts
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store import Store
from shopify_bridge.store.reads_events import EventQuery
from tests.delivery.receiver import Received, Receiver, Reply
from tests.e2e.test_walking_skeleton import cycle

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
TOKEN = "shpat_e2e_mapped_canary_77"
GA4_SECRET = "ga4-secret-canary-3b9d"
META_TOKEN = "EAAmetaTokenCanary81f2"
WRITE_KEY = "segmentWriteKeyCanary5c"
SECRETS = {"GA4_SECRET": GA4_SECRET, "META_TOKEN": META_TOKEN, "WRITE_KEY": WRITE_KEY, "TOKEN": TOKEN}
GA_COOKIE = "GA1.1.1234567890.1763650000"
META_PATH = "/v21.0/1234567890/events"


def key_of(path: str, body: bytes) -> str | None:
    """Which destination and event a request is, for scripting replies: `<type>:<event id>`."""
    doc = json.loads(body)
    if path == "/mp/collect":
        event = doc["events"][0]
        return f"ga4:{event['params']['transaction_id']}:{event['name']}"
    if path == META_PATH:
        return f"meta:{doc['data'][0]['event_id']}"
    if path == "/v1/track":
        return f"segment:{doc['messageId']}"
    return None


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    server.key_of = key_of
    await server.start()
    yield server
    await server.stop()


def make_config(tmp_path: Path, sim_url: str, receiver: Receiver) -> Config:
    raw = {
        "database": "bridge.db",
        "sources": [{"name": "Sim Store", "store": "sim-snowboards", "access_token": "${TOKEN}", "api_url": sim_url}],
        "destinations": [
            {"name": "events-file", "type": "jsonl", "path": "events.jsonl"},
            {"name": "ga4", "type": "ga4", "measurement_id": "G-E2E123", "api_secret": "${GA4_SECRET}",
             "endpoint": receiver.base_url("/mp/collect")},
            {"name": "meta", "type": "meta_capi", "pixel_id": "1234567890", "access_token": "${META_TOKEN}",
             "endpoint": receiver.base_url("/v21.0"), "test_event_code": "TEST42"},
            {"name": "segment", "type": "segment", "write_key": "${WRITE_KEY}", "endpoint": receiver.base_url("/v1"),
             "channels": ["web"]},
        ],
    }
    return config_from_toml(raw, SECRETS, file=tmp_path / "shopify-bridge.toml")


def deliveries(config: Config, event_id: str) -> dict[str, tuple[Any, ...]]:
    """destination → (state, reason, attempts, last_status, last_error) of one event."""
    store = Store.open_reader(config.database)
    try:
        [event] = store.reads.event_log.events(EventQuery(event_ids=(event_id,)))
    finally:
        store.close()
    return {d["destination"]: (d["state"], d["reason"], d["attempts"], d["last_status"], d["last_error"])
            for d in event["deliveries"]}


def stored(config: Config) -> dict[str, tuple[str, str | None]]:
    """event_id → (its exact stored JSON, its stored order facts)."""
    store = Store.open_reader(config.database)
    try:
        rows = store.conn.execute("SELECT event_id, payload, facts FROM events ORDER BY seq").fetchall()
    finally:
        store.close()
    return {event_id: (payload, facts) for event_id, payload, facts in rows}


def sent_to(receiver: Receiver, path: str) -> list[Received]:
    return [request for request in receiver.requests if request.path == path]


def expected(config: Config, destination: str, payload: str, facts: str | None, now: datetime) -> DestinationRequest:
    spec = next(d for d in config.destinations if d.name == destination)
    request = build_request(spec, loads_event(payload), now=now, order=order_facts(facts))
    assert isinstance(request, DestinationRequest)
    return request


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_each_type_sends_its_mapping_and_keeps_out_what_its_keys_and_rules_say(
    tmp_path: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=5, orders=0, clock=clock, search_lag_seconds=0) as sim:
        config = make_config(tmp_path, sim.url, receiver)
        assert await cycle(config, clock) == 0  # first connection
        web = sim.state.create_order(sourceName="web", test=False, tags=[], email="Ann.Lee@Example.com",
                                     customAttributes=[{"key": "_ga", "value": GA_COOKIE}])
        pos = sim.state.create_order(sourceName="pos", test=False, tags=["vip"], email="bo@example.com")
        assert await cycle(config, clock, advance=5) == 0
        events = stored(config)
        web_id, pos_id = web["legacyResourceId"], pos["legacyResourceId"]
        assert list(events) == [web_id, pos_id]

        # GA4: the collect URL with its credentials, the _ga cookie as client id, the builder's exact bytes.
        ga4 = sent_to(receiver, "/mp/collect")
        assert [r.query for r in ga4] == [{"measurement_id": "G-E2E123", "api_secret": GA4_SECRET}] * 2
        first = json.loads(ga4[0].body)
        assert first["client_id"] == "1234567890.1763650000"
        assert first["events"][0]["name"] == "purchase"
        assert first["events"][0]["params"]["transaction_id"] == web_id
        # Meta: the pixel's events edge; hashed email; the token and test code in the body.
        meta = sent_to(receiver, META_PATH)
        body = json.loads(meta[0].body)
        assert body["access_token"] == META_TOKEN and body["test_event_code"] == "TEST42"
        assert body["data"][0]["event_id"] == web_id and body["data"][0]["event_name"] == "Purchase"
        assert body["data"][0]["user_data"]["em"] == [sha256("ann.lee@example.com")]
        assert json.loads(meta[1].body)["data"][0]["action_source"] == "physical_store"  # the POS order
        # Segment: Basic auth with the write key; only the web order (channels = ["web"]).
        [segment] = sent_to(receiver, "/v1/track")
        assert segment.headers["Authorization"] == "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
        assert json.loads(segment.body)["messageId"] == web_id
        assert json.loads(segment.body)["event"] == "Order Completed"
        for request, destination, event_id in [(ga4[0], "ga4", web_id), (ga4[1], "ga4", pos_id),
                                               (meta[0], "meta", web_id), (meta[1], "meta", pos_id),
                                               (segment, "segment", web_id)]:
            built = expected(config, destination, *events[event_id], clock())
            assert request.body == built.body_bytes(), (destination, event_id)
            assert request.headers["Content-Type"] == "application/json"
        assert deliveries(config, pos_id)["segment"] == (
            "filtered", "channels", 0, None, "kept out by its channels = ['web']")

        # explain shows each destination's request as sent, credentials redacted, and why one was kept out.
        capsys.readouterr()
        assert inspect.explain(config, web["name"], as_json=True) == 0
        shown = json.loads(capsys.readouterr().out)["destination_payloads"]
        assert shown[web_id]["ga4"]["url"] == receiver.base_url("/mp/collect?measurement_id=G-E2E123&api_secret=***")
        assert shown[web_id]["ga4"]["body"] == json.loads(ga4[0].body)
        assert shown[web_id]["meta"]["body"] == {**json.loads(meta[0].body), "access_token": "***"}
        assert shown[web_id]["segment"]["headers"]["Authorization"] == "Basic ***"
        assert shown[web_id]["events-file"]["line"]["event_id"] == web_id
        assert inspect.explain(config, pos["name"], as_json=True) == 0
        assert json.loads(capsys.readouterr().out)["destination_payloads"][pos_id]["segment"] == {
            "filtered": "channels", "detail": "kept out by its channels = ['web']"}
        assert inspect.explain(config, web["name"]) == 0
        text = capsys.readouterr().out
        assert "→ ga4: POST http://127.0.0.1:" in text and "api_secret=***" in text and '"access_token": "***"' in text
        assert not any(secret in text for secret in (GA4_SECRET, META_TOKEN, WRITE_KEY))
        assert inspect.events(config, as_json=True) == 0
        listed = {e["event_id"]: e["deliveries"] for e in json.loads(capsys.readouterr().out)}
        assert {"destination": "segment", "state": "filtered", "reason": "channels", "attempts": 0,
                "last_status": None, "last_error": "kept out by its channels = ['web']"} in listed[pos_id]

        # A refund: GA4 `refund` on the same client id, Segment `Order Refunded`; Meta takes Placed Orders only.
        line = sim.state.order(web["id"])["lineItems"][0]
        made = sim.state.refund(web["id"], [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}])
        assert await cycle(config, clock, advance=5) == 0
        refund_id = f"{web_id}-refund-{made['legacyResourceId']}"
        refund_ga4 = json.loads(sent_to(receiver, "/mp/collect")[-1].body)
        assert refund_ga4["events"][0]["name"] == "refund"
        assert refund_ga4["client_id"] == "1234567890.1763650000"
        assert json.loads(sent_to(receiver, "/v1/track")[-1].body)["event"] == "Order Refunded"
        assert len(sent_to(receiver, META_PATH)) == 2
        states = deliveries(config, refund_id)
        assert states["meta"][:2] == ("filtered", "events")
        assert {name: state[0] for name, state in states.items()} == {
            "events-file": "delivered", "ga4": "delivered", "meta": "filtered", "segment": "delivered"}


async def test_every_type_retries_goes_dead_replays_and_guards_its_age_like_http(
    tmp_path: Path, receiver: Receiver
) -> None:
    clock = ManualClock(T0)
    async with SimulatorServer(token=TOKEN, seed=5, orders=0, clock=clock, search_lag_seconds=0) as sim:
        config = make_config(tmp_path, sim.url, receiver)
        assert await cycle(config, clock) == 0
        web = sim.state.create_order(sourceName="web", test=False, tags=[], email="ann@example.com")
        order_id = web["legacyResourceId"]
        receiver.script(f"ga4:{order_id}:purchase", Reply(503, "busy", headers={"Retry-After": "30"}), Reply(200))
        echo = f'{{"error": {{"message": "Invalid OAuth access token {META_TOKEN}", "code": 190}}}}'
        receiver.script(f"meta:{order_id}", Reply(400, echo))  # an error body that echoes the token
        receiver.script(f"segment:{order_id}", Reply(429, "slow down", headers={"Retry-After": "10"}), Reply(200))
        assert await cycle(config, clock, advance=5) == 0

        states = deliveries(config, order_id)
        assert states["ga4"] == ("pending", None, 1, 503, "HTTP 503: busy")
        assert states["segment"] == ("pending", None, 1, 429, "HTTP 429: slow down")
        state, reason, attempts, status, error = states["meta"]
        assert (state, attempts, status) == ("dead", 1, 400) and error.startswith("HTTP 400: ")
        assert META_TOKEN not in error and "[redacted]" in error  # an echoing error body is scrubbed

        assert await cycle(config, clock, advance=31) == 0  # past both Retry-After answers
        states = deliveries(config, order_id)
        assert (states["ga4"][0], states["ga4"][2]) == ("delivered", 2)
        assert (states["segment"][0], states["segment"][2]) == ("delivered", 2)

        receiver.script(f"meta:{order_id}", Reply(200))
        store = Store.open_writer(config.database)
        try:
            assert store.operator.replay(EventQuery(dead=True), clock(), "meta") == 1
        finally:
            store.close()
        assert await cycle(config, clock, advance=1) == 0
        assert deliveries(config, order_id)["meta"][0] == "delivered"
        assert len(sent_to(receiver, META_PATH)) == 2  # sent again with the same event_id

        # An event that waits past GA4's 72 hours is not sent late: it is recorded too_old_for_destination.
        late = sim.state.create_order(sourceName="web", test=False, tags=[], email="cy@example.com")
        receiver.script(f"ga4:{late['legacyResourceId']}:purchase", Reply(503, "down"))
        assert await cycle(config, clock, advance=5) == 0
        assert deliveries(config, late["legacyResourceId"])["ga4"][:3] == ("pending", None, 1)
        assert await cycle(config, clock, advance=73 * 3600) == 0
        state, reason, *_ = deliveries(config, late["legacyResourceId"])["ga4"]
        assert (state, reason) == ("skipped", "too_old_for_destination")
        assert len([r for r in sent_to(receiver, "/mp/collect") if key_of(r.path, r.body) ==
                    f"ga4:{late['legacyResourceId']}:purchase"]) == 1  # never sent after the limit

        files = [path.read_bytes() for path in tmp_path.glob("bridge.db*")]
        for secret in (GA4_SECRET, META_TOKEN, WRITE_KEY):
            assert all(secret.encode() not in data for data in files)  # no credential lands in the store
