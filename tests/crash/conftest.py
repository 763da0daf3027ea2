"""The crash harness's tests: `-m "not crash"` deselects the slow ones that kill real bridge processes."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "crash: kills real bridge subprocesses at random instants (slow)")
