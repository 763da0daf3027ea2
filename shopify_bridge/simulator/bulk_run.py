"""Running a validated bulk query over the shop, into the JSONL lines Shopify writes.

Each connection node becomes one line: the node's selection is executed with graphql-core on a schema
rooted at the node's type (so every field resolver of the simulator applies, and aliases, fragments and
`__typename` behave as on the normal endpoint), minus its nested connections, whose nodes become lines of
their own carrying `"__parentId"`. Lists and plain objects (refunds, money bags, customer) stay inline.

The root `orders` connection reads the search index exactly as `orders(query:, sortKey:, reverse:)` does,
but without pages: a bulk query has no `first`; a root `bulkOperations` is filtered and ordered as
`bulkOperations(query:, sortKey:, reverse:)` is (`bulk_search`). Nested connections read the parent's stored list.

Line order: with `groupObjects: true` each parent is followed by its children; without it (the 2026-01+
default) all parents come first, then the children in a seeded shuffle — never relying on adjacency.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    execute,
    get_named_type,
)
from graphql.execution.values import get_argument_values

from shopify_bridge.simulator import bulk_search
from shopify_bridge.simulator.bulk_rules import edge_nodes, fragments_of, is_connection, selected_fields
from shopify_bridge.simulator.bulk_search import parse_bulk_search
from shopify_bridge.simulator.orders import Doc
from shopify_bridge.simulator.paging import by_id
from shopify_bridge.simulator.resolvers import RequestContext, _sort_value, searchable
from shopify_bridge.simulator.schema import simulator_schema
from shopify_bridge.simulator.search import SearchError, parse_search
from shopify_bridge.simulator.state import ShopState


@dataclass
class BulkOutput:
    """The result file of one operation, as lines (without their newline), in file order."""

    lines: list[bytes] = field(default_factory=list)
    is_root: list[bool] = field(default_factory=list)

    @property
    def objects(self) -> int:
        return len(self.lines)

    def roots(self, count: int | None = None) -> int:
        """How many of the first `count` lines (all by default) are root objects."""
        return sum(self.is_root[:count])

    def content(self, count: int | None = None) -> bytes:
        """The first `count` lines (all by default) as the file's bytes, each ending with a newline."""
        return b"".join(line + b"\n" for line in self.lines[:count])


def jsonl_line(data: Mapping[str, Any]) -> bytes:
    """One record the way Shopify writes it: compact, UTF-8, forward slashes escaped as `\\/`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("/", "\\/").encode()


@cache
def _rooted_schema(type_name: str) -> GraphQLSchema:
    """A schema whose query root is one node type of the simulator's schema (same field resolvers)."""
    node_type = simulator_schema().get_type(type_name)
    assert isinstance(node_type, GraphQLObjectType)
    return GraphQLSchema(query=node_type)


@dataclass
class _Line:
    data: dict[str, Any]
    parent: str | None


