"""Classification of Shopify answers, fed with the recorded wire shapes where they exist."""

from __future__ import annotations

import pytest

from shopify_bridge import exit_codes
from shopify_bridge.shopify.responses import ShopifyAnswer, classify
from tests.conftest import recorded

COST = {
    "cost": {
        "requestedQueryCost": 10,
        "actualQueryCost": 1,
        "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 1999, "restoreRate": 100},
    }
}


def _classify(answer: ShopifyAnswer):  # type: ignore[no-untyped-def]
    return classify(answer, source="Main", shop="demo.myshopify.com", query="BridgePollOrders")


def test_recorded_access_denied_names_the_scope_and_refuses_partial_data() -> None:
    rec = recorded("2025-01__shopify-payments-account-access-denied.json")
    outcome = _classify(
        ShopifyAnswer(status=rec["status"], data=rec["data"], errors=rec["errors"], extensions=rec["extensions"])
    )
    assert outcome.kind == "fatal"
    assert outcome.error is not None and outcome.error.exit_code == exit_codes.NOPERM
    assert "read_shopify_payments" in str(outcome.error)
    assert "shopifyPaymentsAccount" in str(outcome.error)


@pytest.mark.parametrize(
    ("status", "code", "needle"),
    [
        (401, exit_codes.NOPERM, "token rejected for Main"),
        (402, exit_codes.UNAVAILABLE, "402"),
        (423, exit_codes.UNAVAILABLE, "locked"),
        (404, exit_codes.CONFIG, "no shop named demo.myshopify.com"),
    ],
)
def test_string_error_bodies_by_status(status: int, code: int, needle: str) -> None:
    outcome = _classify(ShopifyAnswer(status=status, errors="[API] Invalid API key or access token"))
    assert outcome.kind == "fatal"
    assert outcome.error is not None and outcome.error.exit_code == code
    assert needle in str(outcome.error)


def test_throttled_comes_as_http_200() -> None:
    answer = ShopifyAnswer(
        status=200, errors=[{"message": "Throttled", "extensions": {"code": "THROTTLED"}}], extensions=COST
    )
    assert _classify(answer).kind == "throttled"
    assert _classify(ShopifyAnswer(status=429, retry_after=2.0)).kind == "throttled"


MAX_COST_MESSAGE = (
    "Query cost is 1723, which exceeds the single query max cost limit (1000).\n\n"
    "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
    "cost of a query is calculated."
)


@pytest.mark.parametrize(
    "error",
    [
        {"message": MAX_COST_MESSAGE, "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1723, "maxCost": 1000}},
        {"message": MAX_COST_MESSAGE},  # as client libraries relay it: the message alone
    ],
)
def test_max_cost_exceeded_is_too_costly_not_a_failure(error: dict[str, object]) -> None:
    answer = ShopifyAnswer(status=200, errors=[error], extensions=COST)
    outcome = _classify(answer)
    assert outcome.kind == "too_costly"
    assert outcome.reason == "Query cost is 1723, which exceeds the single query max cost limit (1000)."
    assert outcome.error is not None and "\n" not in str(outcome.error)


@pytest.mark.parametrize("status", [500, 502, 503, 0])
def test_server_errors_and_connection_problems_are_temporary(status: int) -> None:
    answer = (
        ShopifyAnswer(status=status, body_problem="boom")
        if status
        else ShopifyAnswer(status=0, connection_problem="ConnectionResetError")
    )
    assert _classify(answer).kind == "temporary"


def test_html_with_200_is_temporary() -> None:
    assert _classify(ShopifyAnswer(status=200, body_problem="Not a JSON answer: <html>")).kind == "temporary"


def test_errors_next_to_partial_data_are_refused() -> None:
    answer = ShopifyAnswer(status=200, data={"orders": {"nodes": []}}, errors=[{"message": "Field 'x' doesn't exist"}])
    outcome = _classify(answer)
    assert outcome.kind == "fatal" and "rejected BridgePollOrders" in str(outcome.error)


def test_search_warning_is_an_error_not_a_silently_wider_result() -> None:
    answer = ShopifyAnswer(
        status=200,
        data={"orders": {"nodes": []}},
        extensions={
            "search": [
                {
                    "path": ["orders"],
                    "query": "updatd_at:>1",
                    "warnings": [
                        {
                            "field": "updatd_at",
                            "message": "Invalid search field for this query.",
                            "code": "invalid_field",
                        }
                    ],
                }
            ]
        },
    )
    outcome = _classify(answer)
    assert outcome.kind == "fatal" and "updatd_at" in str(outcome.error)


def test_plain_success() -> None:
    outcome = _classify(ShopifyAnswer(status=200, data={"shop": {"name": "x"}}, extensions=COST))
    assert outcome.kind == "ok" and outcome.data == {"shop": {"name": "x"}}
