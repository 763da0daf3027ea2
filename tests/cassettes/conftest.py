"""Fixtures of the cassette tests: a harness pointed at a loopback port where nothing listens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cassettes.scenarios import Harness


@pytest.fixture
def harness(tmp_path: Path, unused_tcp_port: int) -> Harness:
    # Not the port the cassettes were recorded with: replay is port-independent, and if anything
    # slipped past the cassette it would hit a closed port and fail loudly.
    return Harness(api_url=f"http://127.0.0.1:{unused_tcp_port}", workdir=tmp_path)
