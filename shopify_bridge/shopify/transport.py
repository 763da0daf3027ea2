"""The wire: one GraphQL request to Shopify over gql + aiohttp, returned as a `ShopifyAnswer`.

gql's own retry logic never sees most of Shopify's failure modes: THROTTLED arrives as HTTP 200
with an `errors` array, and 401/402/404/423/429 arrive as JSON whose `errors` is a *string*, which
gql happily turns into an ExecutionResult without looking at the status. So the transport records
the HTTP status and headers of every answer and hands all of it, unjudged, to `responses.classify`.

`Retry-After` is read from the answer itself on every path, including the ones where gql gives up
on the body (a 429 or 503 that is not GraphQL JSON raises before any result exists).
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, Protocol

import aiohttp
from gql import Client, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from graphql import DocumentNode, ExecutionResult, parse, print_ast

from shopify_bridge.retry import parse_retry_after
from shopify_bridge.shopify.responses import ShopifyAnswer


class AnswerTransport(Protocol):
    """How `ShopifyClient` reaches Shopify; tests put a fake shop behind it."""

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, document: str, variables: dict[str, Any]) -> ShopifyAnswer: ...


def endpoint_url(shop_domain: str, api_version: str, api_url: str | None) -> str:
    base = (api_url or f"https://{shop_domain}").rstrip("/")
    return f"{base}/admin/api/{api_version}/graphql.json"


class _StatusRecordingTransport(AIOHTTPTransport):
    """AIOHTTPTransport that remembers the status and headers of the answer it is reading."""

    last_status: int = 0
    last_headers: Any = None

    async def _prepare_result(self, response: aiohttp.ClientResponse) -> ExecutionResult:
        # Recorded before gql reads the body: a body it refuses raises, and the status must survive that.
        self.last_status = response.status
        self.last_headers = response.headers
        return await super()._prepare_result(response)


MAX_CONNECTIONS = 256
"""Requests in flight at once over a shared connector (and sockets kept open: well under 1,024 descriptors)."""
KEEPALIVE_SECONDS = 30.0
"""How long an idle connection is kept for the shop's next poll (aiohttp's default, 15 s, is the default poll
interval: every poll would open a new connection)."""


Connector = aiohttp.BaseConnector


def shared_connector() -> Connector:
    """A connector for many clients (the bridge's, one per source): idle connections kept across polls."""
    return aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS)


class _PreparedRequest(GraphQLRequest):
    """A request whose query text was parsed and printed once: a poll sends the same few documents again
    and again, and parsing and printing them was most of the client's CPU time."""

    def __init__(self, document: str, variables: dict[str, Any]) -> None:
        self.document, self._query = _prepared(document)
        self.variable_values = variables
        self.operation_name = None
        self.extensions = None

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"query": self._query}
        if self.variable_values:
            payload["variables"] = self.variable_values
        return payload


@lru_cache(maxsize=64)
def _prepared(document: str) -> tuple[DocumentNode, str]:
    node = parse(document)
    return node, print_ast(node)


class GqlTransport:
    """The real wire: gql over aiohttp, one session per client (over `connector` when given, shared)."""

    def __init__(
        self, url: str, token: str, timeout_seconds: float, connector: aiohttp.BaseConnector | None = None
    ) -> None:
        shared = {"connector": connector, "connector_owner": False} if connector is not None else {}
        self._transport = _StatusRecordingTransport(
            url=url,
            headers={"X-Shopify-Access-Token": token, "User-Agent": "shopify-bridge"},
            timeout=int(timeout_seconds),
            client_session_args=shared,
        )
        self._client = Client(transport=self._transport, fetch_schema_from_transport=False)
        self._session: Any = None

    async def connect(self) -> None:
        self._session = await self._client.connect_async(reconnecting=False)  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        session = self._transport.session
        await self._client.close_async()  # type: ignore[no-untyped-call]
        if session is not None and not session.closed:
            await session.close()  # gql leaves it open over a connector it does not own; the connector stays
        self._session = None

    async def send(self, document: str, variables: dict[str, Any]) -> ShopifyAnswer:
        transport = self._transport
        transport.last_status, transport.last_headers = 0, None
        request = _PreparedRequest(document, variables)
        try:
            result = await self._session.execute(request, get_execution_result=True)
            return self._answer(data=result.data, errors=result.errors, extensions=result.extensions)
        except TransportQueryError as exc:
            return self._answer(data=exc.data, errors=exc.errors, extensions=exc.extensions)
        except TransportServerError as exc:
            return self._answer(status=exc.code or 500, body_problem=str(exc)[:200])
        except TransportProtocolError as exc:
            return self._answer(status=transport.last_status or 200, body_problem=str(exc)[:200])
        except (TransportConnectionFailed, aiohttp.ClientError, OSError) as exc:
            return ShopifyAnswer(status=0, connection_problem=f"{type(exc).__name__}: {exc}"[:200])
        except TimeoutError:
            return ShopifyAnswer(status=0, connection_problem="timed out")

    def _answer(self, *, status: int | None = None, **parts: Any) -> ShopifyAnswer:
        headers = self._transport.last_headers or {}
        return ShopifyAnswer(
            status=status if status is not None else self._transport.last_status,
            retry_after=parse_retry_after(headers.get("Retry-After"), time.time()),
            served_version=headers.get("X-Shopify-API-Version"),
            **parts,
        )
