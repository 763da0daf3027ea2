"""The simulator's schema: `schema.graphql` (a faithful subset of the real Admin API) plus resolvers."""

from __future__ import annotations

from functools import cache
from importlib import resources

from graphql import GraphQLObjectType, GraphQLSchema, build_schema

from shopify_bridge.simulator.resolvers import FIELD_RESOLVERS


def schema_text() -> str:
    return resources.files("shopify_bridge.simulator").joinpath("schema.graphql").read_text(encoding="utf-8")


@cache
def simulator_schema() -> GraphQLSchema:
    """The subset schema with the simulator's resolvers attached (built once per process)."""
    schema = build_schema(schema_text())
    for (type_name, field_name), resolver in FIELD_RESOLVERS.items():
        owner = schema.get_type(type_name)
        if not isinstance(owner, GraphQLObjectType) or field_name not in owner.fields:
            raise LookupError(f"resolver for {type_name}.{field_name}, which schema.graphql does not have")
        owner.fields[field_name].resolve = resolver
    return schema
