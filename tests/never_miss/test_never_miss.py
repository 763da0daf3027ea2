"""Never miss an order: random traffic, random lag up to 15 minutes and random faults, on a fake clock.

Every order the traffic created ends exactly one of a delivered Placed Order, a recorded exclusion or history,
and no `event_id` is created or delivered twice. Fixed seeds keep it reproducible; `bench/never_miss.py` runs
the long version (more seeds, longer traffic).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.never_miss.harness import Scenario, run_scenario, violations


@pytest.mark.parametrize(
    ("seed", "upsell_delay"),
    [(1, 600), (2, None), (3, 600)],
)
async def test_every_created_order_is_forwarded_excluded_or_history_exactly_once(
    tmp_path: Path, database: Path | str, seed: int, upsell_delay: int | None
) -> None:
    """The same invariant on both stores: an SQLite file and PostgreSQL (its dialect, claims and locking)."""
    scenario = Scenario(seed=seed, minutes=20, upsell_delay=upsell_delay)
    outcome = await run_scenario(scenario, tmp_path, database)
    assert violations(outcome) == []
    statuses = {order["row"]["status"] for order in outcome.orders.values()}
    assert len(outcome.orders) > 20 and statuses <= {"released", "excluded"} and "released" in statuses
    assert outcome.faults > 0 and outcome.failures > 0, "the run met faults that failed a poll mid-way"
    assert outcome.recovered > 0, "some changes showed later than the polls' overlap: the sweep found them"


async def test_the_harness_sees_a_lost_order() -> None:
    """The check is not vacuous: an order the store never got is reported."""
    outcome = await run_scenario(Scenario(seed=4, minutes=5, fault_probability=0.0))
    assert violations(outcome) == []
    victim = next(order_id for order_id, order in outcome.orders.items() if order["row"]["status"] == "released")
    outcome.orders[victim]["row"] = None
    outcome.events.append(outcome.events[0])
    assert violations(outcome) == [
        f"event {outcome.events[0][0]} created 2 times",
        f"{outcome.orders[victim]['name']} ({victim}, {outcome.orders[victim]['kind']}): never stored",
    ]
