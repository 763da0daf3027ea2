"""schema.graphql is a faithful subset of the real 2026-07 Admin schema, and the bridge's queries fit it."""

from __future__ import annotations

import re
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    parse,
    print_ast,
    validate,
)

from shopify_bridge.shopify import queries
from shopify_bridge.simulator import simulator_schema


def bridge_documents() -> dict[str, str]:
    found = {
        name: value
        for name, value in vars(queries).items()
        if isinstance(value, str) and re.match(r"\s*(query|mutation)\b", value)
    }
    assert len(found) >= 6, "queries.py should hold every document the bridge sends"
    return found


def _default(arg: Any) -> str | None:
    node = arg.ast_node
    return print_ast(node.default_value) if node is not None and node.default_value is not None else None


def _compare_fields(name: str, ours: Any, real: Any) -> list[str]:
    problems = []
    for field_name, field in ours.fields.items():
        real_field = real.fields.get(field_name)
        if real_field is None:
            problems.append(f"{name}.{field_name} is not in the real schema")
            continue
        if str(field.type) != str(real_field.type):
            problems.append(f"{name}.{field_name}: {field.type} != real {real_field.type}")
        if getattr(field, "deprecation_reason", None) != getattr(real_field, "deprecation_reason", None):
            problems.append(f"{name}.{field_name}: deprecation differs")
        if isinstance(ours, GraphQLInputObjectType):
            if _default(field) != _default(real_field):
                problems.append(
                    f"{name}.{field_name}: default {_default(field)} != real {_default(real_field)}"
                )
            continue
        if set(field.args) != set(real_field.args):
            problems.append(
                f"{name}.{field_name}: arguments {sorted(field.args)} != real {sorted(real_field.args)}"
            )
        for arg_name, arg in field.args.items():
            real_arg = real_field.args.get(arg_name)
            if real_arg is None:
                continue
            if str(arg.type) != str(real_arg.type) or _default(arg) != _default(real_arg):
                problems.append(
                    f"{name}.{field_name}({arg_name}): {arg.type} = {_default(arg)} "
                    f"!= real {real_arg.type} = {_default(real_arg)}"
                )
    return problems


def subset_problems(ours: GraphQLSchema, real: GraphQLSchema) -> list[str]:
    problems: list[str] = []
    for name, our_type in ours.type_map.items():
        if name.startswith("__"):
            continue
        real_type = real.get_type(name)
        if real_type is None or type(real_type) is not type(our_type):
            problems.append(f"type {name} is missing or of another kind in the real schema")
            continue
        if isinstance(our_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            problems += _compare_fields(name, our_type, real_type)
        if isinstance(our_type, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(real_type, GraphQLObjectType | GraphQLInterfaceType)
            real_interfaces = {i.name for i in real_type.interfaces}
            problems += [
                f"{name} implements {i.name}, the real type does not"
                for i in our_type.interfaces
                if i.name not in real_interfaces
            ]
        if isinstance(our_type, GraphQLEnumType):
            assert isinstance(real_type, GraphQLEnumType)
            if set(our_type.values) != set(real_type.values):
                problems.append(f"enum {name}: values differ from the real schema")
    return problems


def test_every_type_field_argument_and_enum_value_exists_identically_in_the_real_schema(
    real_schema: Any,
) -> None:
    assert subset_problems(simulator_schema(), real_schema) == []


def test_the_fidelity_check_catches_a_changed_default(real_schema: Any) -> None:
    from graphql import build_schema

    from shopify_bridge.simulator.schema import schema_text

    tampered = schema_text().replace(
        "sortKey: OrderSortKeys = PROCESSED_AT", "sortKey: OrderSortKeys = UPDATED_AT"
    )
    assert tampered != schema_text()
    problems = subset_problems(build_schema(tampered), real_schema)
    assert any("orders(sortKey)" in p for p in problems), problems


def test_the_subset_keeps_the_types_the_bridge_and_bulk_need() -> None:
    schema = simulator_schema()
    for name in (
        "Order",
        "LineItem",
        "Refund",
        "RefundLineItem",
        "OrderTransaction",
        "RefundShippingLine",
        "Customer",
        "MailingAddress",
        "MoneyBag",
        "MoneyV2",
        "Image",
        "Product",
        "ProductVariant",
        "PageInfo",
        "Count",
        "BulkOperation",
        "BulkOperationRunQueryPayload",
        "BulkOperationCancelPayload",
        "BulkOperationUserError",
        "BulkOperationStatus",
        "BulkOperationErrorCode",
        "OrderSortKeys",
        "CurrencyCode",
        "CountryCode",
    ):
        assert schema.get_type(name) is not None, name
    for name in ("Decimal", "DateTime", "UnsignedInt64", "URL"):
        assert isinstance(schema.get_type(name), GraphQLScalarType), name
    assert schema.mutation_type is not None
    assert {"bulkOperationRunQuery", "bulkOperationCancel"} <= set(schema.mutation_type.fields)
    assert schema.query_type is not None
    roots = {"orders", "order", "node", "shop", "currentAppInstallation", "ordersCount", "bulkOperation"}
    assert roots <= set(schema.query_type.fields)


def test_every_bridge_query_validates_against_the_subset() -> None:
    for name, document in bridge_documents().items():
        assert validate(simulator_schema(), parse(document)) == [], name


def test_every_bridge_query_validates_against_the_real_schema_too(real_schema: Any) -> None:
    for name, document in bridge_documents().items():
        assert validate(real_schema, parse(document)) == [], name
