"""`migrate --to postgresql://…`: move this config's SQLite store to a PostgreSQL database.

The bridge must be stopped (its writer lock, or a fresh writer heartbeat, refuses the copy: what it
wrote afterwards would be left behind); the copy holds the writer lock itself until it is done. The
copy is one transaction on the PostgreSQL side and its row counts are compared before it commits
(`store.copy`). The config is not edited: the last line says what to change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shopify_bridge import exit_codes
from shopify_bridge.cli.console import console, lit, styled
from shopify_bridge.config import Config
from shopify_bridge.config.values import checked_postgres_url
from shopify_bridge.errors import BridgeError
from shopify_bridge.store import Store, postgres
from shopify_bridge.store.copy import TableCopy, copy_store
from shopify_bridge.store.sql import is_postgres_url, safe_url
from shopify_bridge.store.writer_heartbeat import read_heartbeat

WRITER_QUIET = timedelta(seconds=30)  # a heartbeat younger than this: a bridge may still be writing


def migrate(config: Config, *, to: str) -> int:
    if not isinstance(config.database, Path):
        raise BridgeError(f"migrate copies an SQLite store; this config's database is already "
                          f"{safe_url(config.database)}", exit_code=exit_codes.USAGE)
    try:
        if not is_postgres_url(to):
            raise ValueError("is not a PostgreSQL URL (postgresql://user@host/dbname)")
        url = checked_postgres_url(to)
    except ValueError as exc:
        raise BridgeError(f"--to {safe_url(to)} {exc}", exit_code=exit_codes.USAGE) from None
    if not config.database.exists():
        raise BridgeError(f"no database at {config.database}: nothing to migrate", exit_code=exit_codes.CONFIG)
    # The writer lock, held until the copy is done: no bridge writes what the copy would leave behind (a
    # running one is refused with 75); and the store at this build's schema version.
    guard = Store.open_writer(config.database, synchronous=config.synchronous, exclusive=True)
    try:
        report = _copy(config.database, url)
    finally:
        guard.close()
    out = console()
    for table in report:
        out.print(f"{table.table:<15} {table.source_rows:>9} rows copied, {table.target_rows:>9} in PostgreSQL")
    out.print(styled("migrated ", lit(config.database), " to ", lit(safe_url(url)), ": every table's count matches"))
    out.print(styled('next: set database = "', lit(safe_url(url)),
                     '" in the config (password as before) and start the bridge'))
    return exit_codes.OK


def _copy(database: Path, url: str) -> list[TableCopy]:
    source = Store.open_reader(database)
    try:
        beat = read_heartbeat(source.sql)
        if beat is not None and datetime.now(UTC) - beat.at < WRITER_QUIET:
            raise BridgeError(f"a bridge (pid {beat.pid}) wrote to {database} "
                              f"{(datetime.now(UTC) - beat.at).seconds} s ago: stop it before migrating",
                              exit_code=exit_codes.TEMPFAIL)
        target = postgres.open_writer(url)
        try:
            return copy_store(source.sql, target)
        finally:
            target.close()
    finally:
        source.close()
