"""Running a validated bulk query over the shop, into the JSONL lines Shopify writes.

An operation is *planned* when it is created and its file *written* afterwards, as Shopify answers
`bulkOperationRunQuery` with CREATED at once and writes the file while the operation runs (notes §1.1, §1.2:
the run answers CREATED, `objectCount` grows while RUNNING). The plan fixes which objects the file holds and
in which order — the roots the search index shows at creation (a snapshot: documents are never changed once
stored, see `store.OrderStore.put`) and their nested connections' nodes — without executing anything; the
lines are written a batch at a time (`BulkOutput.write`), by whoever drives the operation (`bulk.BulkEngine`).

Each connection node becomes one line: the node's selection is executed with graphql-core on the simulator's
schema (so every field resolver of the simulator applies, and aliases, fragments and `__typename` behave as on
the normal endpoint), minus its nested connections, whose nodes become lines of their own carrying
`"__parentId"`. Lists and plain objects (refunds, money bags, customer) stay inline. Consecutive lines of the
same selection are executed together, as one list field, so that graphql-core's per-request work is paid once
per batch instead of once per line.

The root `orders` connection reads the search index exactly as `orders(query:, sortKey:, reverse:)` does,
but without pages: a bulk query has no `first`; a root `bulkOperations` is filtered and ordered as
`bulkOperations(query:, sortKey:, reverse:)` is (`bulk_search`). Nested connections read the parent's stored list.

Line order: with `groupObjects: true` each parent is followed by its children; without it (the 2026-01+
default) all parents come first, then the children in a seeded shuffle — never relying on adjacency.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import cache
from itertools import islice
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    NameNode,
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

# Lines executed in one graphql-core call (at most; a batch ends where the selection changes).
RENDER_BATCH = 200

Nested = list[tuple[tuple[str, ...], FieldNode, GraphQLObjectType]]
"""The nested connections of a selection: (path of plain objects to them, the connection field, its type)."""
Entry = tuple[Doc, GraphQLObjectType, SelectionSetNode, str | None]
"""One planned line: its source document, its node type, its selection without connections, its parent's id."""


def jsonl_line(data: Mapping[str, Any]) -> bytes:
    """One record the way Shopify writes it: compact, UTF-8, forward slashes escaped as `\\/`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("/", "\\/").encode()


class BulkOutput:
    """The result file of one operation: planned objects in file order, their lines written on demand.

    The plan is made when first needed (`objects`, `roots`, `write`), from the snapshot the operation took
    when it was created; `lines` holds the lines written so far (without their newline). `content(n)`
    writes whatever of the first `n` lines is not written yet.
    """

    def __init__(self, context: RequestContext | None = None, planner: Callable[[], list[Entry]] | None = None):
        self._context = context
        self._planner = planner
        self._pending: deque[Entry] = deque()
        self._is_root: list[bool] = []
        self.lines: list[bytes] = []

    def _planned(self) -> deque[Entry]:
        if self._planner is not None:
            planner, self._planner = self._planner, None
            self._pending = deque(planner())
            self._is_root = [entry[3] is None for entry in self._pending]
        return self._pending

    @property
    def is_root(self) -> list[bool]:
        self._planned()
        return self._is_root

    @property
    def objects(self) -> int:
        return len(self.is_root)

    @property
    def written(self) -> int:
        return len(self.lines)

    def roots(self, count: int | None = None) -> int:
        """How many of the first `count` lines (all by default) are root objects."""
        return sum(islice(self.is_root, count))

    def write(self, upto: int) -> int:
        """Write lines until `upto` of them (at most all) are written; how many this call wrote."""
        pending = self._planned()
        wanted = min(upto, self.objects) - self.written
        done = 0
        while done < wanted:
            batch = [pending.popleft()]
            _, node_type, selection, _ = batch[0]
            while (done + len(batch) < wanted and len(batch) < RENDER_BATCH
                   and pending[0][1] is node_type and pending[0][2] is selection):
                batch.append(pending.popleft())
            assert self._context is not None
            self.lines += _render(self._context, batch)
            done += len(batch)
        return done

    def content(self, count: int | None = None) -> bytes:
        """The first `count` lines (all by default) as the file's bytes, each ending with a newline."""
        upto = self.objects if count is None else count
        self.write(upto)
        return b"".join(line + b"\n" for line in self.lines[:upto])


