"""Fixtures for destination tests: a live local receiver and destinations pointed at it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from shopify_bridge.deliver.destinations.base import Outgoing
from shopify_bridge.deliver.destinations.http import HttpDestination
from tests.delivery.receiver import Receiver

NOW_UNIX = 1_777_000_000.0

MakeDestination = Callable[..., Awaitable[HttpDestination]]


def event(event_id: str, **extra: Any) -> Outgoing:
    """An event as the outbox hands it over: its id and the exact JSON bytes."""
    payload = {"event_name": "Placed Order", "event_id": event_id, "properties": extra}
    return Outgoing(event_id, json.dumps(payload, separators=(",", ":")).encode())


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def make_destination(receiver: Receiver) -> AsyncIterator[MakeDestination]:
    """Builds opened destinations (default target: the receiver) and closes them after the test."""
    opened: list[HttpDestination] = []

    async def build(url: str | None = None, **options: Any) -> HttpDestination:
        options.setdefault("clock", lambda: NOW_UNIX)
        destination = HttpDestination("hook", url or receiver.url, **options)
        await destination.open()
        opened.append(destination)
        return destination

    yield build
    for destination in opened:
        await destination.close()
