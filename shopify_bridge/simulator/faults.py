"""Faults injected into the next matching GraphQL requests, shaped like Shopify's own failures.

`FaultQueue.add("http_401", count=2)` makes the next two GraphQL requests fail the way a revoked
token does. A fault may be limited to one operation name (`operation="BridgePollOrders"`) and may wait
for the n-th matching request (`after=2`: the next two pass, the third fails — e.g. the third page of a
poll, in the middle of its pagination).

The `bulk_*` kinds are not HTTP failures: they decide how the next bulk operation(s) end (or whether
`bulkOperationRunQuery` refuses to start one), and only the bulk engine takes them (`take_bulk`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import asdict, dataclass
from typing import Any

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
STRING_ERRORS: dict[str, tuple[int, str]] = {
    "http_401": (401, INVALID_TOKEN),
    "http_402": (402, "Unavailable Shop"),
    "http_404": (404, "Not Found"),
    "http_423": (423, "Locked"),
    "http_500": (500, "Internal Server Error"),
    "http_503": (503, "Service Unavailable"),
    "http_429": (
        429,
        "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.",
    ),
}
# How the next bulk operation ends (see simulator/bulk.py), and refusals of bulkOperationRunQuery.
BULK_OUTCOME_FAULTS = (
    "bulk_timeout",
    "bulk_access_denied",
    "bulk_internal_error",
    "bulk_canceled",
    "bulk_expired",
    "bulk_no_url",
    "bulk_truncated",
)
BULK_RUN_FAULTS = ("bulk_in_progress", "bulk_limit_reached")
# How the next download of a result file fails (see simulator/bulk_files.py).
DOWNLOAD_FAULTS = ("download_truncated", "download_reset")
BULK_FAULT_KINDS = (*BULK_OUTCOME_FAULTS, *BULK_RUN_FAULTS, *DOWNLOAD_FAULTS)
FAULT_KINDS = (*STRING_ERRORS, "html", "throttled", "access_denied", "reset", "timeout", *BULK_FAULT_KINDS)
HTML_PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Shopify</title></head>\n'
    "<body><h1>There was a problem loading this website</h1>\n"
    "<p>Try refreshing the page.</p></body></html>\n"
)
DEFAULT_REQUIRED_ACCESS = "`read_orders` access scope."
MAX_HANG_SECONDS = 300.0


@dataclass
class Fault:
    kind: str
    remaining: int = 1
    operation: str | None = None
    status: int | None = None
    retry_after: float = 2.0
    field: str | None = None
    required_access: str = DEFAULT_REQUIRED_ACCESS
    seconds: float = 60.0
    after: int = 0  # matching requests to let through first

    def describe(self) -> dict[str, Any]:
        return asdict(self)


class FaultQueue:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._released = asyncio.Event()

    def add(self, kind: str, count: int = 1, **params: Any) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("a fault needs a count of at least 1")
        known = set(Fault.__dataclass_fields__) - {"kind", "remaining"}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"unknown fault parameter(s) {', '.join(sorted(unknown))}")
        fault = Fault(kind=kind, remaining=count, **params)
        if int(fault.after) < 0:
            raise ValueError("a fault's `after` counts requests: at least 0")
        fault.after = int(fault.after)
        fault.seconds = min(float(fault.seconds), MAX_HANG_SECONDS)
        self._faults.append(fault)
        return fault

    def take(self, operation: str | None) -> Fault | None:
        """The first queued fault due for this request (by operation name), spending one of its uses.

        Every matching fault still counting down (`after`) counts this request, whichever fault fires.
        """
        due: Fault | None = None
        for fault in self._faults:
            if fault.kind in BULK_FAULT_KINDS or fault.operation not in (None, operation):
                continue
            if fault.after > 0:
                fault.after -= 1
            elif due is None:
                due = fault
        return None if due is None else self._spend(due)

    def take_bulk(self, kinds: tuple[str, ...]) -> Fault | None:
        """The first queued bulk fault of one of `kinds`, spending one of its uses."""
        fault = next((f for f in self._faults if f.kind in kinds), None)
        return None if fault is None else self._spend(fault)

    def _spend(self, fault: Fault) -> Fault:
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._faults.remove(fault)
        return fault

    def pending(self) -> list[dict[str, Any]]:
        return [fault.describe() for fault in self._faults]

    def clear(self) -> None:
        self._faults.clear()

    async def hang(self, seconds: float) -> None:
        """Wait like a server that never answers, until `seconds` pass or the simulator stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), timeout=seconds)

    def release_all(self) -> None:
        self._released.set()


def string_error(kind: str) -> tuple[int, str]:
    """(status, body) for the faults Shopify answers with a JSON *string* `errors`."""
    status, message = STRING_ERRORS[kind]
    return status, json.dumps({"errors": message})
