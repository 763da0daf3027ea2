from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.refunds.rig import Rig, running_rig


@pytest.fixture
async def rig(database: Path | str) -> AsyncIterator[Rig]:
    async with running_rig(database) as made:
        yield made


@pytest.fixture
async def rig_60_days(database: Path | str) -> AsyncIterator[Rig]:
    """A token without read_all_orders: orders older than 60 days are invisible."""
    scopes = ("read_customer_events", "read_customers", "read_orders", "read_products")
    async with running_rig(database, scopes=scopes) as made:
        yield made
