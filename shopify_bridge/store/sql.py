"""`Sql`: the statement runner every table and read module goes through, whatever the database.

One runner per connection. Statements are written with `?` placeholders in the portable subset
(`dialect` supplies the rest); rows come back as plain tuples. `transaction()` is the one way to
group writes (nested use joins the outer transaction; any exception rolls it back), `snapshot()` the
one way to make several reads see one state of the store. The SQLite runner is in `db`, the
PostgreSQL one in `postgres`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from shopify_bridge import exit_codes
from shopify_bridge.errors import StoreError as StoreError  # raised by every store module; defined in the kernel
from shopify_bridge.store.dialect import Dialect

Row = tuple[Any, ...]
# Values per `IN (…)` list: well below every backend's limit on bound parameters.
IN_CHUNK = 500


def in_chunks(items: Sequence[str]) -> list[Sequence[str]]:
    """`items` cut into lists short enough for one `IN (…)` each."""
    return [items[at : at + IN_CHUNK] for at in range(0, len(items), IN_CHUNK)]


def marks(count: int) -> str:
    """`?, ?, …`: the placeholders of an `IN (…)` list of `count` values."""
    return ", ".join("?" * count)


# Rows per statement of `Sql.insert_rows`. One multi-row INSERT binds its rows at once: at 50 rows the
# orders and versions of a 20k-order backfill went in with ~15 % less CPU than with a statement per row.
# 50 rows of the widest table (11 columns) stay far below every backend's limit on bound parameters
# (SQLite's oldest: 999).
INSERT_CHUNK = 50


@lru_cache(maxsize=256)
def _insert_statement(into: str, width: int, rows: int, then: str) -> str:
    row = f"({marks(width)})"
    return f"INSERT INTO {into} VALUES {', '.join([row] * rows)}{then}"


class StoreUnavailable(StoreError):
    """The database server cannot be reached now (connection refused or lost): a temporary failure (75).

    What the lost connection had not committed was rolled back by the server; the next statement gets a
    new connection when there is one. The service retries and gives up only after a bound of its own.
    """

    exit_code = exit_codes.TEMPFAIL


def is_postgres_url(database: object) -> bool:
    """`database` names a PostgreSQL server (the config keeps it a `str`; an SQLite file is a `Path`)."""
    return isinstance(database, str) and database.lower().startswith(("postgresql://", "postgres://"))


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class Sql(ABC):
    dialect: Dialect
    conn: Any  # the driver's connection (sqlite3 or psycopg): for the few callers that need it raw
    errors: tuple[type[BaseException], ...]  # the driver's errors: what a failing statement raises
    # Told of an outage of a database server (a StoreUnavailable), and of its end (None); SQLite has none.
    on_outage: Callable[[StoreUnavailable | None], None] | None = None

    @property
    def session(self) -> int:
        """Which connection statements run on now: it changes when a lost connection is replaced (0: none)."""
        return 1

    @abstractmethod
    def cursor(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; the driver's cursor (`fetchone`, `fetchall`, `description`, `rowcount`)."""

    @abstractmethod
    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one write statement per parameter row; the number of rows changed over all of them."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """BEGIN … COMMIT (a write transaction), rolled back on any exception; nested use joins it."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[None]:
        """Every read inside sees one state of the store; nested use (or inside a transaction) joins."""

    @property
    @abstractmethod
    def in_transaction(self) -> bool: ...

    @abstractmethod
    def change_counter(self) -> int:
        """A number that moves when something may have been committed by another connection."""

    @abstractmethod
    def close(self) -> None: ...

    # -- shared on top of `cursor` ------------------------------------------------------------
    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self.cursor(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(self.cursor(sql, params).fetchall())

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement; the number of rows it changed."""
        return int(self.cursor(sql, params).rowcount)

    def insert_rows(self, into: str, rows: Sequence[Sequence[Any]], then: str = "") -> int:
        """`INSERT INTO <into> VALUES (…), (…), … <then>` of `rows`, `INSERT_CHUNK` rows a statement; the
        number of rows changed. `into` is the table and its columns, every row as wide; `then` an
        `ON CONFLICT …` clause, if any (a statement must not hold one key twice: PostgreSQL refuses it)."""
        inserted = 0
        for at in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[at : at + INSERT_CHUNK]
            statement = _insert_statement(into, len(chunk[0]), len(chunk), then and f" {then}")
            inserted += self.run(statement, [value for row in chunk for value in row])
        return inserted

    def returning(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Run an `INSERT … RETURNING …`; the returned row, or None when the insert did nothing.

        The cursor is read to its end: an SQLite statement left half-stepped would hold up the commit.
        """
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column name (as the SELECT names them)."""
        cursor = self.cursor(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
