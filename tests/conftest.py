"""Shared fixtures: paths to the reference data in ../shared (skipped with a reason when absent)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
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


# -- the store's two backends ----------------------------------------------------------------------
# Tests that take `database` run once on an SQLite file and once on PostgreSQL. The PostgreSQL server
# comes from SHOPIFY_BRIDGE_TEST_POSTGRES (a URL whose user may create schemas; `.ci/run` starts a
# throwaway one with scripts/throwaway-postgres); each test gets a schema of its own on it. Without the
# variable those runs skip with a reason, except under CI, where they fail: CI must run them.
TEST_POSTGRES = "SHOPIFY_BRIDGE_TEST_POSTGRES"
BACKENDS = ("sqlite", "postgresql")


def postgres_server_url() -> str:
    url = os.environ.get(TEST_POSTGRES, "").strip()
    if not url:
        if os.environ.get(REQUIRE_SHARED):
            pytest.fail(f"{TEST_POSTGRES} is not set but {REQUIRE_SHARED} is: CI must run the PostgreSQL tests")
        pytest.skip(f"no PostgreSQL server for the tests: set {TEST_POSTGRES} (the README says how)")
    return url


def with_search_path(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema` (libpq's `options` parameter)."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections see an empty schema of this test's own (dropped after it)."""
    import psycopg

    server = postgres_server_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield with_search_path(server, schema)
    with psycopg.connect(server, autocommit=True) as conn:
        # Connections a test left open must not hang the suite: give up the drop rather than wait.
        conn.execute("SET lock_timeout = '2s'")
        with contextlib.suppress(psycopg.Error):
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The config's `database` for one test: an SQLite file, or a PostgreSQL URL (see `postgres_url`)."""
    if request.param == "sqlite":
        return tmp_path / "bridge.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


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
