"""The bound on a database outage: logged once, a problem for /healthz meanwhile, 75 after five minutes."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from shopify_bridge import exit_codes
from shopify_bridge.service.store_outage import GIVE_UP_AFTER_SECONDS, StoreOutage
from shopify_bridge.store.sql import StoreUnavailable

LOST = StoreUnavailable("lost the connection to PostgreSQL at db.internal:5432/bridge: server closed the connection")


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_logged_once_and_given_up_on_only_after_the_bound() -> None:
    ticks, woken = Ticks(), []
    outage = StoreOutage(ticks, on_restored=lambda: woken.append(True))
    with capture_logs() as logs:
        for _ in range(10):  # every loop of the bridge fails its attempt: still one outage
            outage.changed(LOST)
            ticks.now += 1
        ticks.now = 1000.0 + GIVE_UP_AFTER_SECONDS
        outage.check()  # exactly the bound: still waiting
        assert outage.problem is not None and "db.internal:5432" in outage.problem
        ticks.now += 1
        with pytest.raises(StoreUnavailable) as given_up:
            outage.check()
    assert given_up.value.exit_code == exit_codes.TEMPFAIL
    assert "unreachable for 301 s, giving up" in str(given_up.value) and "\n" not in str(given_up.value)
    assert [entry["event"] for entry in logs] == ["database unreachable; retrying"]
    assert woken == []


def test_a_restored_database_ends_the_outage_and_restarts_the_bound() -> None:
    ticks, woken = Ticks(), []
    outage = StoreOutage(ticks, on_restored=lambda: woken.append(True))
    with capture_logs() as logs:
        outage.changed(LOST)
        ticks.now += GIVE_UP_AFTER_SECONDS - 1
        outage.changed(None)
        outage.changed(None)  # more successes: nothing more to say
        assert outage.problem is None and woken == [True]
        outage.changed(LOST)  # a second outage counts from its own start
        ticks.now += GIVE_UP_AFTER_SECONDS - 1
        outage.check()
    assert [entry["event"] for entry in logs] == [
        "database unreachable; retrying", "database reachable again", "database unreachable; retrying"]
    assert logs[1]["outage_seconds"] == GIVE_UP_AFTER_SECONDS - 1
