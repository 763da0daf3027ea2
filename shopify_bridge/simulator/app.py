"""The simulator's HTTP face: `POST /admin/api/{version}/graphql.json`, answered as Shopify does.

Order of checks, as on Shopify: unknown path or version → 404 `{"errors":"Not Found"}`; bad or
missing `X-Shopify-Access-Token` → 401 with the *string* `errors` body; then injected faults;
then parse/validate (errors as a GraphQL `errors` array, HTTP 200); then inline `ID` literals
(a malformed global id: only `errors`, see `literals`); then cost: over 1,000 → MAX_COST_EXCEEDED,
more than the bucket holds → THROTTLED (HTTP 200, no data); then execution. Every GraphQL answer
but a malformed inline id carries `extensions.cost`; all carry the `X-Shopify-API-Version` header.
"""

from __future__ import annotations

import copy
import hmac
import json
import re
from functools import lru_cache
from typing import Any

from aiohttp import web
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)

from shopify_bridge.simulator import control
from shopify_bridge.simulator.cost import SINGLE_QUERY_MAX, actual_cost, requested_cost
from shopify_bridge.simulator.faults import HTML_PAGE, STRING_ERRORS, Fault, string_error
from shopify_bridge.simulator.literals import literal_id_errors
from shopify_bridge.simulator.resolvers import RequestContext
from shopify_bridge.simulator.schema import simulator_schema
from shopify_bridge.simulator.shop import SimulatorState

STATE_KEY = web.AppKey("simulator_state", SimulatorState)
PREFIX_KEY = web.AppKey("simulator_path_prefix", str)
VERSION_PATTERN = re.compile(r"^\d{4}-(01|04|07|10)$")
ACCESS_DOCS = "https://shopify.dev/api/usage/access-scopes"
RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"
CHECKED_DOCUMENTS = 512


def create_app(state: SimulatorState, prefix: str = "") -> web.Application:
    """The shop's application; `prefix` is the path it is mounted under when several shops share a server."""
    app = web.Application()
    app[STATE_KEY] = state
    app[PREFIX_KEY] = prefix
    app.router.add_post("/admin/api/{version}/graphql.json", graphql_endpoint)
    control.add_routes(app, state)
    state.bulk.add_routes(app)  # signed result-file URLs: no Shopify token
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


async def listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0: any free port); the runner to clean up and the port it got."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    return runner, sockets[0].getsockname()[1] if sockets else port


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(body), status=status, content_type="application/json", headers=headers
    )


async def not_found(request: web.Request) -> web.Response:
    return _json({"errors": "Not Found"}, status=404)


def served_version(requested: str, supported: tuple[str, ...]) -> str | None:
    """The version Shopify serves: the requested one, or the next supported one (fall forward)."""
    if not VERSION_PATTERN.match(requested):
        return None
    return next((v for v in supported if v >= requested), None)


def token_ok(request: web.Request, state: SimulatorState) -> bool:
    given = request.headers.get("X-Shopify-Access-Token", "")
    return hmac.compare_digest(given.encode(), state.token.encode())


def invalid_token_response() -> web.Response:
    status, body = string_error("http_401")
    return web.Response(text=body, status=status, content_type="application/json")


async def graphql_endpoint(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    version = served_version(request.match_info["version"], state.api_versions)
    if version is None:
        return await not_found(request)
    headers = {"X-Shopify-API-Version": version}
    if not token_ok(request, state):
        response = invalid_token_response()
        response.headers.update(headers)
        return response
    try:
        body = await request.json()
        query, variables = body["query"], body.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400, headers)
    operation_name = body.get("operationName") or _operation_name(query)
    state.bulk.begin_request(version, str(request.url.origin()) + request.app[PREFIX_KEY])
    fault = state.faults.take(operation_name)
    if fault is not None and fault.kind not in ("throttled", "access_denied"):
        return await _serve_fault(request, state, fault, headers)
    return _json(_answer(state, query, variables, body.get("operationName"), fault), 200, headers)


def _operation_name(query: str) -> str | None:
    match = re.search(r"\b(?:query|mutation)\s+(\w+)", query)
    return match.group(1) if match else None


