"""Backfill progress in one line, and that line kept in the store for dashboards."""

from __future__ import annotations

from pathlib import Path

from shopify_bridge.observe.backfill_progress import BackfillProgress, StoredProgress
from shopify_bridge.store import Store

SHOP = "demo.myshopify.com"


def test_each_phase_reads_as_one_line() -> None:
    window = "2026-01-01..2026-05-01"
    assert BackfillProgress("Demo", "ingesting", window, 4500, 10_000).line() == (
        "backfill 2026-01-01..2026-05-01: storing orders 4,500/10,000 (45 %)")
    assert BackfillProgress("Demo", "running", window, 120).line() == (
        "backfill 2026-01-01..2026-05-01: Shopify is preparing the result 120")
    assert BackfillProgress("Demo", "downloading", window, 2048, 4096).line().endswith(
        "downloading 2,048/4,096 bytes (50 %)")
    assert BackfillProgress("Demo", "staging", window, 12, 10).line().endswith("reading the result 12/10 (100 %)")


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_store_gets_a_line_per_second_and_per_phase_change_and_none_when_done(tmp_path: Path) -> None:
    store = Store.open_writer(tmp_path / "s.db")
    store.sources.ensure(SHOP, "Demo")
    clock = Ticks()
    stored = StoredProgress(store.sources.set_progress, clock)

    def line() -> str | None:
        return store.conn.execute("SELECT progress FROM sources WHERE shop = ?", (SHOP,)).fetchone()[0]

    assert stored(SHOP, BackfillProgress("Demo", "ingesting", "w", 1, 10))
    assert not stored(SHOP, BackfillProgress("Demo", "ingesting", "w", 2, 10))  # within the second
    assert line() is not None and "1/10" in line()
    clock.now = 1.0
    assert stored(SHOP, BackfillProgress("Demo", "ingesting", "w", 3, 10))
    assert "3/10" in (line() or "")
    assert stored(SHOP, BackfillProgress("Demo", "done", "w", 10, 10))  # a new phase: written at once
    assert line() is None
