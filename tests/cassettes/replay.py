"""Replaying cassettes in tests: the suite's own scenarios, and any cassette dropped into `cassettes/`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from shopify_bridge.errors import BridgeError
from shopify_bridge.shopify.cassette import graphql_payload, record_mode_from_env, vcr_config
from shopify_bridge.shopify.client import ShopifyClient, operation_name
from tests.cassettes.scenarios import SCRUB_KEY

REPO = Path(__file__).resolve().parents[2]
CASSETTES = REPO / "cassettes"
RECORD_HINT = "re-record with: .venv/bin/python scripts/record_cassettes.py"


def cassette_path(name: str) -> Path:
    path = CASSETTES / f"{name}.yaml"
    if not path.exists():
        pytest.fail(f"cassette {path} is missing; {RECORD_HINT}")
    return path


@contextmanager
def replaying(path: Path, record_mode: str | None = None) -> Iterator[Any]:
    """The bridge's vcr configuration on `path`; record mode `none` unless $SHOPIFY_BRIDGE_RECORD says so."""
    config = vcr_config(record_mode or record_mode_from_env(), scrub_key=SCRUB_KEY)
    with config.use_cassette(str(path)) as cassette:
        yield cassette


@dataclass
class Served:
    """One recorded request sent again through the client, and what the client made of the answer."""

    index: int
    operation: str
    data: dict[str, Any] | None = None
    error: BridgeError | None = None
    recorded: Any = None
    """The recorded answer at `index`, decoded when it is JSON."""


async def _no_wait(seconds: float) -> None:
    """Retries and throttle waits of a replay take no time: the answers are already on disk."""


async def _send_graphql(uri: str, payload: dict[str, Any], index: int) -> Served:
    parts = urlsplit(uri)
    segments = parts.path.strip("/").split("/")  # admin/api/<version>/graphql.json
    version = segments[2] if len(segments) >= 4 else "2026-07"
    client = ShopifyClient(
        source_name="replay",
        shop_domain=parts.hostname or "replay.invalid",
        token="replay-token",  # filtered from every cassette: any value matches
        api_version=version,
        api_url=f"{parts.scheme}://{parts.netloc}",
        clock=lambda: 0.0,
        sleep=_no_wait,
    )
    served = Served(index, operation_name(payload["query"]))
    async with client:
        try:
            served.data = await client.execute(payload["query"], payload.get("variables") or None)
        except BridgeError as exc:  # a recorded 401, ACCESS_DENIED, … is an answer too
            served.error = exc
    return served


async def replay_every_request(path: Path) -> list[Served]:
    """Send each recorded request again (GraphQL through `ShopifyClient`); every answer must be served.

    A client retry (THROTTLED, 5xx) consumes the recorded attempts that follow it, exactly as when the
    cassette was recorded; those are skipped here. A request the cassette cannot answer raises.
    """
    served: list[Served] = []
    with replaying(path, "none") as cassette:
        for index, request in enumerate(cassette.requests):
            if cassette.play_counts[index]:
                continue
            payload = graphql_payload(request.body)
            if payload is None:  # e.g. a bulk result download
                async with (
                    aiohttp.ClientSession() as session,
                    session.request(request.method, request.uri) as answer,
                ):
                    await answer.read()
                one = Served(index, f"{request.method} {urlsplit(request.uri).path}")
            else:
                one = await _send_graphql(request.uri, payload, index)
            one.recorded = _decoded(cassette.responses[index])
            served.append(one)
        assert cassette.all_played, f"{path.name}: some recorded answers were never served"
    return served


def _decoded(response: dict[str, Any]) -> Any:
    body = (response.get("body") or {}).get("string") or b""
    try:
        return json.loads(body)
    except ValueError:
        return None


def recorded_answers(path: Path, operation: str) -> list[dict[str, Any]]:
    """The decoded JSON answers a cassette holds for one GraphQL operation, in order."""
    with replaying(path, "none") as cassette:
        pairs = list(zip(cassette.requests, cassette.responses, strict=True))
    out = []
    for request, response in pairs:
        payload = graphql_payload(request.body)
        if payload is not None and operation_name(payload["query"]) == operation:
            out.append(_decoded(response))
    return out
