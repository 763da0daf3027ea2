"""Query cost: Shopify's published rules, calibrated against the recorded responses.

Rules (requested cost, computed from the document before it runs):
- scalars and enums cost 0; an object costs 1 plus its selection; interfaces/unions the same,
  with the most expensive of the selected type conditions;
- a connection costs 2 + `first` (or `last`; 0 when neither) × the cost of one node (1 + the
  node's selection); `pageInfo`, `edges` and `cursor` are free;
- a plain list of objects (`Order.refunds`, `Order.transactions`, `userErrors`) is counted once:
  its element's selection, not multiplied by a length it cannot know, and not the element itself;
- `MoneyBag`, `MoneyV2` and `PageInfo` are free value objects;
- a mutation field costs a flat 10, whatever its payload selects.

Why these and not "every object 1": the live captures pin them down. With money free and lists
counted by their selection, the recorded costs come out exactly — `order(id:)` read after a refund
(2025-01 refund-create-full-parity, `downstreamRead`): 8; `orders(first: 1)` with `pageInfo`
(order-catalog-count-read, `nextPage`): 3; `shopifyPaymentsAccount` with three `first: 1`
connections (access-denied capture): 10; `bulkOperation(id:)`: 1; `bulkOperations(first: 1)`: 3,
without `first`: 2; every `bulkOperationRunQuery`/`bulkOperationCancel`: 10. Charging MoneyBag 1
(and MoneyV2 1) would make that order read 11 (14) instead of 8. Shopify prices some fields
specially (`ordersCount`, `refundCreate`…) and that is not modelled: the simulator stays close
to Shopify for the queries the bridge sends, which is what its budgets are checked against.

Actual cost follows the same rules over what was returned: a connection counts the nodes it
returned, but an empty page still one (captured `bulkOperations(first: 1)` with `nodes: []`: actual
3), a null object still costs 1 (the captured ACCESS_DENIED answer: requested 10, actual 1).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    value_from_ast_untyped,
)

FREE_TYPES = frozenset({"MoneyBag", "MoneyV2", "PageInfo"})
CONNECTION_BASE = 2
MUTATION_COST = 10
SINGLE_QUERY_MAX = 1000

Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


class _Walk:
    """One operation's traversal context: fragments and variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
    ) -> None:
        self.schema = schema
        self.variables = dict(variables or {})
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [
            o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)
        ]
        if not chosen:
            raise ValueError(f"no operation named {operation_name!r} in the document")
        self.operation = chosen[0]

    def root(self) -> GraphQLObjectType | None:
        if self.operation.operation == OperationType.MUTATION:
            return self.schema.mutation_type
        return self.schema.query_type

    def grouped(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType
    ) -> tuple[list[tuple[FieldNode, Composite]], dict[str, list[tuple[FieldNode, Composite]]]]:
        """Fields that always apply, and fields per concrete type condition (for abstract parents)."""
        common: list[tuple[FieldNode, Composite]] = []
        per_type: dict[str, list[tuple[FieldNode, Composite]]] = {}
        for field, owner, condition in self._fields(selection_set, parent, None):
            if condition is None:
                common.append((field, owner))
            else:
                per_type.setdefault(condition, []).append((field, owner))
        return common, per_type

    def _fields(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, condition: str | None
    ) -> Iterator[tuple[FieldNode, Composite, str | None]]:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                    yield selection, parent, condition
                continue
            if isinstance(selection, InlineFragmentNode):
                type_name = selection.type_condition.name.value if selection.type_condition else None
                inner_set = selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:
                    continue
                type_name, inner_set = fragment.type_condition.name.value, fragment.selection_set
            else:
                continue
            target = self.schema.get_type(type_name) if type_name else parent
            if target is None:
                continue
            narrowed = condition
            if (
                type_name
                and type_name != parent.name
                and isinstance(parent, GraphQLInterfaceType | GraphQLUnionType)
            ):
                narrowed = type_name
            yield from self._fields(inner_set, target, narrowed)

    def size(self, field: FieldNode) -> int:
        for argument in field.arguments or ():
            if argument.name.value in ("first", "last"):
                value = value_from_ast_untyped(argument.value, self.variables)
                if isinstance(value, int):
                    return max(value, 0)
        return 0


def _is_connection(named: GraphQLNamedType) -> bool:
    return (
        isinstance(named, GraphQLObjectType)
        and named.name.endswith("Connection")
        and ("nodes" in named.fields or "edges" in named.fields)
    )


def _field_info(field: FieldNode, owner: Composite) -> tuple[GraphQLNamedType, bool] | None:
    if field.name.value.startswith("__") or isinstance(owner, GraphQLUnionType):
        return None
    definition = owner.fields.get(field.name.value)
    if definition is None:
        return None
    return get_named_type(definition.type), is_list_type(get_nullable_type(definition.type))


