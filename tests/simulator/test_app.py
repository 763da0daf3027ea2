"""The GraphQL endpoint: auth, paths and versions, validation, and every bridge query answered sensibly."""

from __future__ import annotations

from decimal import Decimal

from shopify_bridge.shopify import queries
from shopify_bridge.simulator import SimulatorServer
from tests.simulator.conftest import Caller

INVALID_TOKEN_BODY = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}


async def test_a_missing_or_wrong_token_gets_401_with_shopifys_string_body(caller: Caller) -> None:
    for token in ("", "shpat_wrong"):
        answer = await caller.graphql(queries.SHOP_INFO, token=token)
        assert answer.status == 401
        assert answer.body == INVALID_TOKEN_BODY
        assert answer.headers["Content-Type"].startswith("application/json")


async def test_unknown_paths_and_versions_are_404_not_found(caller: Caller, sim: SimulatorServer) -> None:
    for version in ("2026-13", "latest", "2099-01"):
        answer = await caller.graphql(queries.SHOP_INFO, version=version)
        assert (answer.status, answer.body) == (404, {"errors": "Not Found"}), version
    async with caller.session.post(f"{sim.url}/admin/api/2026-07/products.json") as response:
        assert response.status == 404
        assert await response.json() == {"errors": "Not Found"}


async def test_the_served_version_is_in_the_header_and_old_versions_fall_forward(caller: Caller) -> None:
    assert (await caller.graphql(queries.SHOP_INFO)).headers["X-Shopify-API-Version"] == "2026-07"
    assert (await caller.graphql(queries.SHOP_INFO, version="2026-04")).headers[
        "X-Shopify-API-Version"
    ] == "2026-04"
    assert (await caller.graphql(queries.SHOP_INFO, version="2024-10")).headers[
        "X-Shopify-API-Version"
    ] == "2025-07"


async def test_invalid_documents_get_200_with_an_errors_array_and_no_data(caller: Caller) -> None:
    unknown_field = await caller.graphql("{ shop { nope } }")
    assert unknown_field.status == 200
    assert "data" not in unknown_field.body
    assert "nope" in unknown_field.body["errors"][0]["message"]
    assert unknown_field.body["errors"][0]["locations"]
    syntax = await caller.graphql("{ shop { id ")
    assert syntax.status == 200 and "Syntax Error" in syntax.body["errors"][0]["message"]
    missing_variable = await caller.graphql(queries.READ_ORDER, {})
    assert missing_variable.status == 200 and missing_variable.body["errors"]


async def test_a_body_that_is_not_a_graphql_request_is_400(caller: Caller, sim: SimulatorServer) -> None:
    async with caller.session.post(
        sim.graphql_url(), data=b"not json", headers={"X-Shopify-Access-Token": sim.token}
    ) as response:
        assert response.status == 400
        assert await response.json() == {"errors": {"query": "Required parameter missing or invalid"}}


async def test_shop_info_reports_the_shop_and_the_configured_scopes(
    caller: Caller, sim: SimulatorServer
) -> None:
    sim.state.scopes = ["read_orders", "read_customers"]
    data = await caller.data(queries.SHOP_INFO)
    assert data["shop"] == {
        "id": "gid://shopify/Shop/69004571954",
        "name": "Sim Snowboards",
        "myshopifyDomain": "sim-snowboards.myshopify.com",
        "currencyCode": "CAD",
        "ianaTimezone": "America/Toronto",
    }
    assert data["currentAppInstallation"] == {
        "accessScopes": [{"handle": "read_orders"}, {"handle": "read_customers"}]
    }


async def test_the_poll_query_returns_orders_by_updated_at_with_their_line_items(
    caller: Caller, sim: SimulatorServer
) -> None:
    data = await caller.data(queries.POLL_ORDERS, query="updated_at:>='2026-06-25T00:00:00Z'")
    nodes = data["orders"]["nodes"]
    expected = sorted(
        (o for o in sim.state.orders() if o["updatedAt"] >= "2026-06-25T00:00:00Z"),
        key=lambda o: (o["updatedAt"], int(o["legacyResourceId"])),
    )[:10]
    assert [n["id"] for n in nodes] == [o["id"] for o in expected]
    assert nodes, "the seeded shop has orders in the last week"
    for node in nodes:
        assert node["lineItems"]["nodes"] and set(node["lineItems"]["pageInfo"]) == {
            "hasNextPage",
            "endCursor",
        }
        assert node["legacyResourceId"] == node["id"].rsplit("/", 1)[1]


async def test_read_order_and_the_line_items_follow_up_page(caller: Caller, sim: SimulatorServer) -> None:
    order = sim.state.create_order(
        lineItems=[{"title": f"Part {i}", "price": "1.5", "quantity": 1} for i in range(12)]
    )
    first = (await caller.data(queries.READ_ORDER, id=order["id"]))["order"]
    assert first["id"] == order["id"] and first["name"] == order["name"]
    assert len(first["lineItems"]["nodes"]) == 10 and first["lineItems"]["pageInfo"]["hasNextPage"]
    rest = (
        await caller.data(
            queries.ORDER_LINE_ITEMS_PAGE, id=order["id"], after=first["lineItems"]["pageInfo"]["endCursor"]
        )
    )["order"]
    assert [n["title"] for n in rest["lineItems"]["nodes"]] == ["Part 10", "Part 11"]
    assert not rest["lineItems"]["pageInfo"]["hasNextPage"]
    assert (await caller.data(queries.READ_ORDER, id="gid://shopify/Order/1"))["order"] is None


