"""`ingest_orders`: a batch of fetched orders read, decided and written together, each as `ingest_order` would."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from shopify_bridge.service import backfill_ingest, ingest
from shopify_bridge.store import Store
from tests.decide.orders import CONNECTED, T0, context, order, refund, with_refunds

LATER = T0 + timedelta(minutes=30)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open_writer(tmp_path / "store.db")
    yield opened
    opened.close()


def rows(store: Store) -> list[tuple[object, ...]]:
    return store.conn.execute(
        "SELECT o.order_id, o.status, o.name, v.version, v.origin FROM orders o "
        "JOIN order_versions v USING (shop, order_id) ORDER BY o.order_id, v.version"
    ).fetchall()


def test_a_batch_stores_what_one_order_at_a_time_stores(store: Store, tmp_path: Path) -> None:
    docs = [order(1), with_refunds(order(2), refund(77, LATER)), order(3, processed=T0 - timedelta(days=2))]
    seqs = ingest.ingest_orders(store, context(None), docs, origin="bulk", now=LATER, first_connected_at=CONNECTED,
                                is_new_customer={docs[0]["id"]: True})
    alone = Store.open_writer(tmp_path / "alone.db")
    expected = [seq for doc, new in zip(docs, (True, None, None), strict=True)
                for seq in ingest.ingest_order(alone, context(None), doc, origin="bulk", now=LATER,
                                               first_connected_at=CONNECTED, is_new_customer=new)]
    assert seqs == expected and len(seqs) == 3  # two Placed Orders and a Received Refund; #3 is history
    assert rows(store) == rows(alone)
    payloads = "SELECT event_id, payload FROM events ORDER BY seq"
    assert store.conn.execute(payloads).fetchall() == alone.conn.execute(payloads).fetchall()
    alone.close()


def test_an_order_met_twice_in_a_batch_is_decided_on_what_its_first_version_left(store: Store) -> None:
    first = order(1)
    second = {**first, "name": "#1001-edited", "updatedAt": "2026-05-01T10:20:00Z"}
    seqs = ingest.ingest_orders(store, context(None), [first, order(2), second, first], origin="bulk", now=LATER,
                                first_connected_at=CONNECTED)
    assert len(seqs) == 2, "one Placed Order per order, never a second one"
    # Three versions (the content changed twice), the display fields those of the last one.
    assert rows(store) == [
        ("5800000000001", "released", "#1001", 1, "bulk"),
        ("5800000000001", "released", "#1001", 2, "bulk"),
        ("5800000000001", "released", "#1001", 3, "bulk"),
        ("5800000000002", "released", "#1002", 1, "bulk"),
    ]


def test_the_collector_is_spared_while_results_are_ingested_and_restored_by_the_last_one_out() -> None:
    gc.freeze()  # as the console script does once start-up is over
    try:
        before, frozen = gc.get_threshold(), gc.get_freeze_count()
        first, second = backfill_ingest._fewer_collections(), backfill_ingest._fewer_collections()
        first.__enter__()
        assert gc.get_threshold() == (backfill_ingest.INGEST_GC_THRESHOLD, *before[1:])
        second.__enter__()  # another source's backfill, overlapping
        first.__exit__(None, None, None)
        assert gc.get_threshold()[0] == backfill_ingest.INGEST_GC_THRESHOLD, "still ingesting"
        second.__exit__(None, None, None)
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == frozen > 0, "what start-up froze stays frozen"
    finally:
        gc.unfreeze()
