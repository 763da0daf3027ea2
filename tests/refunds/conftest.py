from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.refunds.rig import Rig, running_rig


@pytest.fixture
async def rig(database: Path | str) -> AsyncIterator[Rig]:
    async with running_rig(database) as made:
        yield made