async def test_an_order_answers_its_cart_attributes_as_the_recording_shows_them(
    caller: Caller, sim: SimulatorServer
) -> None:
    # 2025-01__order-create-parity.json: `customAttributes` is a list of {key, value}; none is an empty list.
    attributes = [{"key": "_ga", "value": "GA1.1.1234567890.1714500000"}, {"key": "gift", "value": None}]
    order = sim.state.create_order(lineItems=[{"title": "Board", "price": "10", "quantity": 1}],
                                   customAttributes=attributes)
    plain = sim.state.create_order(lineItems=[{"title": "Board", "price": "10", "quantity": 1}], customAttributes=[])
    read = (await caller.data(queries.READ_ORDER, id=order["id"]))["order"]
    assert read["customAttributes"] == attributes
    assert (await caller.data(queries.READ_ORDER, id=plain["id"]))["order"]["customAttributes"] == []


async def test_read_refund_returns_the_refund_with_its_connections(
    caller: Caller, sim: SimulatorServer
) -> None:
    order = sim.state.create_order(
        lineItems=[{"title": "Board", "price": "10", "quantity": 2}],
        shipping="5",
        taxRate="0",
        discountCodes=[],
        financialStatus="PAID",
        presentmentCurrency="CAD",
    )
    line = order["lineItems"][0]["id"]
    refund = sim.state.refund(
        order["id"],
        [{"lineItemId": line, "quantity": 1, "restockType": "NO_RESTOCK"}],
        shipping=True,
        note="damaged",
    )
    [node] = (await caller.data(queries.READ_REFUNDS, ids=[refund["id"]]))["nodes"]
    assert node["note"] == "damaged" and node["legacyResourceId"] == refund["legacyResourceId"]
    assert node["totalRefundedSet"]["shopMoney"] == {"amount": "15.0", "currencyCode": "CAD"}
    [item] = node["refundLineItems"]["nodes"]
    assert (item["quantity"], item["restockType"], item["lineItem"]["id"]) == (1, "NO_RESTOCK", line)
    assert item["subtotalSet"]["shopMoney"]["amount"] == "10.0"
    # the money may be split over several REFUND transactions (refund_split): together they are the 15.0
    transactions = node["transactions"]["nodes"]
    assert {(t["kind"], t["status"]) for t in transactions} == {("REFUND", "SUCCESS")}
    assert sum(Decimal(t["amountSet"]["shopMoney"]["amount"]) for t in transactions) == Decimal("15.0")
    [shipping] = node["refundShippingLines"]["nodes"]
    assert shipping["subtotalAmountSet"]["shopMoney"]["amount"] == "5.0"


async def test_orders_count_counts_matches_exactly_or_at_least_the_limit(
    caller: Caller, sim: SimulatorServer
) -> None:
    live = [o for o in sim.state.orders() if not o["test"]]
    data = await caller.data(queries.ORDERS_COUNT, query="test:false")
    assert data["ordersCount"] == {"count": len(live), "precision": "EXACT"}
    limited = await caller.data('{ ordersCount(query: "test:false", limit: 3) { count precision } }')
    assert limited["ordersCount"] == {"count": 3, "precision": "AT_LEAST"}


async def test_node_resolves_orders_and_line_items_and_rejects_malformed_ids(
    caller: Caller, sim: SimulatorServer
) -> None:
    order = sim.state.orders()[0]
    line = order["lineItems"][0]
    query = "query($id: ID!) { node(id: $id) { __typename id ... on LineItem { title } } }"
    assert (await caller.data(query, id=order["id"]))["node"] == {"__typename": "Order", "id": order["id"]}
    assert (await caller.data(query, id=line["id"]))["node"] == {
        "__typename": "LineItem",
        "id": line["id"],
        "title": line["title"],
    }
    assert (await caller.data(query, id="gid://shopify/Product/1"))["node"] is None
    bad = await caller.graphql(query, {"id": "not-a-gid"})
    assert bad.body["errors"][0]["message"] == "Invalid global id 'not-a-gid'"
    foreign = await caller.graphql('{ order(id: "gid://shopify/Product/1") { id } }')
    assert foreign.body["errors"][0]["extensions"]["code"] == "RESOURCE_NOT_FOUND"


async def test_bulk_operations_are_an_extension_point(
    caller: Caller, sim: SimulatorServer
) -> None:
    mutation = (
        'mutation { bulkOperationRunQuery(query: "{ orders { edges { node { id } } } }") '
        "{ bulkOperation { id } } }"
    )
    sim.state.mutation_handlers["bulkOperationRunQuery"] = lambda state, **args: {
        "bulkOperation": {"id": "gid://shopify/BulkOperation/1", "query": args["query"]},
        "userErrors": [],
    }
    answer = await caller.graphql(mutation)
    assert (
        answer.body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"] == "gid://shopify/BulkOperation/1"
    )
    assert answer.body["extensions"]["cost"]["requestedQueryCost"] == 10
    sim.state.bulk_operations["gid://shopify/BulkOperation/1"] = {
        "id": "gid://shopify/BulkOperation/1",
        "status": "RUNNING",
        "type": "QUERY",
    }
    read = await caller.data('{ bulkOperation(id: "gid://shopify/BulkOperation/1") { id status } }')
    assert read["bulkOperation"] == {"id": "gid://shopify/BulkOperation/1", "status": "RUNNING"}