async def _serve_fault(
    request: web.Request, state: SimulatorState, fault: Fault, headers: dict[str, str]
) -> web.StreamResponse:
    if fault.kind in STRING_ERRORS:
        status, body = string_error(fault.kind)
        if fault.kind == "http_429":
            headers = {**headers, "Retry-After": f"{fault.retry_after:.1f}"}
        return web.Response(text=body, status=status, content_type="application/json", headers=headers)
    if fault.kind == "html":
        return web.Response(
            text=HTML_PAGE, status=fault.status or 200, content_type="text/html", headers=headers
        )
    if fault.kind == "reset":
        if request.transport is not None:
            request.transport.abort()  # the client sees the connection drop; this answer goes nowhere
        return web.Response(status=500, headers=headers)
    await state.faults.hang(fault.seconds)  # "timeout": the client gives up first
    return web.Response(status=504, text="", headers=headers)


def _cost_extension(state: SimulatorState, requested: int, actual: int | None) -> dict[str, Any]:
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": state.bucket.status(),
    }


@lru_cache(maxsize=CHECKED_DOCUMENTS)
def checked_document(
    query: str,
) -> tuple[DocumentNode | None, list[dict[str, Any]], list[dict[str, Any]]]:
    """(the parsed document or None, its syntax/validation errors, its malformed inline ids), once per text.

    Parsing and validating against the subset schema is most of a cheap request's time, and the answer
    depends on the query text alone; clients repeat the same few documents, so they are checked once.
    """
    schema = simulator_schema()
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [dict(exc.formatted)], []
    problems = validate(schema, document)
    if problems:
        return None, [dict(p.formatted) for p in problems], []
    return document, [], literal_id_errors(schema, document)


def _answer(
    state: SimulatorState,
    query: str,
    variables: dict[str, Any],
    operation_name: str | None,
    fault: Fault | None,
) -> dict[str, Any]:
    schema = simulator_schema()
    document, problems, incompatible = checked_document(query)
    if document is None:
        return {"errors": copy.deepcopy(problems), "extensions": {"cost": _cost_extension(state, 0, 0)}}
    if incompatible:
        # as recorded: no data, no cost, nothing taken from the bucket
        return {"errors": copy.deepcopy(incompatible)}
    try:
        requested = requested_cost(schema, document, variables, operation_name)
    except ValueError as exc:
        return {"errors": [{"message": str(exc)}], "extensions": {"cost": _cost_extension(state, 0, 0)}}
    if requested > SINGLE_QUERY_MAX:
        return _max_cost_exceeded(state, requested)
    if (fault is not None and fault.kind == "throttled") or not state.bucket.try_take(requested):
        return {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS},
                }
            ],
            "extensions": {"cost": _cost_extension(state, requested, None)},
        }
    context = RequestContext(state=state, now=state.now())
    result = execute(
        schema, document, context_value=context, variable_values=variables, operation_name=operation_name
    )
    assert isinstance(result, ExecutionResult)
    errors = [e.formatted for e in result.errors or []]
    data = result.data
    if fault is not None and fault.kind == "access_denied":
        data, errors = _deny(document, data, fault, errors)
    actual = min(actual_cost(schema, document, variables, data, operation_name), requested)
    state.bucket.give_back(requested - actual)
    answer: dict[str, Any] = {}
    if errors:
        answer["errors"] = errors
    answer["data"] = data
    answer["extensions"] = {"cost": _cost_extension(state, requested, actual)}
    if context.search:
        answer["extensions"]["search"] = context.search
    return answer


def _max_cost_exceeded(state: SimulatorState, requested: int) -> dict[str, Any]:
    message = (
        f"Query cost is {requested}, which exceeds the single query max cost limit ({SINGLE_QUERY_MAX}).\n\n"
        "See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\n"
        "cost of a query is calculated.\n\n"
        "To query larger amounts of data with fewer limits, bulk operations should be used instead.\n"
        "See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n"
    )
    error = {
        "message": message,
        "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": SINGLE_QUERY_MAX},
    }
    return {"errors": [error], "extensions": {"cost": _cost_extension(state, requested, None)}}


def _deny(
    document: DocumentNode, data: dict[str, Any] | None, fault: Fault, errors: list[Any]
) -> tuple[dict[str, Any], list[Any]]:
    """Null one root field and add Shopify's ACCESS_DENIED error for it (the rest of data stays)."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    target = next((f for f in fields if fault.field in (None, f.name.value)), fields[0])
    key = target.alias.value if target.alias else target.name.value
    location = target.loc.source.get_location(target.loc.start) if target.loc else None
    error = {
        "message": f"Access denied for {target.name.value} field. Required access: {fault.required_access}",
        "locations": [{"line": location.line, "column": location.column}] if location else [],
        "extensions": {
            "code": "ACCESS_DENIED",
            "documentation": ACCESS_DOCS,
            "requiredAccess": fault.required_access,
        },
        "path": [key],
    }
    return {**(data or {}), key: None}, [*errors, error]
