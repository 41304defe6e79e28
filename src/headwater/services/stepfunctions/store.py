"""How Step Functions persists: its tables and every statement run against them.

Tables (all prefixed ``sfn_``):
- ``definitions``: definition texts by SHA-256, shared by state machines, versions and the
  executions that ran them (DescribeStateMachineForExecution shows the definition an
  execution started with, even after an update).
- ``machines``: one row per state machine; ``versions`` and ``aliases`` hang off it.
- ``executions``: one row per STANDARD execution: what Describe/ListExecutions show.  The
  row is a summary; the truth of a running execution is its history.
- ``events``: the history, one row per event, keyed by (execution rowid, event id).  Details
  are the engine's Python values as JSON; the wire form is built when somebody asks.
- ``activities``: activity ARNs (their tasks are in memory: a restart re-issues them).

EXPRESS executions never reach this store (AWS keeps no history for them either).  Nothing here
commits on its own beyond what ``Store.execute`` does; callers group statements in
``store.transaction()`` so a step's events and the execution's new status commit together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.services.stepfunctions.history import HistoryEvent
from headwater.store import Store

MIGRATIONS = [
    """
    CREATE TABLE sfn_definitions (
        sha TEXT PRIMARY KEY,
        definition TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE sfn_machines (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        sha TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        revision_id TEXT NOT NULL,
        logging TEXT NOT NULL,
        tracing TEXT NOT NULL,
        encryption TEXT,
        tags TEXT NOT NULL,
        next_version INTEGER NOT NULL DEFAULT 1
    ) WITHOUT ROWID;
    CREATE TABLE sfn_versions (
        arn TEXT PRIMARY KEY,
        machine_arn TEXT NOT NULL,
        version INTEGER NOT NULL,
        sha TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        revision_id TEXT NOT NULL,
        description TEXT,
        created REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sfn_versions_machine ON sfn_versions (machine_arn, version);
    CREATE TABLE sfn_aliases (
        arn TEXT PRIMARY KEY,
        machine_arn TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT,
        routing TEXT NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sfn_aliases_machine ON sfn_aliases (machine_arn, name);
    CREATE TABLE sfn_executions (
        id INTEGER PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        machine_arn TEXT NOT NULL,
        version_arn TEXT,
        alias_arn TEXT,
        name TEXT NOT NULL,
        sha TEXT NOT NULL,
        role_arn TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        started REAL NOT NULL,
        stopped REAL,
        redrive_count INTEGER NOT NULL DEFAULT 0,
        redrive_date REAL,
        trace_header TEXT,
        test_case TEXT
    );
    CREATE INDEX sfn_executions_machine ON sfn_executions (machine_arn, started);
    CREATE INDEX sfn_executions_running ON sfn_executions (status) WHERE status = 'RUNNING';
    CREATE TABLE sfn_events (
        execution_id INTEGER NOT NULL,
        id INTEGER NOT NULL,
        previous INTEGER NOT NULL,
        timestamp REAL NOT NULL,
        type TEXT NOT NULL,
        details BLOB,
        PRIMARY KEY (execution_id, id)
    ) WITHOUT ROWID;
    CREATE TABLE sfn_activities (
        arn TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created REAL NOT NULL,
        tags TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
]


@dataclass(slots=True)
class MachineRow:
    arn: str
    name: str
    type: str
    sha: str
    role_arn: str
    created: float
    updated: float
    revision_id: str
    logging: dict[str, Any]
    tracing: dict[str, Any]
    encryption: dict[str, Any] | None
    tags: dict[str, str]
    next_version: int


@dataclass(slots=True)
class VersionRow:
    arn: str
    machine_arn: str
    version: int
    sha: str
    role_arn: str
    revision_id: str
    description: str | None
    created: float


@dataclass(slots=True)
class AliasRow:
    arn: str
    machine_arn: str
    name: str
    description: str | None
    routing: list[dict[str, Any]]
    created: float
    updated: float


@dataclass(slots=True)
class ExecutionRow:
    id: int
    arn: str
    machine_arn: str
    version_arn: str | None
    alias_arn: str | None
    name: str
    sha: str
    role_arn: str
    status: str
    input: str
    output: str | None
    error: str | None
    cause: str | None
    started: float
    stopped: float | None
    redrive_count: int
    redrive_date: float | None
    trace_header: str | None
    test_case: str | None


_MACHINE = ("arn, name, type, sha, role_arn, created, updated, revision_id, logging, tracing, "
            "encryption, tags, next_version")
_EXECUTION = ("id, arn, machine_arn, version_arn, alias_arn, name, sha, role_arn, status, input, "
              "output, error, cause, started, stopped, redrive_count, redrive_date, "
              "trace_header, test_case")


def _machine(row: Sequence[Any]) -> MachineRow:
    return MachineRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                      orjson.loads(row[8]), orjson.loads(row[9]),
                      orjson.loads(row[10]) if row[10] else None, orjson.loads(row[11]), row[12])


def sha_of(definition: str) -> str:
    return hashlib.sha256(definition.encode()).hexdigest()


class SfnStore:
    """Statements over the ``sfn_`` tables; one instance per service."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("stepfunctions", MIGRATIONS)

    def transaction(self) -> Any:
        return self.store.transaction()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.store.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.store.execute(sql, params).fetchone()

    # -- definitions --------------------------------------------------------------------

    def put_definition(self, definition: str) -> str:
        sha = sha_of(definition)
        self.store.execute("INSERT OR IGNORE INTO sfn_definitions(sha, definition) VALUES (?, ?)",
                           (sha, definition))
        return sha

    def definition(self, sha: str) -> str:
        row = self._one("SELECT definition FROM sfn_definitions WHERE sha=?", (sha,))
        return str(row[0]) if row else ""

    # -- state machines -----------------------------------------------------------------

    def machine(self, arn: str) -> MachineRow | None:
        row = self._one(f"SELECT {_MACHINE} FROM sfn_machines WHERE arn=?", (arn,))
        return _machine(row) if row else None

    def machines(self) -> list[MachineRow]:
        return [_machine(r) for r in self._all(f"SELECT {_MACHINE} FROM sfn_machines ORDER BY arn")]

    def put_machine(self, m: MachineRow) -> None:
        self.store.execute(
            f"INSERT OR REPLACE INTO sfn_machines({_MACHINE}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m.arn, m.name, m.type, m.sha, m.role_arn, m.created, m.updated, m.revision_id,
             orjson.dumps(m.logging).decode(), orjson.dumps(m.tracing).decode(),
             orjson.dumps(m.encryption).decode() if m.encryption else None,
             orjson.dumps(m.tags).decode(), m.next_version))

    def delete_machine(self, arn: str) -> None:
        with self.store.transaction():
            self.store.execute("DELETE FROM sfn_machines WHERE arn=?", (arn,))
            self.store.execute("DELETE FROM sfn_versions WHERE machine_arn=?", (arn,))
            self.store.execute("DELETE FROM sfn_aliases WHERE machine_arn=?", (arn,))

    # -- versions and aliases -----------------------------------------------------------

    def version(self, arn: str) -> VersionRow | None:
        row = self._one("SELECT arn, machine_arn, version, sha, role_arn, revision_id, "
                        "description, created FROM sfn_versions WHERE arn=?", (arn,))
        return VersionRow(*row) if row else None

    def versions(self, machine_arn: str) -> list[VersionRow]:
        rows = self._all("SELECT arn, machine_arn, version, sha, role_arn, revision_id, "
                         "description, created FROM sfn_versions WHERE machine_arn=? "
                         "ORDER BY version DESC", (machine_arn,))
        return [VersionRow(*r) for r in rows]

    def put_version(self, v: VersionRow) -> None:
        self.store.execute(
            "INSERT INTO sfn_versions(arn, machine_arn, version, sha, role_arn, revision_id, "
            "description, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (v.arn, v.machine_arn, v.version, v.sha, v.role_arn, v.revision_id, v.description,
             v.created))

    def delete_version(self, arn: str) -> None:
        self.store.execute("DELETE FROM sfn_versions WHERE arn=?", (arn,))

    def alias(self, arn: str) -> AliasRow | None:
        row = self._one("SELECT arn, machine_arn, name, description, routing, created, updated "
                        "FROM sfn_aliases WHERE arn=?", (arn,))
        return _alias(row) if row else None

    def aliases(self, machine_arn: str) -> list[AliasRow]:
        rows = self._all("SELECT arn, machine_arn, name, description, routing, created, updated "
                         "FROM sfn_aliases WHERE machine_arn=? ORDER BY name", (machine_arn,))
        return [_alias(r) for r in rows]

    def put_alias(self, a: AliasRow) -> None:
        self.store.execute(
            "INSERT OR REPLACE INTO sfn_aliases(arn, machine_arn, name, description, routing, "
            "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (a.arn, a.machine_arn, a.name, a.description, orjson.dumps(a.routing).decode(),
             a.created, a.updated))

    def delete_alias(self, arn: str) -> None:
        self.store.execute("DELETE FROM sfn_aliases WHERE arn=?", (arn,))

    # -- executions ---------------------------------------------------------------------

    def execution(self, arn: str) -> ExecutionRow | None:
        row = self._one(f"SELECT {_EXECUTION} FROM sfn_executions WHERE arn=?", (arn,))
        return ExecutionRow(*row) if row else None

    def executions(self, machine_arn: str, status: str | None = None,
                   version_arn: str | None = None) -> list[ExecutionRow]:
        sql = f"SELECT {_EXECUTION} FROM sfn_executions WHERE machine_arn=?"
        params: list[Any] = [machine_arn]
        if status:
            sql += " AND status=?"
            params.append(status)
        if version_arn:
            sql += " AND (version_arn=? OR alias_arn=?)"
            params += [version_arn, version_arn]
        sql += " ORDER BY started DESC, id DESC"
        return [ExecutionRow(*r) for r in self._all(sql, params)]

    def running(self) -> list[ExecutionRow]:
        rows = self._all(f"SELECT {_EXECUTION} FROM sfn_executions WHERE status='RUNNING' "
                         "ORDER BY id")
        return [ExecutionRow(*r) for r in rows]

    def insert_execution(self, e: ExecutionRow) -> int:
        cursor = self.store.execute(
            "INSERT INTO sfn_executions(arn, machine_arn, version_arn, alias_arn, name, sha, "
            "role_arn, status, input, started, redrive_count, trace_header, test_case) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e.arn, e.machine_arn, e.version_arn, e.alias_arn, e.name, e.sha, e.role_arn,
             e.status, e.input, e.started, e.redrive_count, e.trace_header, e.test_case))
        return int(cursor.lastrowid or 0)

    def finish_execution(self, execution_id: int, status: str, output: str | None,
                         error: str | None, cause: str | None, stopped: float) -> None:
        self.store.execute(
            "UPDATE sfn_executions SET status=?, output=?, error=?, cause=?, stopped=? "
            "WHERE id=?", (status, output, error, cause, stopped, execution_id))

    def redriven(self, execution_id: int, when: float) -> None:
        self.store.execute(
            "UPDATE sfn_executions SET status='RUNNING', output=NULL, error=NULL, cause=NULL, "
            "stopped=NULL, redrive_count=redrive_count+1, redrive_date=? WHERE id=?",
            (when, execution_id))

    # -- history ------------------------------------------------------------------------

    def append_events(self, execution_id: int, events: Iterable[HistoryEvent]) -> None:
        dumps = orjson.dumps
        rows = [(execution_id, e.id, e.previous_event_id, e.timestamp, e.type,
                 dumps(e.details) if e.details is not None else None) for e in events]
        if rows:
            self.store.executemany(
                "INSERT INTO sfn_events(execution_id, id, previous, timestamp, type, details) "
                "VALUES (?, ?, ?, ?, ?, ?)", rows)

    def events(self, execution_id: int, after: int = 0, limit: int = -1,
               reverse: bool = False) -> list[HistoryEvent]:
        """Events after id ``after`` (before it, when ``reverse``), in that order."""
        if reverse:
            sql = ("SELECT id, previous, timestamp, type, details FROM sfn_events WHERE "
                   "execution_id=? AND id<? ORDER BY id DESC LIMIT ?")
            params: tuple[Any, ...] = (execution_id, after or (1 << 62), limit)
        else:
            sql = ("SELECT id, previous, timestamp, type, details FROM sfn_events WHERE "
                   "execution_id=? AND id>? ORDER BY id LIMIT ?")
            params = (execution_id, after, limit)
        loads = orjson.loads
        return [HistoryEvent(r[0], r[1], r[2], r[3], loads(r[4]) if r[4] is not None else None)
                for r in self._all(sql, params)]

    # -- activities ---------------------------------------------------------------------

    def activity(self, arn: str) -> tuple[str, str, float, dict[str, str]] | None:
        row = self._one("SELECT arn, name, created, tags FROM sfn_activities WHERE arn=?", (arn,))
        return (row[0], row[1], row[2], orjson.loads(row[3])) if row else None

    def activities(self) -> list[tuple[str, str, float]]:
        return [(r[0], r[1], r[2]) for r in
                self._all("SELECT arn, name, created FROM sfn_activities ORDER BY created, arn")]

    def put_activity(self, arn: str, name: str, created: float, tags: dict[str, str]) -> None:
        self.store.execute("INSERT OR REPLACE INTO sfn_activities(arn, name, created, tags) "
                           "VALUES (?, ?, ?, ?)", (arn, name, created, orjson.dumps(tags).decode()))

    def delete_activity(self, arn: str) -> None:
        self.store.execute("DELETE FROM sfn_activities WHERE arn=?", (arn,))

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        text = orjson.dumps(tags).decode()
        self.store.execute("UPDATE sfn_machines SET tags=? WHERE arn=?", (text, arn))
        self.store.execute("UPDATE sfn_activities SET tags=? WHERE arn=?", (text, arn))


def _alias(row: Sequence[Any]) -> AliasRow:
    return AliasRow(row[0], row[1], row[2], row[3], orjson.loads(row[4]), row[5], row[6])
