from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shopify_bridge.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open_writer(tmp_path / "store.db")
    yield opened
    opened.close()