@cache
def _batch_schema(type_name: str) -> GraphQLSchema:
    """A schema whose query root lists sources of one node type of the simulator's schema (same resolvers)."""
    node_type = simulator_schema().get_type(type_name)
    assert isinstance(node_type, GraphQLObjectType)
    root = GraphQLObjectType(
        "BulkBatch", {"items": GraphQLField(GraphQLList(node_type), resolve=lambda sources, _info: sources)}
    )
    return GraphQLSchema(query=root)


def _never_awaitable(_value: Any) -> bool:
    return False  # the simulator's resolvers are synchronous; graphql-core need not look


def _render(context: RequestContext, batch: list[Entry]) -> list[bytes]:
    """The lines of planned entries sharing one node type and selection, executed as one list field."""
    _, node_type, selection, _ = batch[0]
    items = FieldNode(name=NameNode(value="items"), selection_set=selection)
    operation = OperationDefinitionNode(
        operation=OperationType.QUERY, selection_set=SelectionSetNode(selections=(items,))
    )
    result = execute(
        _batch_schema(node_type.name),
        DocumentNode(definitions=(operation,)),
        root_value=[source for source, _, _, _ in batch],
        context_value=context,
        is_awaitable=_never_awaitable,  # type: ignore[arg-type]
    )
    assert isinstance(result, ExecutionResult)
    rendered = (result.data or {}).get("items") or [None] * len(batch)
    lines = []
    for data, (_, _, _, parent) in zip(rendered, batch, strict=True):
        record = dict(data or {})
        if parent is not None:
            record["__parentId"] = parent
        lines.append(jsonl_line(record))
    return lines


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
        # Per selection set (they are shared by every node of a connection): its split and its edge nodes.
        self._splits: dict[tuple[int, str], tuple[SelectionSetNode | None, SelectionSetNode, Nested]] = {}
        self._edges: dict[int, tuple[FieldNode, list[tuple[FieldNode, GraphQLObjectType]]]] = {}

    def snapshot(self, *, grouped: bool, seed: int) -> BulkOutput:
        """The file as of now: which root documents it holds is fixed here (cheaply: documents are never
        changed once stored); which lines, in which order, is planned when the file is first needed."""
        roots: list[tuple[Callable[[], list[Doc]], GraphQLObjectType, SelectionSetNode | None]] = []
        root = self.schema.query_type
        assert root is not None
        for node, owner in selected_fields(self.schema, self.operation.selection_set, root, self.fragments):
            definition = owner.fields.get(node.name.value)
            named = get_named_type(definition.type) if definition else None
            if definition is None or named is None or not is_connection(named):
                continue  # a bulk result holds connection nodes only
            assert isinstance(named, GraphQLObjectType)
            arguments = get_argument_values(definition, node)
            found = self._root_items(node.name.value, arguments)
            for edge_node, node_type in edge_nodes(self.schema, node, named, self.fragments):
                roots.append((found, node_type, edge_node.selection_set))

        def plan() -> list[Entry]:
            entries: list[Entry] = []
            for items, node_type, selection_set in roots:
                for item in items():
                    self._plan_node(item, node_type, selection_set, None, entries)
            if grouped:
                return entries
            parents = [entry for entry in entries if entry[3] is None]
            children = [entry for entry in entries if entry[3] is not None]
            random.Random(seed).shuffle(children)
            return parents + children

        return BulkOutput(self.context, plan)

    # -- roots ----------------------------------------------------------------------------------
    def _root_items(self, name: str, arguments: dict[str, Any]) -> Callable[[], list[Doc]]:
        """The root documents of the file, as of now, when called (later)."""
        if name == "orders":
            return self._orders(arguments)
        if name == "bulkOperations":
            # Copies: an operation's document changes as it runs, the file shows it as it was.
            operations = [dict(op) for op in self._bulk_operations(arguments)]
            return lambda: operations
        return list

    def _bulk_operations(self, arguments: dict[str, Any]) -> list[Doc]:
        """As `bulkOperations(query:, sortKey:, reverse:)` lists them, without pages."""
        try:
            plan = parse_bulk_search(arguments.get("query"), self.context.now)
        except SearchError:
            return []  # (inferred) as for orders: a query Shopify would refuse yields no objects
        return bulk_search.ordered(bulk_search.matching(self.state.bulk_operations.values(), plan), arguments)

    def _orders(self, arguments: dict[str, Any]) -> Callable[[], list[Doc]]:
        """As `orders(query:, sortKey:, reverse:)` finds them now, without pages.

        Now only the index's documents and the current ones are taken (a pass over the shop); the search
        and the sort run when the file is planned, on those documents, which nobody changes.
        """
        state, now = self.state, self.context.now
        try:
            plan = parse_search(arguments.get("query"), now)
        except SearchError:
            return list  # (inferred) a query Shopify would refuse yields no objects
        sort_key = arguments.get("sortKey") or "PROCESSED_AT"
        store = state.store
        indexed = [(number, doc, store.current(number)) for number, doc in searchable(state, now)]

        def found() -> list[Doc]:
            matches = [item for item in indexed if item[2] is not None and plan.predicate(item[1])]
            matches.sort(key=lambda item: (_sort_value(item[1], item[0], sort_key), item[0]))
            if arguments.get("reverse"):
                matches.reverse()
            return [current for _, _, current in matches if current is not None]

        return found

    # -- nodes ----------------------------------------------------------------------------------
    def _plan_node(
        self,
        source: Doc,
        node_type: GraphQLObjectType,
        selection_set: SelectionSetNode | None,
        parent: str | None,
        entries: list[Entry],
    ) -> None:
        own, nested = self._split_once(selection_set, node_type)
        entries.append((source, node_type, own, parent))
        for path, connection, named in nested:
            children = _walk(source, (*path, connection.name.value))
            for edge_node, child_type in self._edge_nodes(connection, named):
                for child in sorted(children, key=lambda item: by_id(item)[1]):
                    self._plan_node(child, child_type, edge_node.selection_set, str(source["id"]), entries)

    def _split_once(
        self, selection_set: SelectionSetNode | None, node_type: GraphQLObjectType
    ) -> tuple[SelectionSetNode, Nested]:
        key = (id(selection_set), node_type.name)
        found = self._splits.get(key)
        if found is None:
            # The selection set is kept in the value: its id stays its own while the entry lives.
            found = self._splits[key] = (selection_set, *self._split(self._inline(selection_set), node_type, ()))
        return found[1], found[2]

    def _edge_nodes(
        self, connection: FieldNode, named: GraphQLObjectType
    ) -> list[tuple[FieldNode, GraphQLObjectType]]:
        found = self._edges.get(id(connection))
        if found is None:
            nodes = edge_nodes(self.schema, connection, named, self.fragments)
            found = self._edges[id(connection)] = (connection, nodes)
        return found[1]

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
    ) -> tuple[SelectionSetNode, Nested]:
        """(the selection without connection fields, the connections taken out with their path)."""
        kept: list[SelectionNode] = []
        nested: Nested = []
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


def plan_bulk_query(
    state: ShopState, document: DocumentNode, now: datetime, *, grouped: bool, seed: int
) -> BulkOutput:
    """The result file of a validated bulk query over the shop as it is at `now`, not yet planned nor written."""
    return BulkRun(state, document, now).snapshot(grouped=grouped, seed=seed)


def run_bulk_query(
    state: ShopState, document: DocumentNode, now: datetime, *, grouped: bool, seed: int
) -> BulkOutput:
    """The complete result file of a validated bulk query over the shop as it is at `now`, written."""
    output = plan_bulk_query(state, document, now, grouped=grouped, seed=seed)
    output.write(output.objects)
    return output
