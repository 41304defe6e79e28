"""How map runs persist: the run record and its item ledger.

Tables (their own migration namespace, ``stepfunctions-maprun``):
- ``sfn_map_runs``: one row per map run: the parent execution, what the engine evaluated
  (the ``StartMapRun`` effect, as JSON), the live settings UpdateMapRun changes, status,
  times, and the output once it succeeded (replay reads it back: the parent's history says
  only ``MapRunSucceeded``).
- ``sfn_map_items``: the ledger, one row per child (item or batch): its input, status, the
  child execution's ARN once started, its output or error. A restart re-runs only the rows
  that are not finished; a RUNNING row's STANDARD child resumes from its own history.

Rows are written inside the caller's ``store.transaction()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from headwater.store import Store

MIGRATIONS = [
    """
    CREATE TABLE sfn_map_runs (
        arn TEXT PRIMARY KEY,
        execution_arn TEXT NOT NULL,
        spec TEXT NOT NULL,
        status TEXT NOT NULL,
        max_concurrency INTEGER NOT NULL,
        tolerated_percentage REAL NOT NULL,
        tolerated_count INTEGER NOT NULL,
        started REAL NOT NULL,
        stopped REAL,
        output TEXT,
        error TEXT,
        cause TEXT
    ) WITHOUT ROWID;
    CREATE INDEX sfn_map_runs_execution ON sfn_map_runs (execution_arn, started);
    CREATE TABLE sfn_map_items (
        map_run_arn TEXT NOT NULL,
        idx INTEGER NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        child_arn TEXT,
        output TEXT,
        error TEXT,
        cause TEXT,
        started REAL,
        stopped REAL,
        PRIMARY KEY (map_run_arn, idx)
    ) WITHOUT ROWID;
    CREATE INDEX sfn_map_items_child ON sfn_map_items (child_arn);
    """,
    """
    ALTER TABLE sfn_map_runs ADD COLUMN redrive_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sfn_map_runs ADD COLUMN redrive_date REAL;
    """,
]


@dataclass(slots=True)
class MapRunRow:
    arn: str
    execution_arn: str
    spec: dict[str, Any]
    status: str
    max_concurrency: int
    tolerated_percentage: float
    tolerated_count: int
    started: float
    stopped: float | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    redrive_count: int = 0
    redrive_date: float | None = None


@dataclass(slots=True)
class ItemRow:
    index: int
    status: str  # PENDING, RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED
    input: Any
    child_arn: str | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    started: float | None = None
    stopped: float | None = None


_RUN = ("arn, execution_arn, spec, status, max_concurrency, tolerated_percentage, "
        "tolerated_count, started, stopped, output, error, cause, redrive_count, redrive_date")


def _run(row: Sequence[Any]) -> MapRunRow:
    return MapRunRow(row[0], row[1], orjson.loads(row[2]), *row[3:])


class MapRunStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate("stepfunctions-maprun", MIGRATIONS)

    def transaction(self) -> Any:
        return self.store.transaction()

    def insert(self, run: MapRunRow, items: list[Any]) -> None:
        self.store.execute(
            f"INSERT INTO sfn_map_runs({_RUN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run.arn, run.execution_arn, orjson.dumps(run.spec).decode(), run.status,
             run.max_concurrency, run.tolerated_percentage, run.tolerated_count, run.started,
             None, None, None, None, run.redrive_count, run.redrive_date))
        self.store.executemany(
            "INSERT INTO sfn_map_items(map_run_arn, idx, status, input) VALUES (?, ?, ?, ?)",
            [(run.arn, i, "PENDING", orjson.dumps(v).decode()) for i, v in enumerate(items)])

    def run(self, arn: str) -> MapRunRow | None:
        row = self.store.execute(f"SELECT {_RUN} FROM sfn_map_runs WHERE arn=?",
                                 (arn,)).fetchone()
        return _run(row) if row else None

    def runs(self, execution_arn: str) -> list[MapRunRow]:
        rows = self.store.execute(f"SELECT {_RUN} FROM sfn_map_runs WHERE execution_arn=? "
                                  "ORDER BY started DESC, arn", (execution_arn,)).fetchall()
        return [_run(r) for r in rows]

    def items(self, arn: str) -> list[ItemRow]:
        loads = orjson.loads
        rows = self.store.execute(
            "SELECT idx, status, input, child_arn, output, error, cause, started, stopped "
            "FROM sfn_map_items WHERE map_run_arn=? ORDER BY idx", (arn,)).fetchall()
        return [ItemRow(r[0], r[1], loads(r[2]), r[3], loads(r[4]) if r[4] is not None
                        else None, r[5], r[6], r[7], r[8]) for r in rows]

    def item_started(self, arn: str, index: int, child_arn: str, when: float) -> None:
        self.store.execute("UPDATE sfn_map_items SET status='RUNNING', child_arn=?, started=? "
                           "WHERE map_run_arn=? AND idx=?", (child_arn, when, arn, index))

    def item_finished(self, arn: str, index: int, status: str, output: Any, error: str | None,
                      cause: str | None, when: float) -> None:
        self.store.execute(
            "UPDATE sfn_map_items SET status=?, output=?, error=?, cause=?, stopped=? "
            "WHERE map_run_arn=? AND idx=?",
            (status, orjson.dumps(output).decode() if status == "SUCCEEDED" else None, error,
             cause, when, arn, index))

    def update_settings(self, arn: str, max_concurrency: int, percentage: float,
                        count: int) -> None:
        self.store.execute("UPDATE sfn_map_runs SET max_concurrency=?, tolerated_percentage=?, "
                           "tolerated_count=? WHERE arn=?", (max_concurrency, percentage,
                                                             count, arn))

    def finish(self, arn: str, status: str, output: Any, error: str | None,
               cause: str | None, when: float) -> None:
        self.store.execute(
            "UPDATE sfn_map_runs SET status=?, output=?, error=?, cause=?, stopped=? "
            "WHERE arn=?", (status, orjson.dumps(output).decode() if status == "SUCCEEDED"
                            else None, error, cause, when, arn))

    def redriven(self, arn: str, redrive_count: int, when: float) -> None:
        """The run goes on: RUNNING again, and every child that did not succeed is PENDING."""
        self.store.execute(
            "UPDATE sfn_map_runs SET status='RUNNING', output=NULL, error=NULL, cause=NULL, "
            "stopped=NULL, redrive_count=?, redrive_date=? WHERE arn=?",
            (redrive_count, when, arn))
        self.store.execute(
            "UPDATE sfn_map_items SET status='PENDING', child_arn=NULL, output=NULL, "
            "error=NULL, cause=NULL, started=NULL, stopped=NULL "
            "WHERE map_run_arn=? AND status!='SUCCEEDED'", (arn,))

    def forget(self, arn: str) -> None:
        self.store.execute("DELETE FROM sfn_map_items WHERE map_run_arn=?", (arn,))
        self.store.execute("DELETE FROM sfn_map_runs WHERE arn=?", (arn,))

    def child_map_run(self, child_arn: str) -> str | None:
        row = self.store.execute("SELECT map_run_arn FROM sfn_map_items WHERE child_arn=?",
                                 (child_arn,)).fetchone()
        return str(row[0]) if row else None


__all__ = ["ItemRow", "MapRunRow", "MapRunStore"]
