"""What a demo directory already holds: continue from it (and say so), or start over with `--fresh`.

The demo's simulator lives in memory and starts anew each time, but its database and events file
stay. Continuing is only honest if the new shop never reuses an id the database already holds (a
reused order id would be taken for an edit of the stored order, and no event would come of it), so
this reports the highest stored order id and number, and the demo starts the new shop's numbering
past them (`demo.simulator_numbering`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from shopify_bridge import exit_codes
from shopify_bridge.errors import BridgeError

DEMO_DATABASE = "demo.db"
DEMO_EVENTS = "events.jsonl"
DEMO_LOG = "demo.log"
# Everything a demo writes into its directory (the database with its WAL/SHM/journal, the backfill's
# bulk files, events, log): what --fresh removes, and nothing else of a directory the user chose.
_DEMO_FILES = (DEMO_DATABASE, f"{DEMO_DATABASE}-wal", f"{DEMO_DATABASE}-shm", f"{DEMO_DATABASE}-journal",
               f"{DEMO_DATABASE}.identity", DEMO_EVENTS, DEMO_LOG)
_DEMO_DIRS = ("demo-bulk",)


@dataclass(frozen=True)
class DemoStart:
    """How the demo starts in its directory: the line to tell the user, and what the database holds."""

    note: str
    highest_order_id: int = 0  # 0: no order stored
    highest_order_number: int = 0


def _remove_previous(out_dir: Path) -> bool:
    removed = False
    for name in _DEMO_FILES:
        path = out_dir / name
        if path.exists():
            path.unlink()
            removed = True
    for name in _DEMO_DIRS:
        if (out_dir / name).is_dir():
            shutil.rmtree(out_dir / name)
            removed = True
    return removed


def _refuse_while_running(database: Path) -> None:
    """Never pull the files from under a demo that still runs there: it holds the writer lock."""
    from shopify_bridge.store.writer_lock import WriterBusy, WriterLock

    lock = WriterLock(database)
    try:
        lock.acquire()
    except WriterBusy as busy:
        raise BridgeError(
            f"a demo still runs in {database.parent} (pid {busy.pid}); stop it before --fresh",
            exit_code=exit_codes.TEMPFAIL,
        ) from None
    lock.release()


def prepare_demo_dir(out_dir: Path, *, fresh: bool) -> DemoStart:
    """Start over (`fresh`, or nothing there yet), or continue from the database found in `out_dir`."""
    from shopify_bridge.store import Store

    database = out_dir / DEMO_DATABASE
    if fresh:
        _refuse_while_running(database)
        removed = _remove_previous(out_dir)
        return DemoStart(f"starting afresh in {out_dir}" + (" (the previous demo's files removed)" if removed else ""))
    if not database.exists():
        return DemoStart(f"starting a new demo in {out_dir}")
    store = Store.open_reader(database)
    try:
        totals = store.reads.orders.totals()
        highest_id, highest_number = store.reads.orders.highest_numbers()
    finally:
        store.close()
    events = sum(totals.events_by_name.values())
    orders = sum(totals.orders_by_status.values())
    return DemoStart(
        f"continuing the demo in {out_dir} from {database.name}: {orders} orders, {events} events so far "
        f"({totals.delivered} delivered); `demo --fresh` starts over",
        highest_order_id=highest_id,
        highest_order_number=highest_number,
    )
