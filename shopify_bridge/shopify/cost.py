"""What a query will cost, known before it is sent: Shopify's documented cost model, read off the document.

Shopify prices a query before running it and the bucket must hold that `requestedQueryCost` (API notes
§3.1, PRODUCT.md "API cost"). The rules that reproduce every recorded `requestedQueryCost`:
- scalars and enums 0; an object (or a plain list, counted once) 1 plus its selection;
- `MoneyBag`, `MoneyV2` and `PageInfo` are free; a `…Count` field costs 10;
- a connection costs m × (one node's selection + 1) + 2, m growing with the page size logarithmically
  (`PAGE_MULTIPLIERS`), 0 when neither `first` nor `last` is given;
- of an abstract type's fragments, the dearest counts;
- a mutation field costs 10 (`refundCreate` 20) plus what its payload selects below its own fields.

The client has no schema, so a field's kind is read from the document itself: no selection is a leaf; a
`first`/`last` argument or a `nodes`/`edges` selection is a connection; a selection of only
`shopMoney`/`presentmentMoney`, or only `amount`/`currencyCode`, is a MoneyBag/MoneyV2; `pageInfo` is a
PageInfo. tests/shopify/test_cost_model.py holds this reading to every recorded `requestedQueryCost`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
)

PAGE_ARGUMENTS = ("first", "last")
# (largest page size, multiplier) — notes §3.1; anything larger than the last row costs LARGEST_MULTIPLIER.
PAGE_MULTIPLIERS = ((0, 0), (2, 1), (4, 2), (7, 3), (12, 4), (20, 5), (39, 6), (59, 7), (79, 8), (99, 9), (149, 10),
                    (249, 11))
LARGEST_MULTIPLIER = 12
CONNECTION_COST = 2
COUNT_COST = 10
MUTATION_COST = 10
MUTATION_COSTS = {"refundCreate": 20}
MONEY_BAG_FIELDS = frozenset({"shopMoney", "presentmentMoney"})
MONEY_FIELDS = frozenset({"amount", "currencyCode"})
_OPERATION_NAME = re.compile(r"\b(?:query|mutation)\s+(\w+)")


def _is_money(names: set[str]) -> bool:
    """A selection of only MoneyBag or only MoneyV2 fields: Shopify's free value objects."""
    own = names - {"__typename"}
    return bool(own) and (own <= MONEY_BAG_FIELDS or own <= MONEY_FIELDS)


def page_multiplier(size: int) -> int:
    for largest, multiplier in PAGE_MULTIPLIERS:
        if size <= largest:
            return multiplier
    return LARGEST_MULTIPLIER


@dataclass(frozen=True)
class Operation:
    """One document as the client sees it: its name, its page-size variables and how to price it."""

    name: str
    document: DocumentNode | None
    page_defaults: Mapping[str, int | None] = field(default_factory=dict)
    """Variables that set a `first`/`last`, in document order, with their declared default."""
    _prices: dict[tuple[Any, ...], int] = field(default_factory=dict, compare=False, repr=False)

    def requested_cost(self, variables: Mapping[str, Any] | None = None) -> int | None:
        """Shopify's `requestedQueryCost` for these variables; None for a document that does not parse.
        Only the page sizes change the price, so it is worked out once per set of them."""
        if self.document is None:
            return None
        given = variables or {}
        sizes = {name: given.get(name, default) for name, default in self.page_defaults.items()}
        key = tuple(sizes.values())
        if key not in self._prices:
            self._prices[key] = _Pricing(self.document, sizes).operation()
        return self._prices[key]


@lru_cache(maxsize=256)
def operation(document: str) -> Operation:
    """The parsed operation of a document (cached: the bridge sends the same few texts again and again)."""
    try:
        parsed = parse(document)
    except GraphQLError:  # sent all the same: Shopify's answer names the problem
        named = _OPERATION_NAME.search(document)
        return Operation(named.group(1) if named else "anonymous", None)
    op = next((d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)), None)
    if op is None:
        return Operation("anonymous", None)
    defaults: dict[str, int | None] = {}
    declared = {d.variable.name.value: d.default_value for d in op.variable_definitions or ()}
    for name in _page_variables(parsed):
        value = declared.get(name)
        defaults[name] = int(value.value) if isinstance(value, IntValueNode) else None
    return Operation(op.name.value if op.name else "anonymous", parsed, MappingProxyType(defaults))


