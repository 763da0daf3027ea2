"""Field resolvers: how each part of the subset schema is answered from the simulator's state.

Fields without a resolver here are read from the stored documents by key. Resolvers get the
per-request `RequestContext` as `info.context` (the state, the request's instant, and the
`extensions.search` entries collected while resolving).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeAlias

from graphql import GraphQLError
from graphql import GraphQLResolveInfo as _ResolveInfo

from shopify_bridge.simulator import bulk_search
from shopify_bridge.simulator.bulk_search import parse_bulk_search
from shopify_bridge.simulator.clock import epoch_ms, parse_wire_time
from shopify_bridge.simulator.literals import invalid_global_id_message, split_gid
from shopify_bridge.simulator.orders import Doc, gid_number
from shopify_bridge.simulator.paging import SortKey, Window, bad_request, by_id, check_window, connection
from shopify_bridge.simulator.search import SearchError, SearchPlan, parse_search, search_extension
from shopify_bridge.simulator.state import ShopState

Info: TypeAlias = _ResolveInfo[Any]
DEFAULT_COUNT_LIMIT = 10000
ALL_ORDERS_WINDOW = timedelta(days=60)
MAX_INPUT_ITEMS = 250  # "input arrays are capped at 250" (notes §2.1, §2.8)
DATE_SORTS = {"UPDATED_AT": "updatedAt", "PROCESSED_AT": "processedAt", "CREATED_AT": "createdAt"}


@dataclass
class RequestContext:
    state: ShopState
    now: datetime
    search: list[dict[str, Any]] = field(default_factory=list)


def _ctx(info: Info) -> RequestContext:
    context = info.context
    assert isinstance(context, RequestContext)
    return context


def _window(args: dict[str, Any]) -> Window:
    return Window(
        args.get("first"),
        args.get("last"),
        args.get("after"),
        args.get("before"),
        bool(args.get("reverse") or False),
    )


def parse_gid(value: str, expected: str | None = None) -> tuple[str, int]:
    """(`Order`, 123) from `gid://shopify/Order/123`; Shopify's errors for malformed or foreign ids.

    An inline literal never gets here malformed (`literals` refuses it before execution); a malformed
    id passed as a variable is refused here, during execution (inferred: not recorded).
    """
    parts = split_gid(value)
    if parts is None:
        raise GraphQLError(
            invalid_global_id_message(value),
            extensions={"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
        )
    kind, number = parts
    if expected is not None and kind != expected:
        raise GraphQLError(f"Invalid id: {value}", extensions={"code": "RESOURCE_NOT_FOUND"})
    return kind, number


# -- orders ---------------------------------------------------------------------------------------


def _plan(info: Info, query: str | None, parse: Callable[[str | None, datetime], SearchPlan]) -> SearchPlan:
    """The parsed `query:` argument: a syntax error is a BAD_REQUEST, warnings go to `extensions.search`."""
    ctx = _ctx(info)
    try:
        plan = parse(query, ctx.now)
    except SearchError as exc:
        raise bad_request(str(exc)) from None
    if plan.warnings:
        ctx.search.append(search_extension(list(info.path.as_list()), query or "", plan))
    return plan


def searchable(state: ShopState, now: datetime) -> Iterator[tuple[int, Doc]]:
    """(number, indexed version) of every order the search index shows this app now.

    Without `read_all_orders` an order processed more than 60 days ago is silently left out (notes §2.1,
    gotcha 10: "both bulk and paged `orders` silently return only the last 60 days"), and so is an order
    deleted since it was indexed (the search serves current documents).
    """
    horizon = None if state.options.read_all_orders else now - ALL_ORDERS_WINDOW
    for number, doc in state.store.indexed(now):
        if state.store.current(number) is None:
            continue
        if horizon is not None and parse_wire_time(doc["processedAt"]) < horizon:
            continue
        yield number, doc


def _search(info: Info, query: str | None) -> list[tuple[int, Doc]]:
    ctx = _ctx(info)
    plan = _plan(info, query, parse_search)
    return [(number, doc) for number, doc in searchable(ctx.state, ctx.now) if plan.predicate(doc)]


def _sort_value(doc: Doc, number: int, sort_key: str) -> Any:
    if sort_key in DATE_SORTS:
        return epoch_ms(doc[DATE_SORTS[sort_key]])
    if sort_key == "ORDER_NUMBER":
        return doc["number"]
    if sort_key in ("TOTAL_PRICE", "CURRENT_TOTAL_PRICE"):
        bag = doc["totalPriceSet" if sort_key == "TOTAL_PRICE" else "currentTotalPriceSet"]
        return int(Decimal(bag["shopMoney"]["amount"]) * 100)
    return number


def resolve_orders(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    """Orders as the search index sees them (lagging), each served in its current version."""
    sort_key = args.get("sortKey") or "PROCESSED_AT"
    matches = _search(info, args.get("query"))
    store = _ctx(info).state.store

    def key(item: tuple[int, Doc]) -> SortKey:
        return _sort_value(item[1], item[0], sort_key), item[0]

    return connection(matches, key, _window(args), render=lambda item: store.current(item[0]))


def resolve_orders_count(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    count = len(_search(info, args.get("query")))
    limit = args.get("limit", DEFAULT_COUNT_LIMIT)
    if limit is not None and count > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": count, "precision": "EXACT"}


def resolve_order(_: Any, info: Info, id: str) -> Doc | None:
    _, number = parse_gid(id, "Order")
    return _ctx(info).state.store.current(number)


def resolve_node(_: Any, info: Info, id: str) -> Doc | None:
    kind, number = parse_gid(id)
    state = _ctx(info).state
    store = state.store
    if kind == "Order":
        return store.current(number)
    if kind == "Refund":
        owner = store.owner_of_refund(id)
        return _find(store.current(owner), "refunds", id) if owner is not None else None
    if kind == "LineItem":
        owner = store.owner_of_line_item(id)
        return _find(store.current(owner), "lineItems", id) if owner is not None else None
    if kind == "BulkOperation":
        return state.bulk_operations.get(id)
    return None


def resolve_nodes(root: Any, info: Info, ids: list[str]) -> list[Doc | None]:
    """`nodes(ids:)`: each id read like `node(id:)`, from the database (never lagged, notes §2.3/§2.8)."""
    if len(ids) > MAX_INPUT_ITEMS:
        raise bad_request(f"The input array size of {len(ids)} is greater than the maximum allowed of 250.")
    return [resolve_node(root, info, one) for one in ids]


def _find(order: Doc | None, key: str, wanted: str) -> Doc | None:
    if order is None:
        return None
    return next((item for item in order[key] if gid_number(item["id"]) == gid_number(wanted)), None)


# -- nested lists and connections ---------------------------------------------------------------------


def _list_connection(key: str) -> Any:
    def resolve(parent: Doc, info: Info, **args: Any) -> dict[str, Any]:
        return connection(parent[key], by_id, _window(args))

    return resolve


def _first(items: list[Doc], first: int | None) -> list[Doc]:
    if first is not None and first < 0:
        raise bad_request("first must be a non-negative integer")
    return items if first is None else items[:first]


def resolve_order_refunds(order: Doc, info: Info, first: int | None = None) -> list[Doc]:
    return _first(order["refunds"], first)


def resolve_order_transactions(order: Doc, info: Info, first: int | None = None, **_: Any) -> list[Doc]:
    every = [*order["transactions"], *(t for r in order["refunds"] for t in r["transactions"])]
    return _first(sorted(every, key=lambda t: gid_number(t["id"])), first)


def _owning_order(info: Info, order_gid: str) -> Doc | None:
    return _ctx(info).state.store.current(gid_number(order_gid))


def resolve_refund_order(refund: Doc, info: Info) -> Doc | None:
    return _owning_order(info, refund["_order"])


def resolve_refund_line_item(refund_line: Doc, info: Info) -> Doc | None:
    return _find(_owning_order(info, refund_line["_order"]), "lineItems", refund_line["_lineItem"])


def resolve_transaction_order(transaction: Doc, info: Info) -> Doc | None:
    return _owning_order(info, transaction["_order"])


def resolve_parent_transaction(transaction: Doc, info: Info) -> Doc | None:
    parent = transaction.get("_parent")
    order = _owning_order(info, transaction["_order"])
    if parent is None or order is None:
        return None
    return _find(order, "transactions", parent)


# -- shop, app, bulk ---------------------------------------------------------------------------------


def resolve_shop(_: Any, info: Info) -> Doc:
    return _ctx(info).state.shop


def resolve_app_installation(_: Any, info: Info) -> Doc:
    scopes = _ctx(info).state.scopes
    return {
        "id": "gid://shopify/AppInstallation/571234567890",
        "accessScopes": [{"handle": s, "description": f"Simulated grant of {s}"} for s in scopes],
    }


def resolve_bulk_operation(_: Any, info: Info, id: str) -> Doc | None:
    parse_gid(id, "BulkOperation")
    return _ctx(info).state.bulk_operations.get(id)


def resolve_current_bulk_operation(_: Any, info: Info, type: str = "QUERY") -> Doc | None:
    operations = [op for op in _ctx(info).state.bulk_operations.values() if op.get("type") == type]
    return max(operations, key=lambda op: gid_number(op["id"]), default=None)


def resolve_bulk_operations(_: Any, info: Info, **args: Any) -> dict[str, Any]:
    """The app's operations matching `query:`, newest first unless `reverse: true` (see `bulk_search`)."""
    ctx, window = _ctx(info), _window(args)
    check_window(window.first, window.last)  # (inferred) before the query's own errors and warnings
    plan = _plan(info, args.get("query"), parse_bulk_search)
    operations = bulk_search.matching(ctx.state.bulk_operations.values(), plan)
    return connection(operations, bulk_search.sort_key(args.get("sortKey")), bulk_search.newest_first(window))


