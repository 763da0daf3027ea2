"""Process exit codes: the contract of PRODUCT.md, close to BSD `sysexits.h` so service managers and
cron wrappers can tell "fix the config" from "try again later".
"""

from __future__ import annotations

from collections.abc import Iterable

OK = 0
"""Everything asked for was done."""

FAILURE = 1
"""An unexpected failure: a defect or an environment problem the bridge has no better word for."""

USAGE = 2
"""The command line was wrong (unknown option, missing argument); nothing was attempted."""

RECONCILE_MISMATCH = 65
"""`reconcile` found orders that Shopify counts but the bridge cannot account for (EX_DATAERR)."""

UNAVAILABLE = 69
"""Shopify unreachable, or the shop unavailable (402) or locked (423) (EX_UNAVAILABLE)."""

IOERR = 74
"""Local storage failed: disk full, an I/O error, the database file removed or replaced while running (EX_IOERR).
Nothing committed is lost; fix the disk (or restore the file) and start again."""

TEMPFAIL = 75
"""A temporary failure that survived the retries: throttling, 5xx, timeouts, or another process holds the
database (EX_TEMPFAIL); retry later."""

NOPERM = 77
"""Authentication failed (401) or a scope is missing (ACCESS_DENIED) (EX_NOPERM)."""

CONFIG = 78
"""The configuration is wrong, including a store that does not exist (404) (EX_CONFIG)."""

# Several sources can fail differently in one `run --once`; the process reports the most severe:
# a bug first (nothing else can be trusted after it), then what an operator must fix (config,
# credentials), then outages, then what fixes itself. Codes outside the contract rank after these.
_SEVERITY: tuple[int, ...] = (FAILURE, IOERR, CONFIG, NOPERM, UNAVAILABLE, TEMPFAIL, RECONCILE_MISMATCH, USAGE)


def most_severe(codes: Iterable[int]) -> int:
    """The code to exit with when several sources ended differently (OK when all were OK)."""
    present = {code for code in codes if code != OK}
    for code in _SEVERITY:
        if code in present:
            return code
    return min(present) if present else OK
