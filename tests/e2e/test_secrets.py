"""A canary token and a canary customer email never reach a log line or an error message.

The main paths run with the default logging into a buffer: first connection, polling, hold and release,
a refund, delivery, an injected 401 and a 500, `check` and `explain`. The events themselves carry
the email (that is the product); the logs, the errors and the store's error table must not.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from shopify_bridge.cli import inspect, setup
from shopify_bridge.observe.log import configure_logging
from shopify_bridge.simulator.clock import ManualClock
from shopify_bridge.simulator.server import SimulatorServer
from shopify_bridge.store.schema import open_reader
from tests.e2e.test_walking_skeleton import TOKEN, cycle, make_config

CANARY_EMAIL = "canary.buyer.7f3e@example.com"
T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def test_canaries_never_reach_logs_or_errors(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("shopify_bridge.shopify.client.MAX_TEMPORARY_RETRIES", 0)
    buffer = io.StringIO()
    # Default level: `--debug` adds gql's wire log (bodies with customer data), for bug reports only.
    configure_logging(json_logs=True, stream=buffer, secrets=[TOKEN])
    clock = ManualClock(T0)
    try:
        # The shop's bucket refills on the manual clock only: no greedy neighbour to drain it.
        async with SimulatorServer(token=TOKEN, orders=3, clock=clock, search_lag_seconds=0,
                                   competing_app_share=0) as sim:
            config = make_config(tmp_path, sim.url, upsell_delay_seconds=60)
            await cycle(config, clock)
            order = sim.state.create_order(
                sourceName="web", test=False, tags=[], email=CANARY_EMAIL, financialStatus="PAID"
            )
            await cycle(config, clock, advance=5)
            await cycle(config, clock, advance=120)
            line = sim.state.order(order["id"])["lineItems"][0]
            sim.state.refund(order["id"], [{"lineItemId": line["id"], "quantity": 1, "restockType": "RETURN"}])
            await cycle(config, clock, advance=5)
            sim.state.inject("http_500", count=1)
            await cycle(config, clock, advance=5)
            sim.state.inject("http_401", count=1)
            await cycle(config, clock, advance=5)
            await setup._check(config)
            inspect.explain(config, order["name"])
            events = (tmp_path / "events.jsonl").read_text()
            assert CANARY_EMAIL in events  # the product works …
        conn = open_reader(config.database).conn
        errors = " ".join(r[0] for r in conn.execute("SELECT message FROM errors").fetchall())
        reasons = " ".join(str(r[0]) for r in conn.execute("SELECT state_reason FROM sources").fetchall())
    finally:
        configure_logging(json_logs=True)
    logs = buffer.getvalue()
    printed = capsys.readouterr()
    assert "token rejected" in errors  # … and the failures were really exercised
    assert logs.count('"event created"') == 2 and logs.count('"source failed"') == 2
    for text in (logs, errors, reasons, printed.err):
        assert TOKEN not in text
        assert CANARY_EMAIL not in text
    assert TOKEN not in printed.out
