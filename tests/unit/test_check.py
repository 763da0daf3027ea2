from datetime import date

from shopify_bridge import exit_codes
from shopify_bridge.service.check import evaluate
from shopify_bridge.shopify.scopes import missing_scopes

TODAY = date(2026, 11, 29)
ALL = {"read_customer_events", "read_customers", "read_orders", "read_products"}


def _data(scopes: set[str]) -> dict:
    return {
        "shop": {
            "name": "Convergestore",
            "myshopifyDomain": "convergestore.myshopify.com",
            "currencyCode": "CAD",
            "ianaTimezone": "America/Toronto",
        },
        "currentAppInstallation": {"accessScopes": [{"handle": s} for s in sorted(scopes)]},
    }


def test_all_scopes_granted_passes_and_reports_the_shop() -> None:
    report = evaluate(
        "Main", "convergestore.myshopify.com", _data(ALL), start_date=None, today=TODAY, bucket=(2000, 100)
    )
    assert report.ok and report.shop_name == "Convergestore" and report.currency == "CAD"
    assert report.timezone == "America/Toronto" and report.bucket == "2000 points, restores 100/s"


def test_missing_scope_is_named_and_exits_77() -> None:
    report = evaluate("Main", "x.myshopify.com", _data(ALL - {"read_customers"}), start_date=None, today=TODAY)
    assert report.exit_code == exit_codes.NOPERM
    assert "read_customers" in report.lines[-1].detail


def test_read_all_orders_needed_only_for_a_start_date_older_than_60_days() -> None:
    assert missing_scopes(ALL, date(2026, 10, 15), TODAY) == []
    assert missing_scopes(ALL, date(2026, 1, 1), TODAY) == ["read_all_orders"]
    assert missing_scopes(ALL | {"read_all_orders"}, date(2026, 1, 1), TODAY) == []


def test_write_scope_implies_read() -> None:
    assert missing_scopes((ALL - {"read_orders"}) | {"write_orders"}, None, TODAY) == []
