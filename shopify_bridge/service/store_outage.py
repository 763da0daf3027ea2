"""A database server that cannot be reached: one log line when it goes, one when it is back, and a bound.

The PostgreSQL runner tells `StoreOutage` every time a statement finds no connection (`lost`) and when
one works again (`restored`). Meanwhile every loop of the bridge fails its cycle quietly and tries again
with its own backoff (retry.py, as a failed source does); /healthz answers 503 with the reason
(`problem`). An outage is a temporary condition until `GIVE_UP_AFTER_SECONDS` of continuous failure:
then `check` raises the StoreUnavailable `run` exits with (75, one line), and a service manager's
restart policy takes over. SQLite has no server: it never reports an outage.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from msgspec import Struct, field

from shopify_bridge.observe.log import get_logger
from shopify_bridge.store.sql import StoreUnavailable

log = get_logger(component="store")

GIVE_UP_AFTER_SECONDS = 300.0
"""Five minutes without the database: long enough for a server restart or a fail-over, short enough that
an outage that needs a person ends the process (75) rather than leaving it waiting silently."""


class StoreOutage(Struct):
    monotonic: Callable[[], float] = time.monotonic
    give_up_after: float = GIVE_UP_AFTER_SECONDS
    since: float | None = None  # when the outage began (monotonic); None: the database is reachable
    error: StoreUnavailable | None = None  # what the last failed attempt said
    on_restored: Callable[[], None] = field(default=lambda: None)

    def changed(self, error: StoreUnavailable | None) -> None:
        """The runner's `on_outage`: a failed attempt (the error) or the first success after it (None)."""
        if error is None:
            self.restored()
        else:
            self.lost(error)

    def lost(self, error: StoreUnavailable) -> None:
        if self.since is None:
            self.since = self.monotonic()
            log.warning("database unreachable; retrying", error=str(error),
                        give_up_after_seconds=round(self.give_up_after))
        self.error = error

    def restored(self) -> None:
        if self.since is None:
            return
        seconds = self.monotonic() - self.since
        self.since, self.error = None, None
        log.info("database reachable again", outage_seconds=round(seconds, 1))
        self.on_restored()

    @property
    def seconds(self) -> float:
        return 0.0 if self.since is None else self.monotonic() - self.since

    @property
    def problem(self) -> str | None:
        """Why the store is not writable now (for /healthz), or None."""
        if self.since is None or self.error is None:
            return None
        return f"{self.error} (unreachable for {self.seconds:.0f} s; giving up after {self.give_up_after:.0f} s)"

    def check(self) -> None:
        """Raise StoreUnavailable (75) once the outage has lasted longer than the bound."""
        if self.since is None or self.error is None or self.seconds <= self.give_up_after:
            return
        raise StoreUnavailable(f"{self.error}; unreachable for {self.seconds:.0f} s, giving up "
                               f"(the bound is {self.give_up_after:.0f} s)")
