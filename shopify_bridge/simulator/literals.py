"""Inline `ID` literals checked before execution, as Shopify's static validation does.

Shopify coerces an `ID` argument written into the document (`bulkOperation(id: "not-a-gid")`) while
validating it, before any cost is counted: a malformed global id is then the whole answer — an
`errors` array and no `data`, no `extensions` (2026-04 bulk-operations-read-arg-validation,
`malformedInlineId`). The error is graphql-ruby's `argumentLiteralsIncompatible` with the scalar's
`CoercionError` message; it is located at the field that takes the argument and its path is the
static-validation path: `"query Name"`, then each field (its alias when it has one), then the
argument's name. A well-formed id of another type passes here and is refused by the resolver
(`nonBulkOperationGid`: RESOURCE_NOT_FOUND next to `data`). Ids passed as variables are not
checked here: they keep the resolver's execution-time error.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ArgumentNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    Visitor,
    get_named_type,
    visit,
)

ID_TYPE = "ID"


def split_gid(value: str) -> tuple[str, int] | None:
    """(`Order`, 123) from `gid://shopify/Order/123`; None when the id is not a well-formed global id.

    (inferred) A numeric last part is required, as the resolvers always did; Shopify's own rule
    for what coerces is not recorded beyond `not-a-gid` failing and `gid://shopify/Product/1` passing.
    """
    parts = value.split("/")
    if len(parts) != 5 or parts[:3] != ["gid:", "", "shopify"]:
        return None
    number = parts[4].split("?")[0]
    if not number.isdigit():
        return None
    return parts[3], int(number)


def invalid_global_id_message(value: str) -> str:
    return f"Invalid global id '{value}'"


def _first_malformed(value: ValueNode) -> str | None:
    """The first string in `value` (a string, or a list of them) that is not a global id."""
    items = value.values if isinstance(value, ListValueNode) else (value,)  # (inferred) lists: first bad item
    for item in items:
        if isinstance(item, StringValueNode) and split_gid(item.value) is None:
            return item.value
    return None


def _location(node: Node) -> list[dict[str, int]]:
    if node.loc is None:
        return []
    where = node.loc.source.get_location(node.loc.start)
    return [{"line": where.line, "column": where.column}]


class _LiteralIds(Visitor):
    """Collects one error per inline `ID` argument whose literal is not a global id."""

    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.path: list[str] = []
        self.errors: list[dict[str, Any]] = []

    def _push(self, step: str) -> None:
        self.path.append(step)

    def leave(self, node: Node, *_: Any) -> None:
        steps = (OperationDefinitionNode, FragmentDefinitionNode, InlineFragmentNode, FieldNode, ArgumentNode)
        if isinstance(node, steps):
            self.path.pop()

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        # (inferred) an anonymous operation is the bare keyword, as graphql-ruby's validation paths have it
        keyword = node.operation.value
        self._push(f"{keyword} {node.name.value}" if node.name else keyword)

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> None:
        self._push(f"fragment {node.name.value}")  # (inferred) graphql-ruby's step for a fragment

    def enter_inline_fragment(self, node: InlineFragmentNode, *_: Any) -> None:
        condition = node.type_condition
        self._push(f"... on {condition.name.value}" if condition else "...")  # (inferred) as graphql-ruby

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self._push(node.alias.value if node.alias else node.name.value)  # (inferred) the alias, as graphql-ruby

    def enter_argument(self, node: ArgumentNode, _key: Any, _parent: Any, _path: Any, ancestors: Any) -> None:
        self._push(node.name.value)
        argument = self.type_info.get_argument()
        if argument is None or get_named_type(argument.type).name != ID_TYPE:
            return
        malformed = _first_malformed(node.value)
        if malformed is None:
            return
        owner = ancestors[-1] if ancestors else node
        owner = owner if isinstance(owner, FieldNode | DirectiveNode) else node
        self.errors.append(
            {
                "message": invalid_global_id_message(malformed),
                "locations": _location(owner),
                "path": list(self.path),
                "extensions": {"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
            }
        )


def literal_id_errors(schema: GraphQLSchema, document: DocumentNode) -> list[dict[str, Any]]:
    """Shopify's errors for the malformed inline `ID` arguments of a valid document, every operation's."""
    type_info = TypeInfo(schema)
    collector = _LiteralIds(type_info)
    visit(document, TypeInfoVisitor(type_info, collector))
    return collector.errors