def requested_cost(
    schema: GraphQLSchema,
    document_ast: DocumentNode,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """Shopify's `requestedQueryCost` for one operation of a parsed document."""
    walk = _Walk(schema, document_ast, variables, operation_name)
    root = walk.root()
    if root is None:
        return 0
    if walk.operation.operation == OperationType.MUTATION:
        common, _ = walk.grouped(walk.operation.selection_set, root)
        return MUTATION_COST * len(common)
    return _requested_selection(walk, walk.operation.selection_set, root)


def _requested_selection(
    walk: _Walk, selection_set: SelectionSetNode | None, parent: GraphQLNamedType
) -> int:
    common, per_type = walk.grouped(selection_set, parent)
    base = sum(_requested_field(walk, field, owner) for field, owner in common)
    branches = [sum(_requested_field(walk, f, o) for f, o in fields) for fields in per_type.values()]
    return base + max(branches, default=0)


def _requested_field(walk: _Walk, field: FieldNode, owner: Composite) -> int:
    info = _field_info(field, owner)
    if info is None:
        return 0
    named, is_list = info
    if is_leaf_type(named):
        return 0
    if named.name in FREE_TYPES:
        return _requested_selection(walk, field.selection_set, named)
    if _is_connection(named):
        assert isinstance(named, GraphQLObjectType)
        return CONNECTION_BASE + walk.size(field) * _requested_node(walk, field, named)
    children = _requested_selection(walk, field.selection_set, named)
    return children if is_list else 1 + children


def _requested_node(walk: _Walk, field: FieldNode, connection: GraphQLObjectType) -> int:
    """The cost of one node of a connection, selected through `nodes` or `edges { node }`."""
    costs = [0]
    for inner, inner_owner in walk.grouped(field.selection_set, connection)[0]:
        name = inner.name.value
        if name == "nodes":
            node_type = get_named_type(connection.fields["nodes"].type)
            costs.append(1 + _requested_selection(walk, inner.selection_set, node_type))
        elif name == "edges":
            edge = get_named_type(connection.fields["edges"].type)
            for edge_field, _ in walk.grouped(inner.selection_set, edge)[0]:
                if edge_field.name.value == "node":
                    assert isinstance(edge, GraphQLObjectType)
                    costs.append(
                        1
                        + _requested_selection(
                            walk, edge_field.selection_set, get_named_type(edge.fields["node"].type)
                        )
                    )
        elif inner_owner is connection and name != "pageInfo":
            costs[0] += _requested_field(walk, inner, inner_owner)
    return max(costs[1:], default=0) + costs[0]


def actual_cost(
    schema: GraphQLSchema,
    document_ast: DocumentNode,
    variables: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
    operation_name: str | None = None,
) -> int:
    """Shopify's `actualQueryCost`: the same rules applied to what was returned."""
    walk = _Walk(schema, document_ast, variables, operation_name)
    root = walk.root()
    if root is None:
        return 0
    if walk.operation.operation == OperationType.MUTATION:
        return requested_cost(schema, document_ast, variables, operation_name)
    return _actual_selection(walk, walk.operation.selection_set, root, data)


def _actual_selection(
    walk: _Walk,
    selection_set: SelectionSetNode | None,
    parent: GraphQLNamedType,
    value: Mapping[str, Any] | None,
) -> int:
    common, per_type = walk.grouped(selection_set, parent)
    base = sum(_actual_field(walk, field, owner, value) for field, owner in common)
    branches = [sum(_actual_field(walk, f, o, value) for f, o in fields) for fields in per_type.values()]
    return base + max(branches, default=0)


def _actual_field(
    walk: _Walk, field: FieldNode, owner: Composite, parent_value: Mapping[str, Any] | None
) -> int:
    info = _field_info(field, owner)
    if info is None:
        return 0
    named, is_list = info
    if is_leaf_type(named):
        return 0
    key = field.alias.value if field.alias else field.name.value
    value = parent_value.get(key) if isinstance(parent_value, Mapping) else None
    if named.name in FREE_TYPES:
        return _actual_selection(walk, field.selection_set, named, value) if value else 0
    if _is_connection(named):
        assert isinstance(named, GraphQLObjectType)
        if not value:
            return CONNECTION_BASE
        # An empty page is charged one node (1): the captured `bulkOperations(first: 1)` answers with
        # `nodes: []` cost 3, like a page of one. (inferred: what an empty page of a deeper node costs)
        return CONNECTION_BASE + max(_actual_nodes(walk, field, named, value), 1 if walk.size(field) else 0)
    if is_list:
        elements = value if isinstance(value, list) else []
        return max((_actual_selection(walk, field.selection_set, named, e) for e in elements), default=0)
    if value is None:
        return 1
    return 1 + _actual_selection(walk, field.selection_set, named, value)


def _actual_nodes(
    walk: _Walk, field: FieldNode, connection: GraphQLObjectType, value: Mapping[str, Any]
) -> int:
    totals = [0]
    for inner, _ in walk.grouped(field.selection_set, connection)[0]:
        key = inner.alias.value if inner.alias else inner.name.value
        if inner.name.value == "nodes":
            node_type = get_named_type(connection.fields["nodes"].type)
            totals.append(
                sum(
                    1 + _actual_selection(walk, inner.selection_set, node_type, node)
                    for node in value.get(key) or []
                )
            )
        elif inner.name.value == "edges":
            edge = get_named_type(connection.fields["edges"].type)
            # Each edge's `node` is an object field: it already counts the node's own 1.
            totals.append(
                sum(
                    _actual_selection(walk, inner.selection_set, edge, edge_value)
                    for edge_value in value.get(key) or []
                )
            )
    return max(totals)
