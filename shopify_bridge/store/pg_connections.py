"""Where a PostgreSQL runner gets its connection: a psycopg_pool pool of one, which reconnects by itself.

The runner (`postgres.PgSql`) holds one connection for as long as it works. When it is lost, the runner
gives it back; the pool drops it and connects again in the background (psycopg_pool's own attempts, with
backoff, for up to `RECONNECT_WINDOW_SECONDS`; a later `take` starts a new round), so no loop of ours
retries connecting and the event loop never waits on a slow connect. `take` waits only briefly for a
connection: while the server is away, statements fail fast with `StoreUnavailable` (75), and the
service decides when to try again and when to give up.

Every connection is autocommit (the runner writes BEGIN … COMMIT itself), carries `application_name`
(`shopify-bridge` unless the URL names one: how an operator finds our sessions in `pg_stat_activity`),
gives up connecting after `connect_timeout` and has TCP keepalives on, so a dead peer is noticed
instead of waited on forever. Messages name the server as host:port/dbname: never the password.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from shopify_bridge.store.sql import StoreUnavailable

APPLICATION_NAME = "shopify-bridge"
LOCK_TIMEOUT = "10s"  # as SQLite's busy timeout: a writer waits this long for a row another one holds
CONNECT_DEFAULTS = {
    "connect_timeout": "10",  # a server that does not answer is given up on after 10 s
    "keepalives": "1",  # and a connection whose peer vanished is found dead within about a minute
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}
FIRST_CONNECT_SECONDS = 15.0  # at start-up: one attempt (bounded by connect_timeout) must have ended by then
TAKE_SECONDS = 2.0  # after a loss: the pool's first reconnect attempt is immediate; wait this long for it
TAKE_IN_OUTAGE_SECONDS = 0.05  # during an outage: take a connection the pool has made, never wait for one
RECONNECT_WINDOW_SECONDS = 30.0  # one round of the pool's reconnect attempts (1 s, 2 s, 4 s … apart)

# The pool logs every failed attempt and every discarded connection; the service logs one line per
# outage instead (service/store_outage.py).
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def endpoint(url: str) -> str:
    """`host:port/dbname` of `url`, for messages (no user, no password, no options)."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "the configured server"
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or params.get('user') or ''}"


class _Attempts:
    """What the pool's connection attempts said: the pool only logs it, our messages need it."""

    def __init__(self) -> None:
        self.error: str | None = None
        self.first = threading.Event()  # the first attempt has ended, either way

    def ended(self, error: BaseException | None) -> None:
        self.error = None if error is None else first_line(error)
        self.first.set()

    def connection_class(self) -> type[psycopg.Connection[Any]]:
        attempts = self

        class Recorded(psycopg.Connection[Any]):
            @classmethod
            def connect(cls, *args: Any, **kwargs: Any) -> Any:
                try:
                    conn = super().connect(*args, **kwargs)
                except psycopg.Error as exc:
                    attempts.ended(exc)
                    raise
                attempts.ended(None)
                return conn

        return Recorded


class Connections:
    """One pooled connection to `url` (see the module doc); `where` names the server in messages."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.where = endpoint(url)
        self.attempts = _Attempts()
        given = conninfo_to_dict(url)
        options: dict[str, Any] = {key: value for key, value in CONNECT_DEFAULTS.items() if key not in given}
        options["autocommit"] = True
        options.setdefault("application_name", given.get("application_name") or APPLICATION_NAME)

        def configure(conn: psycopg.Connection[Any]) -> None:
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            if read_only:
                conn.execute("SET default_transaction_read_only = on")

        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url, min_size=1, max_size=1, num_workers=1, open=False, name=f"shopify-bridge {self.where}",
            kwargs=options, configure=configure, check=ConnectionPool.check_connection,
            reconnect_timeout=RECONNECT_WINDOW_SECONDS, connection_class=self.attempts.connection_class(),
        )

    @classmethod
    def open(cls, url: str, *, read_only: bool = False) -> Connections:
        connections = cls(url, read_only=read_only)
        connections.pool.open(wait=False)
        if not connections.attempts.first.wait(FIRST_CONNECT_SECONDS) or connections.attempts.error is not None:
            connections.close()
            raise connections.unreachable("cannot connect to PostgreSQL")
        return connections

    def unreachable(self, what: str) -> StoreUnavailable:
        reason = self.attempts.error or "no answer"
        return StoreUnavailable(f"{what} at {self.where}: {reason}")

    def take(self, *, outage: bool = False) -> psycopg.Connection[Any]:
        """The pool's connection (checked alive); StoreUnavailable when it has none ready in time."""
        try:
            return self.pool.getconn(timeout=TAKE_IN_OUTAGE_SECONDS if outage else TAKE_SECONDS)
        except PoolTimeout:
            raise self.unreachable("cannot reach PostgreSQL") from None

    def give_back(self, conn: psycopg.Connection[Any]) -> None:
        """A lost connection: the pool discards it and starts connecting again."""
        try:
            self.pool.putconn(conn)
        except psycopg.Error:
            conn.close()

    def close(self) -> None:
        self.pool.close(timeout=1.0)
