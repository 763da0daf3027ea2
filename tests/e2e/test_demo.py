"""The demo starts the simulator and the bridge, makes traffic, delivers within seconds, and continues or
starts afresh in its directory."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from shopify_bridge.cli.demo import DemoTiming, run_demo
from shopify_bridge.cli.demo_state import prepare_demo_dir
from shopify_bridge.errors import BridgeError
from shopify_bridge.store.reads_orders import StoreTotals
from shopify_bridge.store.writer_lock import WriterLock

# The demo's pace, quickened; `duration` is only an upper bound: each run stops at its goal.
FAST = DemoTiming(upsell_seconds=1, poll_seconds=0.2, search_lag_seconds=0.1, first_change_after=0.1,
                  traffic_every=0.2, summary_every=0.2)
BOUND_SECONDS = 60.0


def delivered(at_least: int) -> object:
    def enough(totals: StoreTotals) -> bool:
        return totals.delivered >= at_least

    return enough


def placed_ids(out: Path) -> list[str]:
    lines = (out / "events.jsonl").read_text().splitlines()
    return [event["event_id"] for event in map(json.loads, lines) if event["event_name"] == "Placed Order"]


async def test_headless_demo_runs_and_stops_after_its_duration(tmp_path: Path) -> None:
    lines: list[str] = []
    timing = DemoTiming(traffic_every=0.2, first_change_after=0.1)
    code = await run_demo(tmp_path, headless=True, duration=1.5, timing=timing, orders=5, print_line=lines.append)
    assert code == 0
    assert lines[0] == f"starting a new demo in {tmp_path}"
    assert lines[1].startswith("simulator at http://127.0.0.1:")
    assert any(line.startswith("shop: ") for line in lines)
    assert (tmp_path / "demo.db").exists()


def test_the_demos_first_events_arrive_well_within_half_a_minute() -> None:
    # `demo --headless --duration 30` delivered nothing: orders were held 30 s, longer than the whole run.
    timing = DemoTiming()
    assert timing.upsell_seconds > 0  # holds are part of what the demo shows
    assert timing.first_event_within() <= 15


async def test_the_demo_delivers_and_a_second_demo_continues_with_new_orders(tmp_path: Path) -> None:
    first: list[str] = []
    await run_demo(tmp_path, headless=True, duration=BOUND_SECONDS, timing=FAST, orders=3, backfill=False,
                   print_line=first.append, stop_when=delivered(2))
    before = placed_ids(tmp_path)
    assert len(before) >= 2  # delivered within the run, holds included

    with closing(sqlite3.connect(tmp_path / "demo.db")) as db:  # every event stored: refunds, undelivered ones
        (stored_events,) = db.execute("SELECT COUNT(*) FROM events").fetchone()
    assert stored_events >= len(before)
    start = prepare_demo_dir(tmp_path, fresh=False)
    assert start.note.startswith(f"continuing the demo in {tmp_path} from demo.db: ")
    assert f"{stored_events} events so far" in start.note
    second: list[str] = []
    await run_demo(tmp_path, headless=True, duration=BOUND_SECONDS, timing=FAST, orders=3, backfill=False,
                   print_line=second.append, start=start, stop_when=delivered(len(before) + 2))
    after = placed_ids(tmp_path)
    assert second[0] == start.note
    new = after[len(before):]
    assert len(new) >= 2 and not set(new) & set(before)  # the new shop reuses no stored order id
    names = [line.split()[4] for line in second if line.startswith("shop: new web order")]
    assert names and all(int(name.lstrip("#")) > 1003 for name in names)


def test_fresh_removes_only_the_demos_own_files(tmp_path: Path) -> None:
    for name in ("demo.db", "demo.db-wal", "demo.db.identity", "events.jsonl", "demo.log", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "demo-bulk").mkdir()
    (tmp_path / "demo-bulk" / "part.jsonl").write_text("x")
    start = prepare_demo_dir(tmp_path, fresh=True)
    assert start.note == f"starting afresh in {tmp_path} (the previous demo's files removed)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.db.lock", "notes.txt"]  # a lock file stays
    assert (start.highest_order_id, start.highest_order_number) == (0, 0)


def test_fresh_refuses_while_a_demo_runs_there(tmp_path: Path) -> None:
    (tmp_path / "demo.db").write_text("x")
    running = WriterLock(tmp_path / "demo.db")
    running.acquire()
    try:
        with pytest.raises(BridgeError, match=r"a demo still runs in .* \(pid \d+\)") as refused:
            prepare_demo_dir(tmp_path, fresh=True)
    finally:
        running.release()
    assert refused.value.exit_code == 75
    assert (tmp_path / "demo.db").exists()