def _mutation(name: str) -> Any:
    def resolve(_: Any, info: Info, **args: Any) -> Any:
        handler = _ctx(info).state.mutation_handlers.get(name)
        if handler is None:
            raise GraphQLError(
                f"{name} is not available in this simulator", extensions={"code": "NOT_SUPPORTED"}
            )
        return handler(_ctx(info).state, **args)

    return resolve


FIELD_RESOLVERS: dict[tuple[str, str], Any] = {
    ("QueryRoot", "orders"): resolve_orders,
    ("QueryRoot", "ordersCount"): resolve_orders_count,
    ("QueryRoot", "order"): resolve_order,
    ("QueryRoot", "node"): resolve_node,
    ("QueryRoot", "nodes"): resolve_nodes,
    ("QueryRoot", "shop"): resolve_shop,
    ("QueryRoot", "currentAppInstallation"): resolve_app_installation,
    ("QueryRoot", "bulkOperation"): resolve_bulk_operation,
    ("QueryRoot", "currentBulkOperation"): resolve_current_bulk_operation,
    ("QueryRoot", "bulkOperations"): resolve_bulk_operations,
    ("Mutation", "bulkOperationRunQuery"): _mutation("bulkOperationRunQuery"),
    ("Mutation", "bulkOperationCancel"): _mutation("bulkOperationCancel"),
    ("Order", "lineItems"): _list_connection("lineItems"),
    ("Order", "refunds"): resolve_order_refunds,
    ("Order", "transactions"): resolve_order_transactions,
    ("Refund", "order"): resolve_refund_order,
    ("Refund", "refundLineItems"): _list_connection("refundLineItems"),
    ("Refund", "refundShippingLines"): _list_connection("refundShippingLines"),
    ("Refund", "transactions"): _list_connection("transactions"),
    ("RefundLineItem", "lineItem"): resolve_refund_line_item,
    ("OrderTransaction", "order"): resolve_transaction_order,
    ("OrderTransaction", "parentTransaction"): resolve_parent_transaction,
}
