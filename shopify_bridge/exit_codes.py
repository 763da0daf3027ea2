"""Exit codes of every command (PRODUCT.md), sysexits-style so cron and systemd can act on them."""

from __future__ import annotations

from collections.abc import Iterable

OK = 0
FAILURE = 1              # unexpected failure (a bug): the message says so; --debug shows the traceback
USAGE = 2                # bad command line
RECONCILE_MISMATCH = 65  # reconcile found orders that fall through
UNAVAILABLE = 69         # Shopify unreachable, shop unavailable (402) or locked (423)
TEMPFAIL = 75            # temporary failure: throttling, 5xx, timeouts after retries
NOPERM = 77              # authentication (401) or missing scope (ACCESS_DENIED)
CONFIG = 78              # configuration error (also a 404 for the store: no such shop)

# When several sources fail differently, `run --once` exits with the most severe code:
# a bug first, then what an operator must fix (config, credentials), then outages, then
# what fixes itself.
_SEVERITY = [FAILURE, CONFIG, NOPERM, UNAVAILABLE, TEMPFAIL, RECONCILE_MISMATCH, USAGE]


def most_severe(codes: Iterable[int]) -> int:
    present = {code for code in codes if code != OK}
    for code in _SEVERITY:
        if code in present:
            return code
    return min(present) if present else OK
