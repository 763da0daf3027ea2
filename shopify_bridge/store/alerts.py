"""When the last alert of each kind and source went out: the alerts' rate limit survives a restart."""

from __future__ import annotations

from datetime import datetime

from shopify_bridge.store.db import Sql
from shopify_bridge.timeutil import iso, parse_ts


class AlertLog:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def last_sent(self) -> dict[tuple[str, str], datetime]:
        """(kind, source) → when its last alert went out."""
        rows = self.sql.all("SELECT kind, source, sent_at FROM alerts_sent")
        return {(str(kind), str(source)): parse_ts(str(at)) for kind, source, at in rows}

    def record_sent(self, kind: str, source: str, at: datetime) -> None:
        with self.sql.transaction():
            self.sql.run(
                "INSERT INTO alerts_sent (kind, source, sent_at) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, source) DO UPDATE SET sent_at = excluded.sent_at",
                (kind, source, iso(at)),
            )
