"""Real recorded Shopify answers (../shared/shopify/recorded) through the bridge's parsers.

`responses.classify` (what is an answer, what is a defect, what is a missing scope), `throttle.parse_cost`
on every `extensions.cost` in every capture, `orderdoc.normalize_order` on the captured order reads, and
the bulk JSONL reader on raw result bodies. Upstream notes that `upstreamCalls` blocks are partly
hand-made; the tests name which part of a capture they use.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shopify_bridge.decide.orderdoc import (
    merge_refund_details,
    normalize_order,
    normalize_refund,
    refund_has_details,
)
from shopify_bridge.errors import AuthError
from shopify_bridge.shopify.bulk.jsonl import ChildLine, Malformed, OrderLine, Truncated, read_records
from shopify_bridge.shopify.responses import ShopifyAnswer, ShopifyBug, classify
from shopify_bridge.shopify.throttle import parse_cost
from tests.conftest import RECORDED, recorded

CAPTURES = sorted(path.name for path in RECORDED.glob("*.json")) if RECORDED.exists() else []
# Captures made only of refused requests: classified one by one above, no clean answer among them.
ALL_REFUSED = {
    "2025-01__shopify-payments-account-access-denied.json",
    "2026-04__bulk-operations-read-arg-validation.json",
}
RAW_JSONL = ["2026-04__bulk-root-count-run.raw.jsonl", "2026-04__bulk-root-count-variantRun.raw.jsonl"]


def outcome(body: dict[str, Any], status: int = 200) -> Any:
    answer = ShopifyAnswer(
        status=status, data=body.get("data"), errors=body.get("errors"), extensions=body.get("extensions")
    )
    return classify(answer, source="Recorded", shop="harry-test-heelo.myshopify.com", query="Recorded")


def dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from dicts(item)
    elif isinstance(value, list):
        for item in value:
            yield from dicts(item)


# -- classify -------------------------------------------------------------------------------------
def test_access_denied_is_a_missing_scope_naming_the_field_and_the_scope() -> None:
    capture = recorded("2025-01__shopify-payments-account-access-denied.json")
    result = outcome(capture, capture["status"])
    assert result.kind == "fatal" and isinstance(result.error, AuthError)
    assert result.error.exit_code == 77
    message = str(result.error)
    assert "shopifyPaymentsAccount" in message and "read_shopify_payments" in message


def test_bulk_validator_user_errors_are_answers_not_failures() -> None:
    validations = recorded("2026-04__bulk-operation-run-query-validators.json")["validations"]
    assert len(validations) >= 8
    for name, case in validations.items():
        result = outcome(case["response"], case["status"])
        assert result.kind == "ok", name
        payload = result.data["bulkOperationRunQuery"]
        assert payload["bulkOperation"] is None and payload["userErrors"], name


def test_a_sixth_concurrent_bulk_run_is_an_answer_with_operation_in_progress() -> None:
    capture = recorded("2026-04__bulk-operation-run-query-concurrency-limit.json")
    for run in capture["successfulRuns"]:
        accepted = outcome(run["response"], run["status"])
        assert (
            accepted.kind == "ok"
            and accepted.data["bulkOperationRunQuery"]["bulkOperation"]["status"] == "CREATED"
        )
    refused = outcome(capture["sixthRun"]["response"], capture["sixthRun"]["status"])
    assert refused.kind == "ok"
    [error] = refused.data["bulkOperationRunQuery"]["userErrors"]
    assert error["code"] == "OPERATION_IN_PROGRESS"


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("missingWindow", "you must provide one of first or last"),
        ("firstAndLast", "providing both first and last"),
        ("invalidCreatedAt", "Invalid timestamp"),
        ("malformedInlineId", "Invalid global id"),
        ("nonBulkOperationGid", "Invalid id"),  # an error next to partial data: refused whole
        (
            "invalidStatusExpired",
            "ignored a search filter",
        ),  # extensions.search warning: the filter was dropped
        ("invalidOperationType", "ignored a search filter"),
    ],
)
def test_bulk_operations_argument_errors_are_bridge_defects(case: str, words: str) -> None:
    recorded_case = recorded("2026-04__bulk-operations-read-arg-validation.json")["cases"][case]
    result = outcome(recorded_case["response"], recorded_case["status"])
    assert result.kind == "fatal" and isinstance(result.error, ShopifyBug), case
    assert result.error.exit_code == 1 and words in str(result.error)


@pytest.mark.parametrize("name", [name for name in CAPTURES if name not in ALL_REFUSED])
def test_every_clean_recorded_answer_classifies_as_ok_with_its_data(name: str) -> None:
    clean = [
        body
        for body in dicts(recorded(name))
        if body.get("data") is not None
        and "errors" not in body
        and isinstance(body.get("extensions"), dict)
        and not body["extensions"].get("search")
    ]
    assert clean, f"{name} holds no clean answer"
    for body in clean:
        result = outcome(body)
        assert result.kind == "ok" and result.data == body["data"]


# -- cost -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CAPTURES)
def test_every_recorded_cost_extension_parses(name: str) -> None:
    costs = [
        d for d in dicts(recorded(name)) if isinstance(d.get("cost"), dict) and "throttleStatus" in d["cost"]
    ]
    assert costs, f"{name} has no extensions.cost"
    for extensions in costs:
        report = parse_cost(extensions)
        assert report is not None, extensions
        assert report.maximum == 2000 and report.restore_rate == 100  # the dev stores' Standard-plan bucket
        assert 0 <= report.available <= report.maximum and report.requested >= 0
        assert report.actual is None or report.actual >= 0


# -- order documents ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "2025-01__refund-create-full-parity.json",
        "2025-01__refund-create-partial-shipping-restock-parity.json",
    ],
)
def test_refund_captures_normalize_and_take_their_refund_details(name: str) -> None:
    capture = recorded(name)
    after = normalize_order(
        capture["downstreamRead"]["response"]["data"]["order"]
    )  # live read after the refund
    assert after["lineItems"] == [] and len(after["refunds"]) == 1
    [listed] = after["refunds"]
    assert not refund_has_details(
        listed
    )  # the list on Order has no transactions: the poller reads them per refund
    created = capture["mutation"]["response"]["data"]["refundCreate"]["refund"]
    assert created["id"] == listed["id"]
    merged = merge_refund_details(after, {listed["id"]: created})
    [detailed] = merged["refunds"]
    assert refund_has_details(detailed)
    assert isinstance(detailed["refundLineItems"], list) and isinstance(detailed["transactions"], list)
    refunded = sum(
        Decimal(t["amountSet"]["shopMoney"]["amount"])
        for t in detailed["transactions"]
        if t["kind"] == "REFUND" and t["status"] == "SUCCESS"
    )
    assert refunded == Decimal(after["totalRefundedSet"]["shopMoney"]["amount"])


def test_a_refund_payload_alone_flattens_its_connections() -> None:
    created = recorded("2025-01__refund-create-full-parity.json")["mutation"]["response"]["data"][
        "refundCreate"
    ]
    refund = normalize_refund(created["refund"])
    assert [item["lineItem"]["id"] for item in refund["refundLineItems"]] == [
        node["lineItem"]["id"] for node in created["refund"]["refundLineItems"]["nodes"]
    ]


def test_money_bag_order_keeps_both_currencies_as_decimal_strings() -> None:
    capture = recorded("2025-01__money-bag-presentment-parity.json")
    doc = normalize_order(capture["orderCreate"]["response"]["payload"]["data"]["orderCreate"]["order"])
    assert doc["lineItems"] and all("originalUnitPriceSet" in line for line in doc["lineItems"])
    bags = [d for d in dicts(doc) if "shopMoney" in d and "presentmentMoney" in d]
    assert bags
    for bag in bags:
        assert (bag["shopMoney"]["currencyCode"], bag["presentmentMoney"]["currencyCode"]) == ("CAD", "USD")
        assert isinstance(bag["shopMoney"]["amount"], str) and isinstance(
            bag["presentmentMoney"]["amount"], str
        )
        assert Decimal(bag["shopMoney"]["amount"]) >= 0 and Decimal(bag["presentmentMoney"]["amount"]) >= 0
    assert doc["totalPriceSet"]["shopMoney"]["amount"] == "13.5"


def test_order_edit_commit_normalizes_with_the_added_line() -> None:
    capture = recorded("2026-04__order-edit-existing-order-happy-path.json")
    committed = capture["commitAdd"]["response"]["data"]["orderEditCommit"]["order"]
    doc = normalize_order(committed)
    ids = [line["id"] for line in doc["lineItems"]]
    assert len(ids) == len(set(ids)) == len(committed["lineItems"]["nodes"]) == 3
    assert doc["lineItems"][-1]["title"] == "The Draft Snowboard"
    assert doc["refunds"] == [] and doc["updatedAt"] == committed["updatedAt"]


def test_orders_listing_nodes_normalize_without_line_items() -> None:
    data = recorded("2026-04__order-catalog-count-read.json")["response"]["data"]
    nodes = [node for key in ("recent", "oldest", "byName", "byStatus") for node in data[key]["nodes"]]
    assert nodes
    for node in nodes:
        doc = normalize_order(node)
        assert (
            doc["id"].startswith("gid://shopify/Order/") and doc["lineItems"] == [] and doc["refunds"] == []
        )


# -- bulk JSONL -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", RAW_JSONL)
def test_raw_bulk_jsonl_reads_into_proper_gids_and_parents(name: str) -> None:
    path = RECORDED / name
    if not path.exists():
        pytest.skip(f"reference recording {path} is absent (../shared is not checked out beside the repo)")
    assert b"gid:\\/\\/shopify\\/" in Path(path).read_bytes()  # the raw body escapes its slashes
    records = list(read_records(path))
    assert not [r for r in records if isinstance(r, Malformed | Truncated)]
    [root] = [r for r in records if isinstance(r, OrderLine)]
    children = [r for r in records if isinstance(r, ChildLine)]
    assert root.id.startswith("gid://shopify/") and "\\" not in root.id
    assert children and all(child.parent_id == root.id for child in children)
    assert {child.typename for child in children} <= {"ProductVariant", "MediaImage", "Metafield"}
    assert all("__parentId" not in child.data for child in children)
