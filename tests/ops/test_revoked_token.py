"""A rejected token (401) marks its source failed and retries it with a backoff that grows to an hour; when
every source has failed authentication, `run` exits 77 so that a service manager stops restarting it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.cli.app import main
from shopify_bridge.errors import AuthError
from shopify_bridge.service.bridge import Bridge
from shopify_bridge.service.supervision import retry_delay
from shopify_bridge.simulator.server import SimulatorServer
from tests.e2e.test_several_stores import two_store_config
from tests.ops.scrape import WAIT_SECONDS, bridge_task, wait_until
from tests.threaded_simulator import threaded_simulator, write_config

pytestmark = pytest.mark.e2e


def test_an_authentication_failure_backs_off_to_an_hour_other_failures_to_five_minutes() -> None:
    assert [retry_delay(exit_codes.NOPERM, n) for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]
    assert [retry_delay(exit_codes.TEMPFAIL, n) for n in (1, 2, 7, 20)] == [5, 10, 300, 300]


async def test_run_goes_on_while_one_token_is_revoked_and_exits_77_once_every_token_is(tmp_path: Path) -> None:
    async with (
        SimulatorServer(token="shpat_a_secret", orders=0, search_lag_seconds=0,
                        shop_domain="store-a.myshopify.com") as a,
        SimulatorServer(token="shpat_b_right", orders=0, search_lag_seconds=0,
                        shop_domain="store-b.myshopify.com") as b,
    ):
        config = two_store_config(tmp_path, a.url, b.url, poll=0.05)   # store B's token is wrong
        bridge = Bridge(config)
        async with bridge_task(bridge) as run:
            async def b_failed_a_polled() -> bool:
                return bridge.status["Store B"].state == "failed" and bridge.status["Store A"].state == "polling"

            await wait_until(b_failed_a_polled, "store B failed, store A polling")
            assert bridge.status["Store B"].exit_code == exit_codes.NOPERM
            assert bridge.status["Store B"].next_attempt_in == 30      # not the 5 s of a passing outage
            assert not run.done()                                       # one revoked token: the others go on

            a.state.inject("http_401", count=1000)                      # now store A's token is revoked too
            with pytest.raises(AuthError) as failed:
                await asyncio.wait_for(run, WAIT_SECONDS)
    assert failed.value.exit_code == exit_codes.NOPERM
    message = str(failed.value)
    assert message.startswith("every source failed authentication")
    assert "Store A" in message and "Store B" in message and "shpat_" not in message


def test_run_with_a_revoked_token_exits_77_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("SHOPIFY_ACCESS_TOKEN", "shpat_revoked_canary_77aa")
    with threaded_simulator(token="shpat_the_valid_one", orders=0, search_lag_seconds=0) as simulator:
        config = str(write_config(tmp_path, simulator.url, source_name="Revoked", store="sim-snowboards"))
        assert main(["--config", config, "run"]) == exit_codes.NOPERM
    lines = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and "every source failed authentication" in errors[0] and "401" in errors[0], lines
