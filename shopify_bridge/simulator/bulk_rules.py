"""What `bulkOperationRunQuery` refuses, with Shopify's exact `userErrors` messages.

The messages of the live validator capture (2026-04 `bulk-operation-run-query-validators`) are copied
verbatim; the order of several messages for one query follows the only combined case captured (a top-level
`node` and no connection: the `node` message first). Checks run in Shopify's evident order: syntax, then the
operation type (a `mutation` document gets that one message only, although it has no connection either),
then the schema, then the bulk rules, which all report together.

Inferred, not captured: the wording of syntax errors other than "unexpected end of file", of schema errors
(graphql-ruby's "Field 'x' doesn't exist on type 'T'"), and how several names are joined in one message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
    validate,
)

MAX_CONNECTIONS = 5
MAX_DEPTH = 2
TOP_LEVEL_NODE = "Bulk queries cannot contain a top level `{name}` field."
NO_CONNECTION = "Bulk queries must contain at least one connection."
TOO_DEEP = f"Bulk queries cannot contain connections with a nesting depth greater than {MAX_DEPTH}."
TOO_MANY = f"Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
NOT_A_QUERY = "Invalid operation type. Only `query` operations are supported."
IN_LIST = "Queries that contain a connection field within a list field are not currently supported."
VIA_NODES = (
    "All connection fields in a bulk query must select their contents using 'edges' > 'node', "
    "e.g: '{first} {{ edges {{ node {{'. Selecting via 'nodes' is not supported. "
    "Invalid connection fields: {names}."
)
PARENT_WITHOUT_ID = (
    "The parent 'node' field for a nested connection must select the 'id' field without an alias and must "
    "be of 'ID' return type. Connection fields without 'id': {names}."
)

Composite = GraphQLObjectType | GraphQLInterfaceType
Fragments = Mapping[str, FragmentDefinitionNode]


class BulkQueryInvalid(ValueError):
    """A bulk query Shopify refuses; `messages` are the userErrors' messages, in Shopify's order."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def selected_fields(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode | None,
    owner: Composite,
    fragments: Fragments,
    _seen: frozenset[str] = frozenset(),
) -> list[tuple[FieldNode, Composite]]:
    """The fields a selection set selects, fragments expanded, each with the type it is selected on."""
    found: list[tuple[FieldNode, Composite]] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            found.append((selection, owner))
        elif isinstance(selection, InlineFragmentNode):
            condition = (
                _composite(schema, selection.type_condition.name.value) if selection.type_condition else owner
            )
            found += selected_fields(schema, selection.selection_set, condition or owner, fragments, _seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in _seen:
                condition = _composite(schema, fragment.type_condition.name.value) or owner
                found += selected_fields(schema, fragment.selection_set, condition, fragments, _seen | {name})
    return found


def _composite(schema: GraphQLSchema, name: str) -> Composite | None:
    named = schema.get_type(name)
    return named if isinstance(named, GraphQLObjectType | GraphQLInterfaceType) else None


def field_definition(owner: Composite, node: FieldNode) -> GraphQLField | None:
    definition: GraphQLField | None = owner.fields.get(node.name.value)
    return definition


def is_connection(named: GraphQLNamedType) -> bool:
    return (
        isinstance(named, GraphQLObjectType) and named.name.endswith("Connection") and "edges" in named.fields
    )


def edge_nodes(
    schema: GraphQLSchema, connection: FieldNode, named: GraphQLObjectType, fragments: Fragments
) -> list[tuple[FieldNode, GraphQLObjectType]]:
    """The `edges { node { … } }` fields of one connection selection, with the node's type."""
    nodes: list[tuple[FieldNode, GraphQLObjectType]] = []
    for edges, owner in selected_fields(schema, connection.selection_set, named, fragments):
        edges_def = field_definition(owner, edges)
        if edges.name.value != "edges" or edges_def is None:
            continue
        edge_type = get_named_type(edges_def.type)
        if not isinstance(edge_type, GraphQLObjectType):
            continue
        for node, edge_owner in selected_fields(schema, edges.selection_set, edge_type, fragments):
            node_def = field_definition(edge_owner, node)
            node_type = get_named_type(node_def.type) if node_def else None
            if node.name.value == "node" and isinstance(node_type, GraphQLObjectType):
                nodes.append((node, node_type))
    return nodes


@dataclass
class _Findings:
    top_level_nodes: list[str] = field(default_factory=list)
    connections: int = 0
    deepest: int = 0
    via_nodes: list[str] = field(default_factory=list)
    inside_list: bool = False
    parents_without_id: list[str] = field(default_factory=list)

    def messages(self) -> list[str]:
        found = [TOP_LEVEL_NODE.format(name=name) for name in self.top_level_nodes]
        if self.via_nodes:
            names = ", ".join(f"'{name}'" for name in self.via_nodes)
            found.append(VIA_NODES.format(first=self.via_nodes[0], names=names))
        if self.inside_list:
            found.append(IN_LIST)
        if self.deepest > MAX_DEPTH:
            found.append(TOO_DEEP)
        if self.connections > MAX_CONNECTIONS:
            found.append(TOO_MANY)
        if self.parents_without_id:
            found.append(PARENT_WITHOUT_ID.format(names=", ".join(self.parents_without_id)))
        if self.connections == 0:
            found.append(NO_CONNECTION)
        return found


class _RuleWalk:
    def __init__(self, schema: GraphQLSchema, fragments: Fragments) -> None:
        self.schema = schema
        self.fragments = fragments
        self.findings = _Findings()

    def walk(
        self, selection_set: SelectionSetNode | None, owner: Composite, depth: int, in_list: bool
    ) -> int:
        """Record the rules' findings below one selection; how many connections it holds."""
        connections = 0
        for node, node_owner in selected_fields(self.schema, selection_set, owner, self.fragments):
            definition = field_definition(node_owner, node)
            if definition is None:
                continue
            listed = in_list or is_list_type(get_nullable_type(definition.type))
            named = get_named_type(definition.type)
            if is_connection(named):
                assert isinstance(named, GraphQLObjectType)
                connections += 1
                self._connection(node, named, depth + 1, listed)
            elif isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and node.selection_set:
                connections += self.walk(node.selection_set, named, depth, listed)
        return connections

    def _connection(self, node: FieldNode, named: GraphQLObjectType, depth: int, in_list: bool) -> None:
        findings = self.findings
        findings.connections += 1
        findings.deepest = max(findings.deepest, depth)
        findings.inside_list = findings.inside_list or in_list
        selected = selected_fields(self.schema, node.selection_set, named, self.fragments)
        if any(child.name.value == "nodes" for child, _ in selected):
            findings.via_nodes.append(node.name.value)
        for edge_node, node_type in edge_nodes(self.schema, node, named, self.fragments):
            nested = self.walk(edge_node.selection_set, node_type, depth, in_list)
            if nested and not selects_plain_id(self.schema, edge_node, node_type, self.fragments):
                findings.parents_without_id.append(node.name.value)


def selects_plain_id(
    schema: GraphQLSchema, node: FieldNode, node_type: GraphQLObjectType, fragments: Fragments
) -> bool:
    return any(
        child.name.value == "id" and child.alias is None
        for child, _ in selected_fields(schema, node.selection_set, node_type, fragments)
    )


def _syntax_message(error: GraphQLError) -> str:
    found = error.message.rsplit("found ", 1)[-1] if "found " in error.message else error.message
    if "<EOF>" in error.message:
        return "Invalid bulk query: syntax error, unexpected end of file"
    location = error.locations[0] if error.locations else None
    where = f" at [{location.line}, {location.column}]" if location else ""
    token = found.removeprefix("Syntax Error: ").removeprefix("Unexpected ").rstrip(".")
    return f"Invalid bulk query: syntax error, unexpected {token}{where}"


def _schema_message(error: GraphQLError) -> str:
    text = error.message
    if text.startswith("Cannot query field "):
        # graphql-ruby's wording (Shopify runs graphql-ruby), not graphql-core's.
        name, owner = text.split("'")[1], text.split("'")[3]
        text = f"Field '{name}' doesn't exist on type '{owner}'"
    return f"Invalid bulk query: {text}"


def check_bulk_query(query: str, schema: GraphQLSchema) -> tuple[DocumentNode, OperationDefinitionNode]:
    """The parsed document and its query operation, or `BulkQueryInvalid` with Shopify's messages."""
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        raise BulkQueryInvalid([_syntax_message(exc)]) from None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations or any(op.operation is not OperationType.QUERY for op in operations):
        raise BulkQueryInvalid([NOT_A_QUERY])
    problems = validate(schema, document)
    if problems:
        raise BulkQueryInvalid([_schema_message(p) for p in problems])
    operation = operations[0]
    root = schema.query_type
    assert root is not None
    fragments = fragments_of(document)
    walk = _RuleWalk(schema, fragments)
    for node, _ in selected_fields(schema, operation.selection_set, root, fragments):
        if node.name.value in ("node", "nodes"):
            walk.findings.top_level_nodes.append(node.name.value)
    walk.walk(operation.selection_set, root, 0, False)
    messages = walk.findings.messages()
    if messages:
        raise BulkQueryInvalid(messages)
    return document, operation
