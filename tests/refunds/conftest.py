from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.refunds.rig import Rig, running_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with running_rig(tmp_path) as made:
        yield made
