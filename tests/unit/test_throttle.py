"""The bucket model: Shopify's reports, our reservations, the measured refill and the THROTTLED wait."""

from __future__ import annotations

import pytest

from shopify_bridge.shopify.throttle import (
    MAX_MARGIN_SHARE,
    MIN_REFILL_SHARE,
    REFILL_WINDOW_SECONDS,
    Bucket,
    CostReport,
    parse_cost,
    throttled_wait,
)


def report(available: float, requested: float = 100, actual: float | None = 100, rate: float = 100) -> CostReport:
    return CostReport(requested=requested, actual=actual, maximum=2000, available=available, restore_rate=rate)


def answered(bucket: Bucket, cost: float, now: float, rep: CostReport | None) -> None:
    bucket.reserve(cost)
    bucket.release(cost, rep, now)


def test_parse_cost_reads_recorded_shape_and_float_numbers() -> None:
    parsed = parse_cost(
        {
            "cost": {
                "requestedQueryCost": 23,
                "actualQueryCost": 13,
                "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 987, "restoreRate": 50.0},
            }
        }
    )
    assert parsed == CostReport(requested=23.0, actual=13.0, maximum=1000.0, available=987.0, restore_rate=50.0)


def test_parse_cost_tolerates_missing_or_broken_extension() -> None:
    assert parse_cost(None) is None
    assert parse_cost({"cost": {"requestedQueryCost": 1}}) is None


def test_bucket_waits_before_a_query_that_does_not_fit_and_refills_with_time() -> None:
    bucket = Bucket(maximum=2000, restore_rate=100, available=50, observed_at=0.0)
    assert bucket.wait_for(40, now=0.0) == 0.0
    # 200 missing points at 100/s, and one more: reports are whole points, clocks differ
    assert bucket.wait_for(250, now=0.0) == pytest.approx(2.01)
    assert bucket.wait_for(250, now=2.02) == 0.0  # refilled meanwhile
    assert bucket.level(1000.0) == 2000  # never above the maximum


def test_a_reservation_holds_points_until_the_answer_and_the_report_replaces_the_estimate() -> None:
    bucket = Bucket(maximum=100, restore_rate=10, available=100, observed_at=0.0)
    bucket.reserve(80)
    assert bucket.wait_for(49, now=0.0) == 3.0  # 20 left for others while 80 are out: 30 (+1) missing
    bucket.release(80, CostReport(requested=80, actual=10, maximum=100, available=90, restore_rate=10), now=0.0)
    assert bucket.reserved == 0 and bucket.wait_for(50, now=0.0) == 0.0


def test_an_abandoned_request_gives_its_reservation_back() -> None:
    bucket = Bucket(available=500, observed_at=0.0)
    bucket.reserve(400)
    bucket.release(400, None, now=0.0)
    assert bucket.level(0.0) == 500


@pytest.mark.parametrize(
    ("requested", "available", "rate", "wait"),
    [(500, 100, 100, 4.0), (492, 300, 100, 2.0), (70, 66, 50, 1.0), (1000, 0, 100, 10.0), (101, 0, 100, 2.0)],
)
def test_throttled_wait_is_the_ceiling_of_the_missing_points_over_the_restore_rate(
    requested: float, available: float, rate: float, wait: float
) -> None:
    assert throttled_wait(report(available, requested, None, rate)) == wait


def test_throttled_wait_with_a_report_that_shows_enough_is_one_second() -> None:
    assert throttled_wait(report(available=2000, requested=10, actual=None)) == 1.0


def test_the_refill_is_measured_when_another_app_takes_most_of_the_restore() -> None:
    """Reports 2 s apart, 100 points spent each time, while only 20 of the 100/s restore reach us."""
    bucket = Bucket()
    level, now = 500.0, 0.0
    answered(bucket, 100, now, report(level))
    assert bucket.refill_rate == 100  # nothing measured yet: Shopify's restoreRate
    for _ in range(5):
        now += 2.0
        level = level + 2.0 * 20 - 100
        answered(bucket, 100, now, report(level))
    assert bucket.refill_rate == pytest.approx(20)
    assert bucket.margin == pytest.approx(160)  # the first step fell 160 short of the 100/s prediction
    assert bucket.wait_for(100, now) == pytest.approx((100 + 160 + 1 - level) / 20)


def test_a_step_from_a_full_bucket_says_nothing_about_the_refill() -> None:
    bucket = Bucket()
    answered(bucket, 10, 0.0, report(1990, actual=10))
    answered(bucket, 10, 50.0, report(1990, actual=10))  # full again before the charge: refill spilled over
    assert bucket.refill_rate == 100


def test_the_refill_never_drops_below_a_floor_and_old_steps_expire() -> None:
    bucket = Bucket()
    answered(bucket, 100, 0.0, report(1000))
    answered(bucket, 100, 2.0, report(300, actual=100))  # lost 600 more than it spent: a burst elsewhere
    assert bucket.refill_rate == 100 * MIN_REFILL_SHARE
    answered(bucket, 100, 2.0 + REFILL_WINDOW_SECONDS + 1, report(1900))  # full before this charge
    assert bucket.refill_rate == 100  # the bad step has aged out of the window


def test_a_shortfall_against_the_prediction_is_kept_in_hand_as_a_margin() -> None:
    """The bucket fell 80 points short of what was predicted: later waits keep 80 more in hand."""
    bucket = Bucket()
    answered(bucket, 0, 0.0, report(500, actual=0))
    answered(bucket, 0, 1.0, report(520, actual=0))  # 600 predicted at 100/s; another app took 80
    assert (bucket.margin, bucket.refill_rate) == (80, 20)
    assert bucket.wait_for(439, 1.0) == 0.0  # 439 (+1) + 80 in hand
    assert bucket.wait_for(500, 1.0) == pytest.approx((500 + 80 + 1 - 520) / 20)


def test_the_margin_never_exceeds_a_quarter_of_the_bucket() -> None:
    bucket = Bucket()
    answered(bucket, 0, 0.0, report(1500, actual=0))
    answered(bucket, 0, 600.0, report(100, actual=0))  # idle: predicted full, another app left 100
    assert bucket.margin == 2000 * MAX_MARGIN_SHARE == 500


def test_concurrent_requests_make_the_step_unclear_and_it_is_not_measured() -> None:
    bucket = Bucket()
    answered(bucket, 100, 0.0, report(1000))
    bucket.reserve(100)
    bucket.reserve(100)  # two out at once: whose charge a report shows is unknown
    bucket.release(100, report(820), 2.0)
    bucket.release(100, report(700), 2.5)
    assert bucket.refill_rate == 100
