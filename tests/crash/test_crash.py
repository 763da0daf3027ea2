"""Crash safety, end to end: the real bridge process, SIGKILLed at random instants, loses nothing.

The short CI version of `bench/crash.py` (which runs hundreds of kills). Each test starts the
simulator and a recording receiver in this process and the bridge as a subprocess.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crash.bridge_process import HTTP_DESTINATION, JSONL_DESTINATION
from tests.crash.harness import CrashHarness, CrashSettings, run_crash_harness

pytestmark = pytest.mark.crash


async def test_random_kills_lose_nothing_and_create_no_event_twice(tmp_path: Path) -> None:
    settings = CrashSettings(kills=20, seed=20261129, checkpoint_every=10)
    report = await run_crash_harness(settings, tmp_path)
    assert report.violations == [], report.summary()
    assert report.kills == 20
    assert len(report.recovery_seconds) == 2  # the checkpoint and the final run both completed
    events = report.placed_events + report.refund_events
    assert report.placed_events > 20 and report.refund_events > 0, report.summary()
    assert report.deliveries[JSONL_DESTINATION] >= events
    assert report.deliveries[HTTP_DESTINATION] >= events
    assert report.rejected_500 > 0  # retries were exercised


async def test_a_kill_inside_a_jsonl_write_leaves_no_torn_line_after_restart(tmp_path: Path) -> None:
    settings = CrashSettings(seed=5, paged_jsonl_writes=True, fail_first_probability=0.0,
                             max_answer_delay_seconds=0.0, settle_timeout_seconds=8.0)
    async with CrashHarness(settings, tmp_path) as harness:
        await harness.settle_and_check("first connection")
        for _attempt in range(3):  # the aimed kill may come just after the write finished
            if await harness.kill_inside_jsonl_write():
                break
        else:
            pytest.fail("no kill landed inside a jsonl write; the test would prove nothing")
        await harness.settle_and_check("restart after the torn write")
    report = harness.report
    # Before the fix in destinations/jsonl.py the restart appended to the torn tail: one broken line
    # inside the file, and the event re-written first glued onto it.
    assert report.kills_leaving_torn_tail >= 1
    assert report.violations == [], report.summary()


async def test_three_processes_on_one_postgresql_store_lose_nothing_and_send_nothing_twice(
    tmp_path: Path, postgres_url: str
) -> None:
    """The short version of `bench/crash.py --processes 3`: a random one of three is SIGKILLed each time."""
    settings = CrashSettings(kills=5, seed=17, processes=3, database_url=postgres_url, min_run_seconds=0.5,
                             max_run_seconds=2.0, lease_seconds=3.0, changes_per_cycle=4, rush_probability=0.3)
    report = await run_crash_harness(settings, tmp_path)
    assert report.violations == [], report.summary()
    assert report.kills == 5 and len(report.recovery_seconds) == 1
    assert report.placed_events > 10, report.summary()
    assert report.deliveries[HTTP_DESTINATION] >= report.placed_events + report.refund_events
    assert JSONL_DESTINATION not in report.deliveries  # one file is one process's: not shared
    logs = sorted(path.name for path in tmp_path.glob("bridge-*.log"))
    assert logs == ["bridge-1.log", "bridge-2.log", "bridge-3.log"]
