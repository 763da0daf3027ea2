from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shopify_bridge.store import Store


@pytest.fixture
def store(database: Path | str) -> Iterator[Store]:
    """A migrated, empty store: once on SQLite, once on PostgreSQL."""
    opened = Store.open_writer(database)
    yield opened
    opened.close()
