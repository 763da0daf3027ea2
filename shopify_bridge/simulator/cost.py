"""Query cost: the rules that reproduce every `requestedQueryCost` recorded from Shopify.

Requested cost (notes §3.1, PRODUCT.md "API cost"; `tests/simulator/test_cost_recorded.py` checks every
recorded request against it), computed from the document before it runs:
- scalars and enums cost 0; an object costs 1 plus its selection; interfaces/unions the same, with
  the most expensive of the selected type conditions;
- `MoneyBag`, `MoneyV2` and `PageInfo` are free value objects;
- a `…Count` field (`ordersCount`, `productsCount`) costs a flat 10;
- a plain list (`Order.refunds`, `Order.transactions`) counts its element once (1 + its selection),
  not multiplied by a length it cannot know;
- a connection costs m × (one node's selection + 1) + 2, where m grows with the page size
  logarithmically: `first`/`last` ≤ 2 → 1, ≤ 4 → 2, ≤ 7 → 3, ≤ 12 → 4, ≤ 20 → 5, ≤ 39 → 6, ≤ 59 → 7,
  ≤ 79 → 8, ≤ 99 → 9, ≤ 149 → 10, ≤ 249 → 11, 250 → 12 (an extrapolation); neither → 0;
  `pageInfo`, `edges` and `cursor` are free. (Shopify "applies logarithmic scaling into connection
  fields"; the buckets are those of hrdwdmrbl/graphql-ruby's shopify_complexity.rb, notes §3.1.)
- a mutation field costs 10 (`refundCreate` 20, as recorded twice), plus what its payload selects below
  the payload's own fields: `orderEditBegin { calculatedOrder { originalOrder { id } } }` is 11,
  `orderCreate { order { lineItems(first: 5) { nodes { … } } } }` is 15, `bulkOperationRunQuery` 10.

Actual cost follows the same rules over what was returned: a connection counts the nodes it returned
(2 + each node's 1 + selection), but an empty page still one node (captured `bulkOperations(first: 1)`
with `nodes: []`: actual 3), a null object still costs 1 (the captured ACCESS_DENIED answer: requested
10, actual 1), and it is never more than the requested cost.
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
COUNT_FIELD_COST = 10
MUTATION_COST = 10
MUTATION_COSTS = {"refundCreate": 20}  # 2025-01 refund-create-* and money-bag-presentment captures
SINGLE_QUERY_MAX = 1000
# (largest page size, multiplier): the logarithmic buckets of notes §3.1.
PAGE_BUCKETS = (
    (0, 0), (2, 1), (4, 2), (7, 3), (12, 4), (20, 5), (39, 6), (59, 7), (79, 8), (99, 9), (149, 10), (249, 11)
)
LARGEST_BUCKET = 12


def page_multiplier(size: int) -> int:
    """m for a page of `size` nodes (`first`/`last`); 0 when no page size was asked."""
    for limit, multiplier in PAGE_BUCKETS:
        if size <= limit:
            return multiplier
    return LARGEST_BUCKET

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
        return sum(_requested_mutation(walk, field, owner) for field, owner in common)
    return _requested_selection(walk, walk.operation.selection_set, root)


def _requested_mutation(walk: _Walk, field: FieldNode, owner: Composite) -> int:
    """A mutation's base cost plus its payload's selection, the payload's own fields free."""
    base = MUTATION_COSTS.get(field.name.value, MUTATION_COST)
    info = _field_info(field, owner)
    if info is None or is_leaf_type(info[0]):
        return base
    payload = info[0]
    common, _ = walk.grouped(field.selection_set, payload)
    below = 0
    for inner, inner_owner in common:
        inner_info = _field_info(inner, inner_owner)
        if inner_info is None or is_leaf_type(inner_info[0]):
            continue
        named = inner_info[0]
        if _is_connection(named) or named.name.endswith("Count"):
            below += _requested_field(walk, inner, inner_owner)
        else:
            below += _requested_selection(walk, inner.selection_set, named)
    return base + below


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
    named, _ = info
    if is_leaf_type(named):
        return 0
    if named.name in FREE_TYPES:
        return _requested_selection(walk, field.selection_set, named)
    if _is_count(field, named):
        return COUNT_FIELD_COST
    if _is_connection(named):
        assert isinstance(named, GraphQLObjectType)
        return CONNECTION_BASE + page_multiplier(walk.size(field)) * _requested_node(walk, field, named)
    # An object, or a list of objects counted once.
    return 1 + _requested_selection(walk, field.selection_set, named)


def _is_count(field: FieldNode, named: GraphQLNamedType) -> bool:
    return field.name.value.endswith("Count") and named.name == "Count"


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
    if _is_count(field, named):
        return COUNT_FIELD_COST
    if _is_connection(named):
        assert isinstance(named, GraphQLObjectType)
        if not value:
            return CONNECTION_BASE
        # Priced like the request, for the page that came back: its bucket by the nodes returned, times
        # the dearest returned node. An empty page is charged one node (1): the captured
        # `bulkOperations(first: 1)` answers with `nodes: []` cost 3, like a page of one.
        # (inferred: what an empty page of a deeper node costs)
        count, dearest = _actual_nodes(walk, field, named, value)
        if not walk.size(field):
            return CONNECTION_BASE
        return CONNECTION_BASE + page_multiplier(max(count, 1)) * max(dearest, 1)
    if is_list:
        elements = value if isinstance(value, list) else []
        return max((1 + _actual_selection(walk, field.selection_set, named, e) for e in elements), default=0)
    if value is None:
        return 1
    return 1 + _actual_selection(walk, field.selection_set, named, value)


def _actual_nodes(
    walk: _Walk, field: FieldNode, connection: GraphQLObjectType, value: Mapping[str, Any]
) -> tuple[int, int]:
    """(nodes returned, the dearest returned node's cost including its own 1)."""
    count, dearest = 0, 0
    for inner, _ in walk.grouped(field.selection_set, connection)[0]:
        key = inner.alias.value if inner.alias else inner.name.value
        items = value.get(key) or []
        if inner.name.value == "nodes":
            node_type = get_named_type(connection.fields["nodes"].type)
            costs = [1 + _actual_selection(walk, inner.selection_set, node_type, node) for node in items]
        elif inner.name.value == "edges":
            edge = get_named_type(connection.fields["edges"].type)
            # Each edge's `node` is an object field: it already counts the node's own 1.
            costs = [_actual_selection(walk, inner.selection_set, edge, edge_value) for edge_value in items]
        else:
            continue
        count, dearest = max(count, len(costs)), max([dearest, *costs])
    return count, dearest
