"""The staging connection every bulk test runs against, both ways."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopify_bridge.shopify.bulk.staging import ensure_schema, open_staging


@pytest.fixture(params=["in-memory", "file"])
def conn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """An in-memory connection bound to its thread: batches are written and read back in line. A staging
    file (`open_staging`): batches are written on the appender's thread and read ahead on connections of
    their own."""
    if request.param == "in-memory":
        connection = sqlite3.connect(":memory:", isolation_level=None)
        ensure_schema(connection)
    else:
        connection = open_staging(tmp_path / "staging.db")
    yield connection
    connection.close()
