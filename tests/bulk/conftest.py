"""The staging connection every bulk test runs against, both ways."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopify_bridge.shopify.bulk.staging import ensure_schema, open_staging


@pytest.fixture(params=["bound", "shared"])
def conn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A connection bound to its thread: batches are written in line. A staging file opened by
    `open_staging`: batches are written on the appender's thread."""
    if request.param == "bound":
        connection = sqlite3.connect(tmp_path / "staging.db", isolation_level=None)
        ensure_schema(connection)
    else:
        connection = open_staging(tmp_path / "staging.db")
    yield connection
    connection.close()
