"""The alert rules on a fake clock: the messages, the JSON document, and one per kind and source per 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shopify_bridge.observe.alert_rules import (
    RATE_WINDOW,
    AlertGate,
    dead_letters,
    reconcile_mismatch,
    source_failed,
    source_recovered,
)
from tests.fake_clock import FakeClock

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def test_the_document_has_the_contracts_keys_and_a_slack_safe_text() -> None:
    alert = source_failed("Main <Store> & Co", "Shopify answered 401 <html>", T0)
    assert alert.document() == {
        "kind": "source_failed",
        "source": "Main <Store> & Co",
        "message": "failed: Shopify answered 401 <html>",
        "at": "2026-05-01T10:00:00+00:00",
        "text": "shopify-bridge · source failed · Main &lt;Store&gt; &amp; Co: "
                "failed: Shopify answered 401 &lt;html&gt;",
    }


def test_each_kind_says_what_happened() -> None:
    assert source_recovered("Main", T0 - timedelta(minutes=42), T0).message == "polls again after 42 min failing"
    assert source_recovered("Main", None, T0).message == "polls again"
    letters = [("meta", f"58{i}", "HTTP 400: bad") for i in range(5)]
    assert dead_letters("Main", letters, T0).message == (
        "580 to meta: HTTP 400: bad; 581 to meta: HTTP 400: bad; 582 to meta: HTTP 400: bad; and 2 more")
    assert reconcile_mismatch("Main", [("2026-04-30", 12, 11)], T0).message == (
        "2026-04-30: Shopify counts 12 orders, the bridge accounts for 11")
    with pytest.raises(ValueError):
        dead_letters("Main", [], T0)


def test_one_alert_per_kind_and_source_per_window_the_rest_folded_and_sent_when_it_ends() -> None:
    clock = FakeClock(T0)
    gate = AlertGate()
    first = dead_letters("Main", [("meta", "1", "HTTP 400")], clock())
    assert gate.offer(first, clock()) == first
    gate.sent(first, clock())
    assert gate.offer(dead_letters("Other", [("meta", "2", "HTTP 400")], clock()), clock()) is not None  # source
    assert gate.offer(source_failed("Main", "HTTP 401", clock()), clock()) is not None  # another kind

    clock.advance(60)
    assert gate.offer(dead_letters("Main", [("meta", "3", "HTTP 400")], clock()), clock()) is None
    clock.advance(60)
    assert gate.offer(dead_letters("Main", [("ga4", "4", "HTTP 404"), ("ga4", "5", "HTTP 404")], clock()),
                      clock()) is None
    assert gate.next_due() == T0 + RATE_WINDOW
    clock.advance(RATE_WINDOW.total_seconds() - 121)
    assert gate.due(clock()) == []  # one second before the window ends
    clock.advance(1)
    [held] = gate.due(clock())
    assert held.count == 3 and held.at == T0 + timedelta(seconds=60)
    assert held.message == ("3 to meta: HTTP 400; 4 to ga4: HTTP 404; 5 to ga4: HTTP 404 "
                            "(1 more alert like this since 2026-05-01T10:01:00+00:00)")
    assert gate.due(clock()) == [] and gate.next_due() is None  # taken out once
    gate.sent(held, clock())
    assert gate.offer(dead_letters("Main", [("meta", "6", "x")], clock()), clock()) is None  # a new window


def test_a_held_failure_is_dropped_when_its_source_recovers_and_the_newest_state_is_told() -> None:
    clock = FakeClock(T0)
    gate = AlertGate()
    failed = source_failed("Main", "HTTP 401", clock())
    recovered = source_recovered("Main", T0, clock())
    for alert in (failed, recovered):
        assert gate.offer(alert, clock()) == alert
        gate.sent(alert, clock())
    clock.advance(120)
    assert gate.offer(source_failed("Main", "HTTP 503", clock()), clock()) is None  # flapping: held
    clock.advance(60)
    assert gate.offer(source_failed("Main", "HTTP 500", clock()), clock()) is None
    assert gate.held[("source_failed", "Main")].message.startswith("failed: HTTP 500 (1 more alert")
    assert gate.offer(source_recovered("Main", T0, clock()), clock()) is None  # its own window is closed too
    assert ("source_failed", "Main") not in gate.held  # old news by now
    clock.advance(RATE_WINDOW.total_seconds())
    [told] = gate.due(clock())
    assert told.kind == "source_recovered"


def test_the_windows_start_from_the_times_the_store_kept_across_a_restart() -> None:
    gate = AlertGate({("source_failed", "Main"): T0})
    assert gate.offer(source_failed("Main", "HTTP 401", T0 + timedelta(minutes=5)), T0 + timedelta(minutes=5)) is None
    [held] = gate.due(T0 + RATE_WINDOW)
    assert held.message == "failed: HTTP 401"
