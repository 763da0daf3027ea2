from shopify_bridge.decide.orderdoc import (
    flatten_connection,
    legacy_id,
    merge_refund_details,
    normalize_order,
    refund_has_details,
)


def test_flatten_connection_accepts_nodes_edges_lists_and_null() -> None:
    assert flatten_connection({"nodes": [{"id": 1}]}) == [{"id": 1}]
    assert flatten_connection({"edges": [{"node": {"id": 2}}]}) == [{"id": 2}]
    assert flatten_connection([{"id": 3}]) == [{"id": 3}]
    assert flatten_connection(None) == []


def test_normalize_order_flattens_line_items_and_appends_follow_up_pages_once() -> None:
    node = {
        "id": "gid://shopify/Order/1",
        "lineItems": {
            "pageInfo": {"hasNextPage": True, "endCursor": "c1"},
            "nodes": [{"id": "L1"}, {"id": "L2"}],
        },
        "refunds": [{"id": "gid://shopify/Refund/9", "transactions": {"nodes": [{"kind": "REFUND"}]}}],
    }
    doc = normalize_order(node, extra_line_items=[{"id": "L2"}, {"id": "L3"}])
    assert [item["id"] for item in doc["lineItems"]] == ["L1", "L2", "L3"]
    assert doc["refunds"][0]["transactions"] == [{"kind": "REFUND"}]


def test_merge_refund_details_marks_refunds_as_read() -> None:
    doc = normalize_order(
        {
            "id": "gid://shopify/Order/1",
            "lineItems": {"nodes": []},
            "refunds": [{"id": "gid://shopify/Refund/9", "note": "x"}],
        }
    )
    assert not refund_has_details(doc["refunds"][0])
    merged = merge_refund_details(
        doc,
        {
            "gid://shopify/Refund/9": {
                "id": "gid://shopify/Refund/9",
                "transactions": {"nodes": []},
                "refundLineItems": {"nodes": []},
            }
        },
    )
    assert refund_has_details(merged["refunds"][0])
    assert merged["refunds"][0]["note"] == "x"
    assert not refund_has_details(doc["refunds"][0])  # the input is not mutated


def test_legacy_id() -> None:
    assert legacy_id("gid://shopify/Order/5801234567890") == "5801234567890"
    assert legacy_id(42) == "42"
