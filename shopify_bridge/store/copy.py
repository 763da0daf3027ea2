"""`migrate --to postgresql://…`: copy an SQLite store into an empty PostgreSQL database, and prove it.

Every table of the schema is copied whole — sources (cursors, first connections, backfill state),
orders and their versions (holds with their release times), refunds with their settling state, events,
the outbox, errors, when each alert last went out, by when each customer had an order, and `meta` — in
one PostgreSQL transaction: the target holds the whole store or nothing. The SQLite side is read in one
read transaction (one consistent state). Rows keep their seqs (event seqs are what the outbox, orders and
refunds point at), and the identity sequences are moved past them so that new rows follow. Before the
commit every table's row count and highest key are compared; any difference rolls everything back.

Process state is not copied: `workers`, `leases` and the writer heartbeat belong to processes that ran
on the old store, and `database_id` to the SQLite file (its identity witness, `store.identity`). A
delivery that was in flight there is copied as it is; the first process on the new store sends it
again (at-least-once), as after any crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from shopify_bridge.store.postgres import PgSql
from shopify_bridge.store.sql import Sql, StoreError

# In dependency order: deliveries point at events, orders and refunds at event seqs.
TABLES = ("meta", "sources", "orders", "order_versions", "refunds", "events", "deliveries", "errors",
          "alerts_sent", "customer_orders")
IDENTITY = {"order_versions": "seq", "events": "seq", "errors": "seq"}
# The target's own, no process's at all, or the SQLite file's (its identity witness: `store.identity`).
PROCESS_META = ("schema_version", "writer_heartbeat", "database_id")
BATCH_ROWS = 5_000


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows


def _where(table: str) -> str:
    if table == "meta":
        return " WHERE key NOT IN (" + ", ".join(f"'{key}'" for key in PROCESS_META) + ")"
    return ""


def _columns(source: Sql, table: str) -> list[str]:
    cursor = source.cursor(f"SELECT * FROM {table} LIMIT 0")
    return [d[0] for d in cursor.description]


def _fingerprint(sql: Sql, table: str) -> tuple[int, object]:
    """Rows, and the highest key where the table has a seq (a copy that renumbered would differ)."""
    key = IDENTITY.get(table)
    row = sql.one(f"SELECT COUNT(*), {f'MAX({key})' if key else 'NULL'} FROM {table}{_where(table)}")
    return (int(row[0]), row[1]) if row else (0, None)


def target_rows(target: Sql) -> dict[str, int]:
    """Rows already in the target's tables (a migration goes into an empty store only)."""
    return {table: _fingerprint(target, table)[0] for table in TABLES}


def copy_store(source: Sql, target: PgSql) -> list[TableCopy]:
    """Copy every table of `source` into the empty `target` in one transaction; the counts compared.

    Raises StoreError (and leaves the target as it was) when the target is not empty or a count differs.
    """
    report: list[TableCopy] = []
    with source.snapshot(), target.transaction():
        occupied = {table: n for table, n in target_rows(target).items() if n}
        if occupied:
            found = ", ".join(f"{table} {n}" for table, n in occupied.items())
            raise StoreError(f"the target database already holds a store ({found}); migrate only into an empty one",
                             exit_code=78)
        for table in TABLES:
            columns = _columns(source, table)
            cursor = source.cursor(f"SELECT {', '.join(columns)} FROM {table}{_where(table)}")
            target.copy_rows(table, columns, iter(partial(cursor.fetchmany, BATCH_ROWS), []))
            if (key := IDENTITY.get(table)) is not None:
                target.restart_identity(table, key)
        for table in TABLES:
            (have, have_key), (got, got_key) = _fingerprint(source, table), _fingerprint(target, table)
            report.append(TableCopy(table, have, got))
            if have != got or have_key != got_key:
                raise StoreError(f"copy of {table} does not match: {have} rows (highest key {have_key}) in SQLite, "
                                 f"{got} (highest key {got_key}) in PostgreSQL; nothing was committed")
    return report
