"""A lost PostgreSQL connection is a temporary condition: the bridge reconnects, re-confirms its leases,
loses and duplicates no event, logs one line per outage; a database that stays away ends `run` with 75.

The outages are real: the bridge's backends are terminated on the test server (`pg_terminate_backend`,
found by the application_name each test gives its URL), or its role is refused new logins."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from structlog.testing import capture_logs

from shopify_bridge import exit_codes
from shopify_bridge.config import Config, config_from_toml
from shopify_bridge.service import bridge as bridge_module
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store.sql import StoreUnavailable
from tests.conftest import postgres_server_url
from tests.e2e.test_shared_store import until

pytestmark = pytest.mark.e2e

SHOP = "store-a.myshopify.com"


def outage_config(tmp_path: Path, database: str, api_url: str) -> Config:
    raw = {
        "database": database,
        "sources": [{"name": "Store A", "store": "store-a", "access_token": "${TOKEN}", "api_url": api_url,
                     "poll_interval_seconds": 0.05}],
        "destinations": [{"name": "events-file", "type": "jsonl", "path": "events.jsonl"}],
    }
    return config_from_toml(raw, {"TOKEN": "shpat_outage"}, file=tmp_path / "shopify-bridge.toml")


@pytest.fixture
def named_url(postgres_url: str) -> tuple[str, str]:
    """The test's URL with an application_name of its own: its backends can be told from every other."""
    name = f"bridge-outage-{uuid.uuid4().hex[:8]}"
    return f"{postgres_url}&application_name={name}", name


@pytest.fixture
def admin() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(postgres_server_url(), autocommit=True) as conn:
        yield conn


def terminate(admin: psycopg.Connection[tuple[object, ...]], name: str) -> int:
    rows = admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,)).fetchall()
    return len(rows)


