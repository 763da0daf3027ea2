"""Timestamps in and out: Shopify's `Z` and any offset read as UTC; written as UTC seconds with `+00:00`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from shopify_bridge.timeutil import iso, parse_ts, shopify_ts


def test_iso_writes_utc_seconds_whatever_the_offset() -> None:
    at_utc = datetime(2026, 11, 7, 16, 59, 8, 750_000, tzinfo=UTC)
    assert iso(at_utc) == "2026-11-07T16:59:08+00:00"
    toronto = timezone(timedelta(hours=-5))
    assert iso(datetime(2026, 11, 7, 11, 59, 8, tzinfo=toronto)) == "2026-11-07T16:59:08+00:00"
    assert iso(datetime(2026, 11, 7, 16, 59, 8, tzinfo=timezone(timedelta(0), "UTC+0"))) == "2026-11-07T16:59:08+00:00"


def test_parse_ts_reads_shopify_z_offsets_and_naive_times_as_utc() -> None:
    assert parse_ts("2026-11-07T16:59:08Z") == datetime(2026, 11, 7, 16, 59, 8, tzinfo=UTC)
    assert parse_ts("2026-11-07T16:59:08Z").tzinfo is UTC
    assert parse_ts("2026-11-07T11:59:08-05:00").tzinfo is UTC
    assert parse_ts("2026-11-07T11:59:08-05:00") == datetime(2026, 11, 7, 16, 59, 8, tzinfo=UTC)
    assert parse_ts("2026-11-07T16:59:08") == datetime(2026, 11, 7, 16, 59, 8, tzinfo=UTC)


def test_round_trips() -> None:
    text = "2026-02-28T23:00:00Z"
    assert shopify_ts(parse_ts(text)) == text
    assert parse_ts(iso(parse_ts(text))) == parse_ts(text)
