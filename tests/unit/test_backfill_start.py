"""The checks and choices the bridge makes before a source's backfill, and the headless progress log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from shopify_bridge.config.model import Source
from shopify_bridge.errors import AuthError
from shopify_bridge.observe.backfill_progress import BackfillProgress
from shopify_bridge.service.backfill_start import ProgressLog, backfill_start, require_history_scope

TOKEN = "shpat_" + "0" * 32


def _source(start_date: date | None) -> Source:
    return Source(name="Main", store="main", access_token=TOKEN, start_date=start_date)  # type: ignore[arg-type]


def _info(*handles: str) -> dict[str, object]:
    return {"currentAppInstallation": {"accessScopes": [{"handle": h} for h in handles]}}


def test_a_start_date_beyond_sixty_days_needs_read_all_orders() -> None:
    source = _source(date(2026, 1, 1))
    with pytest.raises(AuthError, match=r"start_date 2026-01-01 is more than 60 days back.*read_all_orders"):
        require_history_scope(source, _info("read_orders"), date(2026, 12, 7))
    require_history_scope(source, _info("read_orders", "read_all_orders"), date(2026, 12, 7))
    require_history_scope(_source(date(2026, 11, 1)), _info("read_orders"), date(2026, 12, 7))


def test_the_backfill_starts_at_midnight_of_the_shops_time_zone() -> None:
    source = _source(date(2026, 3, 1))
    assert backfill_start(source, "America/Toronto") == datetime(2026, 3, 1, tzinfo=ZoneInfo("America/Toronto"))
    assert backfill_start(source, "America/Toronto").astimezone(UTC) == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert backfill_start(source, None) == datetime(2026, 3, 1, tzinfo=UTC)


def test_progress_lines_of_a_phase_come_at_most_every_five_seconds() -> None:
    now = [0.0]
    show = ProgressLog(lambda: now[0])
    with capture_logs() as logs:
        for second, done in [(0.0, 1), (1.0, 2), (4.9, 3), (5.0, 4), (5.1, 5)]:
            now[0] = second
            show(BackfillProgress("Main", "ingesting", "w", done, 10))
        now[0] = 5.2
        show(BackfillProgress("Main", "done", "w", 10, 10))
        show(BackfillProgress("Other", "ingesting", "w", 1, 10))
    # The first line at time 0 is shown too: nothing was logged before it.
    assert [(e["source"], e["phase"], e["done"]) for e in logs] == [
        ("Main", "ingesting", 1), ("Main", "ingesting", 4), ("Main", "done", 10), ("Other", "ingesting", 1),
    ]