async def test_backends_killed_mid_run_lose_and_duplicate_nothing_and_the_run_goes_on(
    tmp_path: Path, named_url: tuple[str, str], admin: psycopg.Connection[tuple[object, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPIFY_BRIDGE_LEASE_SECONDS", "3")
    url, name = named_url
    events = tmp_path / "events.jsonl"

    def sent() -> list[str]:
        return [json.loads(line)["event_id"] for line in events.read_text().splitlines()] if events.exists() else []

    async with SimulatorServer(token="shpat_outage", orders=0, search_lag_seconds=0, shop_domain=SHOP) as shop:
        bridge = Bridge(outage_config(tmp_path, url, shop.url))
        stop = asyncio.Event()
        with capture_logs() as logs:
            run = asyncio.create_task(bridge.run(stop))
            try:
                assert bridge.leases is not None
                await until(bridge.liveness.ready.is_set, "the first poll")
                # Orders processed before the first connection are history: these come a second after it.
                await asyncio.sleep(1.0)
                for outage in range(1, 4):
                    shop.state.create_order(sourceName="web", test=False, tags=[])
                    assert terminate(admin, name) >= 1  # in the middle of the run: polls, claims, heartbeats
                    shop.state.create_order(sourceName="web", test=False, tags=[])
                    await until(partial(lambda n: len(sent()) >= n, 2 * outage), f"the events around outage {outage}")
                    assert not run.done()
                await asyncio.sleep(0.3)  # a duplicate would arrive in this time: none does
                assert len(sent()) == len(set(sent())) == 6
                assert bridge.store.sql.one("SELECT COUNT(*) FROM events") == (6,)
                # The lease was confirmed on the new connection, and is still ours.
                assert bridge.leases.confirmed and bridge.leases.holds(SHOP)
                assert bridge.store.leases.all()[0].owner == bridge.store.owner
            finally:
                stop.set()
                await asyncio.wait_for(run, timeout=10)  # ends cleanly: no exception left in the run
                bridge.close()
    said = [entry["event"] for entry in logs]
    assert said.count("database unreachable; retrying") == said.count("database reachable again") == 3
    assert not [entry for entry in logs if entry.get("log_level") in ("error", "critical")]
    password = psycopg.conninfo.conninfo_to_dict(url).get("password")
    assert not password or all(str(password) not in str(entry) for entry in logs)


async def test_a_lease_renewed_on_a_lost_connection_is_confirmed_again_before_a_poll(
    tmp_path: Path, named_url: tuple[str, str], admin: psycopg.Connection[tuple[object, ...]],
) -> None:
    url, name = named_url
    bridge = Bridge(outage_config(tmp_path, url, "http://127.0.0.1:9/unused"))
    try:
        assert bridge.leases is not None
        bridge.leases.tick()
        assert bridge.leases.holds(SHOP)
        terminate(admin, name)
        with pytest.raises(StoreUnavailable, match="lost the connection"):
            bridge.store.sql.one("SELECT 1")
        assert not bridge.leases.holds(SHOP)  # the connection that renewed it is gone: not trusted
        assert bridge._confirmed_lease(SHOP)  # re-acquired (renewed) on the new connection first
        assert bridge.store.leases.all()[0].owner == bridge.store.owner
    finally:
        bridge.close()


@pytest.fixture
def own_role(postgres_url: str, admin: psycopg.Connection[tuple[object, ...]]) -> Iterator[tuple[str, str]]:
    """The test schema reached as a login role of its own, which the test can refuse logins to."""
    role, password = f"outage_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    schema = postgres_url.rsplit("search_path%3D", 1)[1]
    admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    admin.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
    params = psycopg.conninfo.conninfo_to_dict(postgres_server_url())
    url = (f"postgresql://{role}:{password}@{params.get('host', 'localhost')}:{params.get('port', 5432)}/"
           f"{params.get('dbname', 'postgres')}?options=-csearch_path%3D{schema}&application_name={role}")
    yield url, role
    terminate(admin, role)
    admin.execute(f"DROP OWNED BY {role} CASCADE")
    admin.execute(f"DROP ROLE {role}")


async def test_a_database_that_stays_away_is_unhealthy_then_ends_the_run_with_75(
    tmp_path: Path, own_role: tuple[str, str], admin: psycopg.Connection[tuple[object, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, role = own_role
    password = str(psycopg.conninfo.conninfo_to_dict(url)["password"])
    monkeypatch.setattr(bridge_module, "HEARTBEAT_SECONDS", 0.02)
    ticks = [0.0]
    bridge = Bridge(outage_config(tmp_path, url, "http://127.0.0.1:9/unused"), monotonic=lambda: ticks[0])
    bridge._source_cycle = _idle_cycle  # type: ignore[method-assign]  # the store is what this test is about
    stop = asyncio.Event()
    run = asyncio.create_task(bridge.run(stop))
    try:
        await until(lambda: bridge.leases is not None and bridge.leases.holds(SHOP), "the lease")
        admin.execute(f"ALTER ROLE {role} NOLOGIN")  # the server refuses the bridge from now on
        terminate(admin, role)
        await until(lambda: bridge.store_problem is not None, "the outage seen by the heartbeat")
        problem = bridge.store_problem or ""
        assert "PostgreSQL at" in problem and "giving up after 300 s" in problem  # /healthz: 503, naming it
        assert password not in problem
        ticks[0] += 299  # four minutes and 59 s of outage: still riding it out
        await asyncio.sleep(0.1)
        assert not run.done()
        ticks[0] += 2
        with pytest.raises(StoreUnavailable) as given_up:
            await asyncio.wait_for(run, timeout=10)
    finally:
        stop.set()
        if not run.done():
            await asyncio.wait_for(asyncio.gather(run, return_exceptions=True), timeout=10)
        bridge.close()
    assert given_up.value.exit_code == exit_codes.TEMPFAIL
    assert "giving up" in str(given_up.value) and password not in str(given_up.value)


async def _idle_cycle(source: object, client: object, poller: Any, *, whole: bool) -> int:
    poller.seconds_to_next_step = lambda: 5.0  # as after a whole poll: the next one is a while off
    return exit_codes.OK
