"""The client paths replayed from cassettes, with no simulator and no network: check, 401, THROTTLED."""

from __future__ import annotations

from datetime import date

from shopify_bridge import exit_codes
from shopify_bridge.errors import AuthError
from shopify_bridge.service.check import check_source
from tests.cassettes import scenarios
from tests.cassettes.replay import cassette_path, replaying
from tests.cassettes.scenarios import REVOKED_TOKEN, SHOP, SOURCE, TOKEN, Harness


async def test_check_reports_the_recorded_shop_scopes_and_bucket(harness: Harness) -> None:
    with replaying(cassette_path("check")) as cassette:
        report = await scenarios.check(harness)
        assert cassette.all_played
    assert report.exit_code == exit_codes.OK
    assert (report.shop_name, report.currency, report.timezone) == (
        "Sim Snowboards",
        "CAD",
        "America/Toronto",
    )
    assert report.bucket == "2000 points, restores 100/s"
    assert all(line.ok for line in report.lines)
    assert [line.label for line in report.lines if line.label.startswith("scope ")] == [
        "scope read_customer_events",
        "scope read_customers",
        "scope read_orders",
        "scope read_products",
    ]


async def test_check_with_an_old_start_date_uses_the_recorded_read_all_orders_grant(harness: Harness) -> None:
    with replaying(cassette_path("check")):
        async with harness.client() as client:
            report = await check_source(
                client, SOURCE, SHOP, start_date=date(2025, 1, 1), today=date(2026, 7, 1)
            )
    assert report.exit_code == exit_codes.OK  # the simulator grants read_all_orders


async def test_a_revoked_token_is_an_auth_error_exit_77_without_the_token(harness: Harness) -> None:
    with replaying(cassette_path("unauthorized")) as cassette:
        error = await scenarios.unauthorized(harness)
        assert cassette.all_played
    assert isinstance(error, AuthError)
    assert error.exit_code == exit_codes.NOPERM == 77
    assert f"token rejected for {SOURCE}" in str(error)
    assert REVOKED_TOKEN not in str(error) and TOKEN not in str(error)


async def test_check_turns_the_recorded_401_into_a_failed_report(harness: Harness) -> None:
    with replaying(cassette_path("unauthorized")):
        async with harness.client(REVOKED_TOKEN) as client:
            report = await check_source(client, SOURCE, SHOP, start_date=None, today=date(2026, 7, 1))
    assert report.exit_code == exit_codes.NOPERM
    assert not report.lines[0].ok and "401" in report.lines[0].detail


async def test_throttled_answer_is_waited_out_and_retried(harness: Harness) -> None:
    with replaying(cassette_path("throttled")) as cassette:
        data = await scenarios.throttled(harness)
        assert cassette.play_count == 2 and cassette.all_played  # THROTTLED, then the same query again
    assert data["shop"]["name"] == "Sim Snowboards"
    assert len(harness.waits) == 1 and harness.waits[0] >= 1.0
