"""The fake clock and fake Shopify the poller's tests share."""

from __future__ import annotations

import pytest

from tests.core.test_poller_holds import T0
from tests.fakes import FakeClock, FakeShopify


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def shopify(clock: FakeClock) -> FakeShopify:
    return FakeShopify(clock)
