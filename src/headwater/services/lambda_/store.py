"""How Lambda persists: tables and statements, nothing else.

Functions, their versions ($LATEST is the row that updates replace), aliases, resource
policies, event invoke configs, the asynchronous-invocation queue, event source mappings and
the invocation logs all live in the one SQLite store, so every acknowledged write survives a
restart and pending asynchronous events are picked up again on boot.  Structured values
(configuration, routing, destinations) are JSON columns: they are read and written whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.services.lambda_.configuration import Code, Config, Version
from headwater.store import Store

Key = tuple[str, str, str]  # (account, region, function name)

MIGRATIONS = [
    """
    CREATE TABLE lambda_functions (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
        created REAL NOT NULL, next_version INTEGER NOT NULL DEFAULT 1,
        concurrency INTEGER, tags TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (account, region, name));
    CREATE TABLE lambda_versions (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,
        seq INTEGER NOT NULL, config BLOB NOT NULL, code BLOB NOT NULL, revision_id TEXT NOT NULL,
        last_modified REAL NOT NULL, description TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (account, region, name, version));
    CREATE TABLE lambda_aliases (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, alias TEXT NOT NULL,
        version TEXT NOT NULL, description TEXT NOT NULL, routing TEXT NOT NULL,
        revision_id TEXT NOT NULL,
        PRIMARY KEY (account, region, name, alias));
    CREATE TABLE lambda_policies (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, qualifier TEXT NOT NULL,
        statements TEXT NOT NULL, revision_id TEXT NOT NULL,
        PRIMARY KEY (account, region, name, qualifier));
    CREATE TABLE lambda_event_configs (
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, qualifier TEXT NOT NULL,
        doc TEXT NOT NULL, last_modified REAL NOT NULL,
        PRIMARY KEY (account, region, name, qualifier));
    CREATE TABLE lambda_async (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, qualifier TEXT,
        payload BLOB NOT NULL, request_id TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        enqueued REAL NOT NULL, due REAL NOT NULL);
    CREATE INDEX lambda_async_due ON lambda_async (due);
    CREATE TABLE lambda_mappings (
        uuid TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,
        function_name TEXT NOT NULL, doc TEXT NOT NULL, last_modified REAL NOT NULL);
    CREATE TABLE lambda_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
        at REAL NOT NULL, request_id TEXT NOT NULL, text TEXT NOT NULL);
    CREATE INDEX lambda_logs_function ON lambda_logs (name, id)
    """,
]

_VERSION_COLUMNS = "version, config, code, revision_id, last_modified, description"


@dataclass(frozen=True, slots=True)
class FunctionRow:
    key: Key
    created: float
    next_version: int
    concurrency: int | None
    tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class AsyncEvent:
    id: int
    key: Key
    qualifier: str | None
    payload: bytes
    request_id: str
    attempts: int
    enqueued: float
    due: float


# Log entries kept per function (the newest); older ones are pruned as new ones arrive, so a
# busy function cannot grow the database without bound.
LOGS_KEPT = 10_000
_PRUNE_EVERY = 500


class LambdaStore:
    def __init__(self, store: Store) -> None:
        self.db = store
        store.migrate("lambda", MIGRATIONS)
        self._appended: dict[Key, int] = {}

    def transaction(self) -> Any:
        return self.db.transaction()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self.db.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.db.execute(sql, params).fetchone()

    # -- functions ------------------------------------------------------------------------

    def function(self, key: Key) -> FunctionRow | None:
        row = self._one(
            "SELECT created, next_version, concurrency, tags FROM lambda_functions"
            " WHERE account=? AND region=? AND name=?",
            key,
        )
        if row is None:
            return None
        return FunctionRow(key, row[0], row[1], row[2], orjson.loads(row[3]))

    def insert_function(self, key: Key, created: float, tags: dict[str, str]) -> None:
        self.db.execute(
            "INSERT INTO lambda_functions (account, region, name, created, tags)"
            " VALUES (?, ?, ?, ?, ?)",
            (*key, created, orjson.dumps(tags).decode()),
        )

    def function_names(self, account: str, region: str, after: str | None, limit: int) -> list[str]:
        rows = self._all(
            "SELECT name FROM lambda_functions WHERE account=? AND region=? AND name>?"
            " ORDER BY name LIMIT ?",
            (account, region, after or "", limit),
        )
        return [r[0] for r in rows]

    def usage(self, account: str, region: str) -> tuple[int, int]:
        """(number of functions, total size of their stored packages)."""
        count = self._one(
            "SELECT COUNT(*) FROM lambda_functions WHERE account=? AND region=?", (account, region)
        )[0]
        total = 0
        for (code,) in self._all(
            "SELECT code FROM lambda_versions WHERE account=? AND region=?", (account, region)
        ):
            total += int(orjson.loads(code)["size"])
        return int(count), total

    def set_concurrency(self, key: Key, value: int | None) -> None:
        self.db.execute(
            "UPDATE lambda_functions SET concurrency=? WHERE account=? AND region=? AND name=?",
            (value, *key),
        )

    def reserved_total(self, account: str, region: str, besides: str) -> int:
        row = self._one(
            "SELECT COALESCE(SUM(concurrency), 0) FROM lambda_functions"
            " WHERE account=? AND region=? AND name<>?",
            (account, region, besides),
        )
        return int(row[0])

    def set_tags(self, key: Key, tags: dict[str, str]) -> None:
        self.db.execute(
            "UPDATE lambda_functions SET tags=? WHERE account=? AND region=? AND name=?",
            (orjson.dumps(tags).decode(), *key),
        )

    def bump_version(self, key: Key) -> int:
        row = self.function(key)
        assert row is not None
        self.db.execute(
            "UPDATE lambda_functions SET next_version=next_version+1"
            " WHERE account=? AND region=? AND name=?",
            key,
        )
        return row.next_version

    def delete_function(self, key: Key) -> None:
        for table in (
            "lambda_functions",
            "lambda_versions",
            "lambda_aliases",
            "lambda_policies",
            "lambda_event_configs",
            "lambda_async",
        ):
            self.db.execute(f"DELETE FROM {table} WHERE account=? AND region=? AND name=?", key)

    # -- versions -------------------------------------------------------------------------

    def version(self, key: Key, version: str) -> Version | None:
        row = self._one(
            f"SELECT {_VERSION_COLUMNS} FROM lambda_versions"
            " WHERE account=? AND region=? AND name=? AND version=?",
            (*key, version),
        )
        return _version(row) if row else None

    def versions(self, key: Key) -> list[Version]:
        rows = self._all(
            f"SELECT {_VERSION_COLUMNS} FROM lambda_versions"
            " WHERE account=? AND region=? AND name=? ORDER BY seq",
            key,
        )
        return [_version(r) for r in rows]

    def put_version(self, key: Key, v: Version) -> None:
        seq = 0 if v.version == "$LATEST" else int(v.version)
        self.db.execute(
            "INSERT OR REPLACE INTO lambda_versions (account, region, name, version, seq, config,"
            " code, revision_id, last_modified, description) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                *key,
                v.version,
                seq,
                v.config.to_json(),
                v.code.to_json(),
                v.revision_id,
                v.last_modified,
                v.description,
            ),
        )

    def delete_version(self, key: Key, version: str) -> None:
        self.db.execute(
            "DELETE FROM lambda_versions WHERE account=? AND region=? AND name=? AND version=?",
            (*key, version),
        )

    def code_in_use(self, key: Key, code_id: str) -> bool:
        for version in self.versions(key):
            if version.code.code_id == code_id:
                return True
        return False

    # -- aliases --------------------------------------------------------------------------

    def alias(self, key: Key, alias: str) -> tuple[str, str, dict[str, float], str] | None:
        row = self._one(
            "SELECT version, description, routing, revision_id FROM lambda_aliases"
            " WHERE account=? AND region=? AND name=? AND alias=?",
            (*key, alias),
        )
        if row is None:
            return None
        return row[0], row[1], orjson.loads(row[2]), row[3]

    def aliases(self, key: Key) -> list[tuple[str, str, str, dict[str, float], str]]:
        rows = self._all(
            "SELECT alias, version, description, routing, revision_id FROM lambda_aliases"
            " WHERE account=? AND region=? AND name=? ORDER BY alias",
            key,
        )
        return [(r[0], r[1], r[2], orjson.loads(r[3]), r[4]) for r in rows]

    def put_alias(
        self,
        key: Key,
        alias: str,
        version: str,
        description: str,
        routing: dict[str, float],
        revision_id: str,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO lambda_aliases (account, region, name, alias, version,"
            " description, routing, revision_id) VALUES (?,?,?,?,?,?,?,?)",
            (*key, alias, version, description, orjson.dumps(routing).decode(), revision_id),
        )

    def delete_alias(self, key: Key, alias: str) -> None:
        self.db.execute(
            "DELETE FROM lambda_aliases WHERE account=? AND region=? AND name=? AND alias=?",
            (*key, alias),
        )

    # -- policies -------------------------------------------------------------------------

    def policy(self, key: Key, qualifier: str) -> tuple[list[dict[str, Any]], str] | None:
        row = self._one(
            "SELECT statements, revision_id FROM lambda_policies"
            " WHERE account=? AND region=? AND name=? AND qualifier=?",
            (*key, qualifier),
        )
        return (orjson.loads(row[0]), row[1]) if row else None

    def put_policy(
        self, key: Key, qualifier: str, statements: list[dict[str, Any]], revision_id: str
    ) -> None:
        if not statements:
            self.db.execute(
                "DELETE FROM lambda_policies WHERE account=? AND region=? AND name=?"
                " AND qualifier=?",
                (*key, qualifier),
            )
            return
        self.db.execute(
            "INSERT OR REPLACE INTO lambda_policies (account, region, name, qualifier,"
            " statements, revision_id) VALUES (?,?,?,?,?,?)",
            (*key, qualifier, orjson.dumps(statements).decode(), revision_id),
        )

    # -- event invoke configs -------------------------------------------------------------

    def event_config(self, key: Key, qualifier: str) -> tuple[dict[str, Any], float] | None:
        row = self._one(
            "SELECT doc, last_modified FROM lambda_event_configs"
            " WHERE account=? AND region=? AND name=? AND qualifier=?",
            (*key, qualifier),
        )
        return (orjson.loads(row[0]), row[1]) if row else None

    def event_configs(self, key: Key) -> list[tuple[str, dict[str, Any], float]]:
        rows = self._all(
            "SELECT qualifier, doc, last_modified FROM lambda_event_configs"
            " WHERE account=? AND region=? AND name=? ORDER BY qualifier",
            key,
        )
        return [(r[0], orjson.loads(r[1]), r[2]) for r in rows]

    def put_event_config(self, key: Key, qualifier: str, doc: dict[str, Any], at: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO lambda_event_configs (account, region, name, qualifier, doc,"
            " last_modified) VALUES (?,?,?,?,?,?)",
            (*key, qualifier, orjson.dumps(doc).decode(), at),
        )

    def delete_event_config(self, key: Key, qualifier: str) -> None:
        self.db.execute(
            "DELETE FROM lambda_event_configs WHERE account=? AND region=? AND name=?"
            " AND qualifier=?",
            (*key, qualifier),
        )

    # -- the asynchronous queue -----------------------------------------------------------

    def enqueue(
        self, key: Key, qualifier: str | None, payload: bytes, request_id: str, now: float
    ) -> None:
        self.db.execute(
            "INSERT INTO lambda_async (account, region, name, qualifier, payload, request_id,"
            " enqueued, due) VALUES (?,?,?,?,?,?,?,?)",
            (*key, qualifier, payload, request_id, now, now),
        )

    def due_events(self, now: float, exclude: Sequence[int], limit: int) -> list[AsyncEvent]:
        # Events already running are skipped (``NOT IN ()`` would need at least one value).
        skip = f" AND id NOT IN ({','.join('?' * len(exclude))})" if exclude else ""
        rows = self._all(
            "SELECT id, account, region, name, qualifier, payload, request_id, attempts,"
            f" enqueued, due FROM lambda_async WHERE due<=?{skip} ORDER BY due, id LIMIT ?",
            (now, *exclude, limit),
        )
        return [
            AsyncEvent(r[0], (r[1], r[2], r[3]), r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows
        ]

    def next_due(self) -> float | None:
        row = self._one("SELECT MIN(due) FROM lambda_async")
        return row[0] if row else None

    def retry_event(self, event_id: int, attempts: int, due: float) -> None:
        self.db.execute(
            "UPDATE lambda_async SET attempts=?, due=? WHERE id=?", (attempts, due, event_id)
        )

    def drop_event(self, event_id: int) -> None:
        self.db.execute("DELETE FROM lambda_async WHERE id=?", (event_id,))

    # -- event source mappings ------------------------------------------------------------

    def mapping(self, uuid: str) -> tuple[str, str, dict[str, Any]] | None:
        row = self._one("SELECT account, region, doc FROM lambda_mappings WHERE uuid=?", (uuid,))
        return (row[0], row[1], orjson.loads(row[2])) if row else None

    def mappings(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        rows = self._all(
            "SELECT uuid, account, region, doc FROM lambda_mappings ORDER BY last_modified, uuid"
        )
        return [(r[0], r[1], r[2], orjson.loads(r[3])) for r in rows]

    def put_mapping(
        self,
        uuid: str,
        account: str,
        region: str,
        function_name: str,
        doc: dict[str, Any],
        at: float,
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO lambda_mappings (uuid, account, region, function_name, doc,"
            " last_modified) VALUES (?,?,?,?,?,?)",
            (uuid, account, region, function_name, orjson.dumps(doc).decode(), at),
        )

    def delete_mapping(self, uuid: str) -> None:
        self.db.execute("DELETE FROM lambda_mappings WHERE uuid=?", (uuid,))

    # -- logs -----------------------------------------------------------------------------

    def append_log(self, key: Key, at: float, request_id: str, text: str) -> None:
        self.db.execute(
            "INSERT INTO lambda_logs (account, region, name, at, request_id, text)"
            " VALUES (?,?,?,?,?,?)",
            (*key, at, request_id, text),
        )
        count = self._appended.get(key, 0) + 1
        self._appended[key] = count
        if count % _PRUNE_EVERY == 0:
            self.db.execute(
                "DELETE FROM lambda_logs WHERE account=? AND region=? AND name=? AND id <="
                " (SELECT id FROM lambda_logs WHERE account=? AND region=? AND name=?"
                " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (*key, *key, LOGS_KEPT),
            )

    def logs(self, name: str, after_id: int, limit: int) -> list[tuple[int, float, str]]:
        rows = self._all(
            "SELECT id, at, text FROM lambda_logs WHERE name=? AND id>? ORDER BY id LIMIT ?",
            (name, after_id, limit),
        )
        return [(r[0], r[1], r[2]) for r in rows]


def _version(row: Sequence[Any]) -> Version:
    return Version(row[0], Config.from_json(row[1]), Code.from_json(row[2]), row[3], row[4], row[5])
