"""Shared fixtures: paths to the reference data in ../shared (skipped with a reason when absent)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RECORDED = SHARED / "shopify" / "recorded"
REAL_SCHEMA = SHARED / "shopify" / "admin-2026-07.graphql"


REQUIRE_SHARED = "SHOPIFY_BRIDGE_REQUIRE_SHARED"


def pytest_configure(config: pytest.Config) -> None:
    """Under CI (`.ci/run` sets the variable) a missing ../shared is an error, never a quiet skip."""
    if os.environ.get(REQUIRE_SHARED) and not (SHARED / "spec" / "PRODUCT.md").exists():
        raise pytest.UsageError(f"{SHARED} is missing but {REQUIRE_SHARED} is set: the fidelity tests would skip")


def recorded(name: str) -> Any:
    path = RECORDED / name
    if not path.exists():
        pytest.skip(f"reference recording {path} is absent (../shared is not checked out beside the repo)")
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def real_schema() -> Any:
    if not REAL_SCHEMA.exists():
        pytest.skip(f"real Admin schema {REAL_SCHEMA} is absent (../shared is not checked out beside the repo)")
    import graphql

    return graphql.build_schema(REAL_SCHEMA.read_text(), assume_valid=True)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures structlog and the root logger globally; leave them as other tests expect."""
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
