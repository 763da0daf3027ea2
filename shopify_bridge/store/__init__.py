"""The store: the only package that runs SQL on the bridge's database.

`Store` is its face: one object per connection, with a typed API per table family (`sources`, `orders`,
`refunds`, `events`, `outbox`, and `reads` for dashboards and commands) and `transaction()`, the one way
to group writes. No SQL string leaves this package; callers pass and get domain values (dataclasses,
TypedDicts, plain values). The schema and its migrations are in `schema`; connections, transactions and
the statement runner (the one place that knows the driver and its SQL dialect) in `db`.

One writer (the bridge process, holding the writer lock of `writer_lock` and watching its file's identity,
`identity`) and any number of read-only readers (TUI `--attach`, `explain`, `events`, `reconcile`), each on
its own connection. The SQLite file's own concerns (usable path, read-only opening, device and inode) are in
`sqlite_file`; a storage failure (disk full, I/O error, file removed) is a `StorageFailure` (exit 74).
"""

from shopify_bridge.store.db import StorageFailure, storage_failure
from shopify_bridge.store.facade import Store
from shopify_bridge.store.schema import SCHEMA_VERSION, StoreError, open_reader, open_writer, transaction

__all__ = ["SCHEMA_VERSION", "StorageFailure", "Store", "StoreError", "open_reader", "open_writer", "storage_failure",
           "transaction"]
