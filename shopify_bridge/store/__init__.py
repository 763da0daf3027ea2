"""The SQLite store: one writer (the bridge), any number of read-only readers (TUI, CLI)."""

from shopify_bridge.store.schema import SCHEMA_VERSION, open_reader, open_writer, transaction

__all__ = ["SCHEMA_VERSION", "open_reader", "open_writer", "transaction"]