class BulkRun:
    def __init__(self, state: ShopState, document: DocumentNode, now: datetime) -> None:
        self.state = state
        self.schema = simulator_schema()
        self.fragments = fragments_of(document)
        self.context = RequestContext(state=state, now=now)
        self.operation = next(
            d
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode) and d.operation is OperationType.QUERY
        )

    def output(self, *, grouped: bool, seed: int) -> BulkOutput:
        lines: list[_Line] = []
        root = self.schema.query_type
        assert root is not None
        for node, owner in selected_fields(self.schema, self.operation.selection_set, root, self.fragments):
            definition = owner.fields.get(node.name.value)
            named = get_named_type(definition.type) if definition else None
            if definition is None or named is None or not is_connection(named):
                continue  # a bulk result holds connection nodes only
            assert isinstance(named, GraphQLObjectType)
            arguments = get_argument_values(definition, node)
            for edge_node, node_type in edge_nodes(self.schema, node, named, self.fragments):
                for item in self._root_items(node.name.value, arguments):
                    self._emit(item, node_type, edge_node.selection_set, None, lines)
        if not grouped:
            parents = [line for line in lines if line.parent is None]
            children = [line for line in lines if line.parent is not None]
            random.Random(seed).shuffle(children)
            lines = parents + children
        return BulkOutput([jsonl_line(line.data) for line in lines], [line.parent is None for line in lines])

    # -- roots ----------------------------------------------------------------------------------
    def _root_items(self, name: str, arguments: dict[str, Any]) -> list[Doc]:
        if name == "orders":
            return self._orders(arguments)
        if name == "bulkOperations":
            return self._bulk_operations(arguments)
        return []

    def _bulk_operations(self, arguments: dict[str, Any]) -> list[Doc]:
        """As `bulkOperations(query:, sortKey:, reverse:)` lists them, without pages."""
        try:
            plan = parse_bulk_search(arguments.get("query"), self.context.now)
        except SearchError:
            return []  # (inferred) as for orders: a query Shopify would refuse yields no objects
        return bulk_search.ordered(bulk_search.matching(self.state.bulk_operations.values(), plan), arguments)

    def _orders(self, arguments: dict[str, Any]) -> list[Doc]:
        state, now = self.state, self.context.now
        try:
            plan = parse_search(arguments.get("query"), now)
        except SearchError:
            return []  # (inferred) a query Shopify would refuse yields no objects
        sort_key = arguments.get("sortKey") or "PROCESSED_AT"
        matches = [(number, doc) for number, doc in searchable(state, now) if plan.predicate(doc)]
        matches.sort(key=lambda item: (_sort_value(item[1], item[0], sort_key), item[0]))
        if arguments.get("reverse"):
            matches.reverse()
        current = [state.store.current(number) for number, _ in matches]
        return [doc for doc in current if doc is not None]

    # -- nodes ----------------------------------------------------------------------------------
    def _emit(
        self,
        source: Doc,
        node_type: GraphQLObjectType,
        selection_set: SelectionSetNode | None,
        parent: str | None,
        lines: list[_Line],
    ) -> None:
        own, nested = self._split(self._inline(selection_set), node_type, ())
        data = self._execute(node_type, own, source)
        if parent is not None:
            data["__parentId"] = parent
        lines.append(_Line(data, parent))
        for path, connection, named in nested:
            children = _walk(source, (*path, connection.name.value))
            for edge_node, child_type in edge_nodes(self.schema, connection, named, self.fragments):
                for child in sorted(children, key=lambda item: by_id(item)[1]):
                    self._emit(child, child_type, edge_node.selection_set, str(source["id"]), lines)

    def _execute(
        self, node_type: GraphQLObjectType, selection_set: SelectionSetNode, source: Doc
    ) -> dict[str, Any]:
        operation = OperationDefinitionNode(operation=OperationType.QUERY, selection_set=selection_set)
        result = execute(
            _rooted_schema(node_type.name),
            DocumentNode(definitions=(operation,)),
            root_value=source,
            context_value=self.context,
        )
        assert isinstance(result, ExecutionResult)
        return dict(result.data or {})

    def _inline(self, selection_set: SelectionSetNode | None) -> SelectionSetNode:
        """The selection with every fragment spread replaced by an equivalent inline fragment."""
        selections: list[SelectionNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FragmentSpreadNode):
                fragment: FragmentDefinitionNode | None = self.fragments.get(selection.name.value)
                if fragment is not None:
                    selections.append(
                        InlineFragmentNode(
                            type_condition=fragment.type_condition,
                            selection_set=self._inline(fragment.selection_set),
                        )
                    )
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                selections.append(replace(selection, selection_set=self._inline(selection.selection_set)))
            else:
                selections.append(selection)
        return SelectionSetNode(selections=tuple(selections))

    def _split(
        self, selection_set: SelectionSetNode, owner: GraphQLObjectType, path: tuple[str, ...]
    ) -> tuple[SelectionSetNode, list[tuple[tuple[str, ...], FieldNode, GraphQLObjectType]]]:
        """(the selection without connection fields, the connections taken out with their path)."""
        kept: list[SelectionNode] = []
        nested: list[tuple[tuple[str, ...], FieldNode, GraphQLObjectType]] = []
        for selection in selection_set.selections:
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                narrowed = self.schema.get_type(condition.name.value) if condition else owner
                inner, found = self._split(
                    selection.selection_set,
                    narrowed if isinstance(narrowed, GraphQLObjectType) else owner,
                    path,
                )
                kept.append(replace(selection, selection_set=inner))
                nested += found
                continue
            assert isinstance(selection, FieldNode)
            definition = owner.fields.get(selection.name.value)
            named = get_named_type(definition.type) if definition else None
            if named is not None and is_connection(named):
                assert isinstance(named, GraphQLObjectType)
                nested.append((path, selection, named))
            elif isinstance(named, GraphQLObjectType) and selection.selection_set:
                inner, found = self._split(selection.selection_set, named, (*path, selection.name.value))
                kept.append(replace(selection, selection_set=inner))
                nested += found
            else:
                kept.append(selection)
        return SelectionSetNode(selections=tuple(kept)), nested


def _walk(source: Doc, keys: tuple[str, ...]) -> list[Doc]:
    """The stored list at `keys` below a node document (a nested connection's items); [] when absent."""
    value: Any = source
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def run_bulk_query(
    state: ShopState, document: DocumentNode, now: datetime, *, grouped: bool, seed: int
) -> BulkOutput:
    """The complete result file of a validated bulk query over the shop as it is at `now`."""
    return BulkRun(state, document, now).output(grouped=grouped, seed=seed)
