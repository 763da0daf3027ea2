"""Fixtures shared by the operations tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from shopify_bridge.observe.log import configure_logging


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """JSON log lines of the run, captured; the previous logging setup restored afterwards."""
    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging(json_logs=True, stream=stream)
    yield stream
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