def _page_variables(document: DocumentNode) -> list[str]:
    names: list[str] = []
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop(0)
        if isinstance(node, FieldNode):
            for argument in node.arguments or ():
                value = argument.value
                name = value.name.value if isinstance(value, VariableNode) else None
                if name and argument.name.value in PAGE_ARGUMENTS and name not in names:
                    names.append(name)
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack[:0] = list(selection_set.selections)
    return names


class _Pricing:
    """One pricing walk over a parsed document with its variables."""

    def __init__(self, document: DocumentNode, variables: Mapping[str, Any]) -> None:
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.op = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))

    def operation(self) -> int:
        if self.op.operation == OperationType.MUTATION:
            return sum(self.mutation(f) for f in self.fields(self.op.selection_set)[0])
        return self.selection(self.op.selection_set)

    def fields(self, selection_set: SelectionSetNode | None) -> tuple[list[FieldNode], dict[str, list[FieldNode]]]:
        """The fields that always apply, and those under each type condition (dearest branch counts)."""
        common: list[FieldNode] = []
        branches: dict[str, list[FieldNode]] = {}
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                common.append(selection)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in self.fragments:
                fragment = self.fragments[selection.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                continue
            found, nested = self.fields(inner)
            if condition is None:  # a fragment without a type condition only groups fields
                common += found
                for name, fields in nested.items():
                    branches.setdefault(name, []).extend(fields)
            else:
                branches.setdefault(condition.name.value, []).extend(found + [f for v in nested.values() for f in v])
        return common, branches

    def selection(self, selection_set: SelectionSetNode | None) -> int:
        common, branches = self.fields(selection_set)
        dearest = max((sum(self.field(f) for f in fields) for fields in branches.values()), default=0)
        return sum(self.field(f) for f in common) + dearest

    def field(self, node: FieldNode) -> int:
        if node.selection_set is None or node.name.value.startswith("__"):
            return 0
        common, branches = self.fields(node.selection_set)
        names = {f.name.value for f in common}
        if node.name.value == "pageInfo" or (not branches and _is_money(names)):
            return self.selection(node.selection_set)
        if self.is_connection(node, names):
            return CONNECTION_COST + page_multiplier(self.page_size(node)) * self.node(node)
        if node.name.value.endswith("Count"):
            return COUNT_COST
        return 1 + self.selection(node.selection_set)

    def is_connection(self, node: FieldNode, names: set[str]) -> bool:
        return bool(names & {"nodes", "edges"}) or any(a.name.value in PAGE_ARGUMENTS for a in node.arguments or ())

    def page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(int(value.value), 0)
            if isinstance(value, VariableNode) and isinstance(self.variables.get(value.name.value), int):
                return max(int(self.variables[value.name.value]), 0)
        return 0

    def node(self, connection: FieldNode) -> int:
        """One node of a connection (its own 1 included), plus any other priced field of the connection."""
        nodes: list[int] = []
        others = 0
        for inner in self.fields(connection.selection_set)[0]:
            name = inner.name.value
            if name == "nodes":
                nodes.append(1 + self.selection(inner.selection_set))
            elif name == "edges":
                nodes += [1 + self.selection(e.selection_set) for e in self.fields(inner.selection_set)[0]
                          if e.name.value == "node"]
            elif name != "pageInfo":
                others += self.field(inner)
        return max(nodes, default=0) + others

    def mutation(self, node: FieldNode) -> int:
        """A mutation's own cost plus its payload's selection, the payload's own fields free."""
        cost = MUTATION_COSTS.get(node.name.value, MUTATION_COST)
        for inner in self.fields(node.selection_set)[0]:
            if inner.selection_set is None:
                continue
            names = {f.name.value for f in self.fields(inner.selection_set)[0]}
            if self.is_connection(inner, names) or inner.name.value.endswith("Count"):
                cost += self.field(inner)
            else:
                cost += self.selection(inner.selection_set)
        return cost
