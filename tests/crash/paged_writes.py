"""Launch the bridge (`python paged_writes.py --config … run`) with JSONL writes that a kill can tear.

A write(2) to a regular file is copied page by page, and Linux stops it between two pages when a
fatal signal (SIGKILL) is pending: the file keeps the first part of the batch. On a loopback test
machine that window is microseconds wide; here the JSONL destination's file object hands the
kernel CHUNK_BYTES at a time with a short pause between, so that a random kill lands inside a
write often. Only the granularity of the writes changes: the destination's own code (how it opens,
appends, flushes, fsyncs — and whatever repair it does at open) runs as shipped.
"""

from __future__ import annotations

import runpy
import sys
import time
from typing import Any

from shopify_bridge.deliver.destinations import jsonl
from shopify_bridge.private_files import open_private

CHUNK_BYTES = 1024
PAUSE_SECONDS = 0.004


class PagedWriter:
    """A binary file whose `write` reaches the kernel in small pieces, each flushed at once."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        for start in range(0, len(view), CHUNK_BYTES):
            self._raw.write(view[start:start + CHUNK_BYTES])
            self._raw.flush()
            time.sleep(PAUSE_SECONDS)
        return len(view)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)

    def __enter__(self) -> PagedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._raw.close()


def paged_open(file: Any, mode: str = "ab") -> Any:
    raw = open_private(file, mode)  # as shipped (0600 and all); the caller's `with` closes it
    if any(flag in mode for flag in "aw+"):
        return PagedWriter(raw)
    return raw


def main() -> None:
    # The module's global `open_private` is replaced for the destination's code only.
    jsonl.open_private = paged_open  # type: ignore[assignment]
    sys.argv = ["shopify-bridge", *sys.argv[1:]]
    runpy.run_module("shopify_bridge", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
