"""What the bridge checks and decides before a source's backfill starts, and how headless `run` shows it.

`require_history_scope` stops a source whose `start_date` lies beyond what its token may read (Shopify shows
only the last 60 days without `read_all_orders`); `backfill_start` is the moment the backfill begins at, the
start date's midnight in the shop's own time zone; `ProgressLog` is the headless progress report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shopify_bridge.config import Source
from shopify_bridge.errors import AuthError
from shopify_bridge.observe.backfill_progress import BackfillProgress
from shopify_bridge.observe.log import get_logger
from shopify_bridge.shopify.scopes import ALL_ORDERS_SCOPE, RECENT_ORDERS_DAYS, granted_scopes, missing_scopes

log = get_logger(component="bridge")

PROGRESS_LOG_SECONDS = 5.0  # a phase's progress lines, at most one per this many seconds per source

# Phases that report progress many times; the others (done, failed…) are logged every time.
_REPEATING_PHASES = frozenset({"running", "downloading", "staging", "ingesting"})


def require_history_scope(source: Source, info: dict[str, Any], today: date) -> None:
    """Raise `AuthError` when `source.start_date` needs `read_all_orders` and the shop `info` lacks it."""
    if ALL_ORDERS_SCOPE in missing_scopes(granted_scopes(info), source.start_date, today):
        raise AuthError(
            f"{source.name}: start_date {source.start_date} is more than {RECENT_ORDERS_DAYS} days back and the "
            f"token lacks the scope {ALL_ORDERS_SCOPE}"
        )


def backfill_start(source: Source, timezone: str | None) -> datetime:
    """Midnight of `source.start_date` in the shop's time zone (UTC when the shop's is not known yet)."""
    assert source.start_date is not None, "only a source with a start_date is backfilled"
    tz = ZoneInfo(timezone) if timezone else UTC
    return datetime.combine(source.start_date, datetime.min.time(), tzinfo=tz)


class ProgressLog:
    """Headless default: one structured line per phase change, else at most one per `PROGRESS_LOG_SECONDS` per
    source and phase."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self._last: dict[str, float] = {}

    def __call__(self, progress: BackfillProgress) -> None:
        key = f"{progress.source}:{progress.phase}"
        now = self.monotonic()
        last = self._last.get(key)
        if progress.phase in _REPEATING_PHASES and last is not None and now - last < PROGRESS_LOG_SECONDS:
            return
        self._last[key] = now
        log.info(
            "backfill progress",
            source=progress.source,
            phase=progress.phase,
            window=progress.window,
            done=progress.done,
            total=progress.total,
        )
