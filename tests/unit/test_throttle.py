from shopify_bridge.shopify.throttle import Bucket, parse_cost


def test_parse_cost_reads_recorded_shape_and_float_numbers() -> None:
    report = parse_cost(
        {
            "cost": {
                "requestedQueryCost": 23,
                "actualQueryCost": 13,
                "throttleStatus": {
                    "maximumAvailable": 1000.0,
                    "currentlyAvailable": 987,
                    "restoreRate": 50.0,
                },
            }
        }
    )
    assert report is not None
    assert (report.requested, report.actual, report.maximum, report.available, report.restore_rate) == (
        23.0,
        13.0,
        1000.0,
        987.0,
        50.0,
    )


def test_parse_cost_tolerates_missing_or_broken_extension() -> None:
    assert parse_cost(None) is None
    assert parse_cost({"cost": {"requestedQueryCost": 1}}) is None


def test_bucket_waits_before_a_query_that_does_not_fit_and_refills_with_time() -> None:
    bucket = Bucket(maximum=2000, restore_rate=100, available=50, observed_at=0.0)
    assert bucket.wait_for(40, now=0.0) == 0.0
    assert bucket.wait_for(250, now=0.0) == 2.0  # 200 missing points at 100/s
    assert bucket.wait_for(250, now=2.0) == 0.0  # refilled meanwhile
    assert bucket.level(1000.0) == 2000  # never above the maximum


def test_spend_reserves_points_and_observe_replaces_the_estimate() -> None:
    bucket = Bucket(maximum=100, restore_rate=10, available=100, observed_at=0.0)
    bucket.spend(80, now=0.0)
    assert bucket.wait_for(50, now=0.0) == 3.0
    report = parse_cost(
        {
            "cost": {
                "requestedQueryCost": 80,
                "actualQueryCost": 10,
                "throttleStatus": {"maximumAvailable": 100, "currentlyAvailable": 90, "restoreRate": 10},
            }
        }
    )
    assert report is not None
    bucket.observe(report, now=0.0)
    assert bucket.wait_for(50, now=0.0) == 0.0


def test_throttled_wait_is_never_a_tight_loop() -> None:
    bucket = Bucket(maximum=2000, restore_rate=100, available=2000, observed_at=0.0)
    assert bucket.throttled_wait(10, now=0.0) >= 1.0
