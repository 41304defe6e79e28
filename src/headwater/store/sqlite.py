"""The store: SQLite in WAL mode, with per-service schema migrations and transactions.

Why SQLite and why these settings:
- WAL lets readers proceed during a write and makes a commit one append to the log.
- ``synchronous=NORMAL`` in WAL mode means a committed transaction survives the *process*
  being killed (``kill -9``): the log is in the OS page cache and is replayed on the next open.
  Only a power loss can drop the last commits; ``HEADWATER_SYNC=full`` trades speed for that.
- One connection shared by the server's event loop (and, under a lock, by worker threads):
  SQLite serialises writers anyway and a single connection keeps statements cached.
- Checkpoints (copying the log back into the database file, with an fsync) run on a
  background thread with its own connection, not inside whichever request happens to cross
  SQLite's automatic threshold: that request would otherwise stall for the fsync.

``open_store(None)`` gives the in-memory variant with the same SQL, for unit tests.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Store(Protocol):
    """What services need from persistence."""

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor: ...

    def transaction(self) -> Any:
        """Context manager: everything inside commits together or not at all."""
        ...

    def migrate(self, namespace: str, migrations: Sequence[str]) -> None: ...

    def close(self) -> None: ...


class SqliteStore:
    def __init__(self, path: str | Path, *, sync: str | None = None) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=512
        )
        self._conn.execute("PRAGMA foreign_keys=ON")
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            mode = (sync or os.environ.get("HEADWATER_SYNC", "normal")).upper()
            if mode not in ("NORMAL", "FULL"):
                mode = "NORMAL"
            self._conn.execute(f"PRAGMA synchronous={mode}")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.execute("PRAGMA wal_autocheckpoint=0")
            # 64 MiB of page cache (the default is 2 MiB): a 1,000-key listing page touches
            # ~1,000 scattered table pages, and re-reading them from the OS each time cost a
            # third of the page's time at 100,000 keys.  Pages are cached only once read.
            self._conn.execute("PRAGMA cache_size=-65536")
            self._checkpointer: _Checkpointer | None = _Checkpointer(self.path)
        else:
            self._checkpointer = None
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " namespace TEXT NOT NULL, version INTEGER NOT NULL,"
            " PRIMARY KEY (namespace, version))"
        )

    # -- statements ---------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            if self._depth:
                return self._conn.execute(sql, params)
            with self.transaction():
                return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> sqlite3.Cursor:
        with self._lock:
            if self._depth:
                return self._conn.executemany(sql, rows)
            with self.transaction():
                return self._conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read and fetch every row (reads need no transaction of their own)."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested calls join the outermost one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    # -- schema ---------------------------------------------------------------------------

    def migrate(self, namespace: str, migrations: Sequence[str]) -> None:
        """Apply, in order, the migrations of ``namespace`` this database has not seen yet.

        A migration is a SQL script; its position in the list is its version.  Never edit a
        released migration: append a new one.
        """
        with self.transaction() as conn:
            done = {
                v
                for (v,) in conn.execute(
                    "SELECT version FROM schema_migrations WHERE namespace=?", (namespace,)
                )
            }
            for version, script in enumerate(migrations, start=1):
                if version in done:
                    continue
                for statement in _split_sql(script):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations(namespace, version) VALUES (?, ?)",
                    (namespace, version),
                )
                log.info("applied migration %s/%d", namespace, version)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            try:
                if self.path != ":memory:":
                    self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                self._conn.close()


class _Checkpointer:
    """Runs passive WAL checkpoints every ``interval`` seconds on its own thread.

    A passive checkpoint never blocks writers or readers; it copies what it can.  Running it
    here keeps the fsync it ends with off the request path.
    """

    def __init__(self, path: str, interval: float = 1.0) -> None:
        self._path = path
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            while not self._stopping.wait(self._interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    log.warning("background checkpoint failed", exc_info=True)
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (our migrations hold no literal ';')."""
    return [s.strip() for s in script.split(";") if s.strip()]


def open_store(path: str | Path | None) -> SqliteStore:
    """A durable store at ``path``, or the in-memory variant when ``path`` is None."""
    if path is None:
        return SqliteStore(":memory:")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteStore(path)
