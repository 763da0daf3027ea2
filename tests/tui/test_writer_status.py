"""Who writes the store `tui --attach` watches: on PostgreSQL the heartbeat alone tells (no lock file, and
the writers may run on other machines, where a pid means nothing here)."""

from __future__ import annotations

from datetime import timedelta

from shopify_bridge.store.writer_heartbeat import Heartbeat
from tests.tui.store_builder import NOW
from tui.writer_status import STALE_AFTER, writer_status

URL = "postgresql://bridge@db.internal/shopify_bridge"


def nobody_runs(pid: int) -> bool:
    return False


def test_a_postgresql_writer_is_judged_by_its_heartbeat_only() -> None:
    fresh = Heartbeat(pid=4242, at=NOW - timedelta(seconds=3))
    status = writer_status(URL, fresh, NOW, running=nobody_runs)  # pid 4242 is on another machine
    assert (status.state, status.pid) == ("alive", 4242)
    old = Heartbeat(pid=4242, at=NOW - STALE_AFTER - timedelta(seconds=1))
    assert writer_status(URL, old, NOW, running=nobody_runs).state == "silent"
    assert writer_status(URL, None, NOW).state == "unknown"
