"""How SQS persists: its tables, and every statement the model runs against them.

Tables (all prefixed ``sqs_``):
- ``queues``: one row per queue; attributes and tags as JSON, the FIFO sequence counter.
  Ids are never reused, so a receipt handle or a long poll of a deleted queue cannot reach
  a new queue of the same name.
- ``messages``: one row per stored message.  ``visible_at`` is when it can next be received
  (send time plus delay, or the end of its visibility timeout); a non-null ``receipt`` marks a
  message that has been received, so ``receipt IS NOT NULL AND visible_at > now`` is "in flight"
  and ``receipt IS NULL AND visible_at > now`` is "delayed".  The rowid is the send order, which
  FIFO delivery follows.
- ``dedup``: FIFO deduplication ids seen in the last five minutes, per queue (and per message
  group when the queue's DeduplicationScope is messageGroup).
- ``receive_attempts``: FIFO ReceiveRequestAttemptIds seen in the last five minutes.
- ``move_tasks``: message move tasks (DLQ redrive), kept after they end for ListMessageMoveTasks.

Each model operation runs its statements inside one ``transaction()``; nothing here commits on
its own.  The statements are chosen so each request is a few indexed lookups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from headwater.store import Store

MIGRATIONS = [
    """
    CREATE TABLE sqs_queues (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        attributes TEXT NOT NULL,
        tags TEXT NOT NULL,
        created REAL NOT NULL,
        modified REAL NOT NULL,
        sequence INTEGER NOT NULL DEFAULT 0,
        purged REAL,
        UNIQUE (account, region, name)
    );
    CREATE TABLE sqs_messages (
        id INTEGER PRIMARY KEY,
        queue_id INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        body TEXT NOT NULL,
        md5_body TEXT NOT NULL,
        attributes BLOB,
        md5_attributes TEXT,
        system_attributes BLOB,
        md5_system TEXT,
        group_id TEXT,
        dedup_id TEXT,
        sequence TEXT,
        sender_id TEXT NOT NULL,
        sent REAL NOT NULL,
        visible_at REAL NOT NULL,
        receive_count INTEGER NOT NULL DEFAULT 0,
        first_receive REAL,
        last_receive REAL,
        receipt TEXT,
        attempt_id TEXT,
        dlq_source TEXT
    );
    CREATE INDEX sqs_messages_visible ON sqs_messages (queue_id, visible_at);
    CREATE INDEX sqs_messages_sent ON sqs_messages (queue_id, sent);
    CREATE INDEX sqs_messages_group ON sqs_messages (queue_id, group_id, visible_at)
        WHERE group_id IS NOT NULL;
    CREATE INDEX sqs_messages_grouped ON sqs_messages (queue_id) WHERE group_id IS NOT NULL;
    CREATE TABLE sqs_dedup (
        queue_id INTEGER NOT NULL,
        scope TEXT NOT NULL,
        dedup_id TEXT NOT NULL,
        expires REAL NOT NULL,
        message_id TEXT NOT NULL,
        sequence TEXT,
        PRIMARY KEY (queue_id, scope, dedup_id)
    ) WITHOUT ROWID;
    CREATE TABLE sqs_receive_attempts (
        queue_id INTEGER NOT NULL,
        attempt_id TEXT NOT NULL,
        expires REAL NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (queue_id, attempt_id)
    ) WITHOUT ROWID;
    CREATE TABLE sqs_move_tasks (
        id INTEGER PRIMARY KEY,
        task_id TEXT NOT NULL UNIQUE,
        source_arn TEXT NOT NULL,
        destination_arn TEXT,
        rate INTEGER,
        status TEXT NOT NULL,
        to_move INTEGER NOT NULL,
        moved INTEGER NOT NULL DEFAULT 0,
        started REAL NOT NULL,
        failure TEXT
    );
    CREATE INDEX sqs_move_tasks_source ON sqs_move_tasks (source_arn, id);
    """,
]

QueueRow = tuple[int, str, str, str, str, str, float, float, int, float | None]
# id, message_id, body, md5_body, attributes, md5_attributes, system_attributes, group_id,
# dedup_id, sequence, sender_id, sent, receive_count, first_receive, dlq_source, receipt,
# visible_at
MessageRow = tuple[Any, ...]
TaskRow = tuple[int, str, str, str | None, int | None, str, int, int, float, str | None]

_MESSAGE = (
    "id, message_id, body, md5_body, attributes, md5_attributes, system_attributes, group_id, "
    "dedup_id, sequence, sender_id, sent, receive_count, first_receive, dlq_source, receipt, "
    "visible_at"
)
_TASK = "id, task_id, source_arn, destination_arn, rate, status, to_move, moved, started, failure"


class SqsStore:
    def __init__(self, store: Store) -> None:
        self._store = store
        store.migrate("sqs", MIGRATIONS)

    def transaction(self) -> Any:
        return self._store.transaction()

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._store.execute(sql, params).fetchall()

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._store.execute(sql, params).fetchone()

    # -- queues -------------------------------------------------------------------------

    def load_queues(self) -> list[QueueRow]:
        return self._rows(
            "SELECT id, account, region, name, attributes, tags, created, modified, sequence, "
            "purged FROM sqs_queues"
        )

    def insert_queue(
        self, account: str, region: str, name: str, attributes: str, tags: str, now: float
    ) -> int:
        cursor = self._store.execute(
            "INSERT INTO sqs_queues (account, region, name, attributes, tags, created, modified)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (account, region, name, attributes, tags, now, now),
        )
        return int(cursor.lastrowid or 0)

    def update_attributes(self, queue_id: int, attributes: str, now: float) -> None:
        self._store.execute(
            "UPDATE sqs_queues SET attributes = ?, modified = ? WHERE id = ?",
            (attributes, now, queue_id),
        )

    def update_tags(self, queue_id: int, tags: str) -> None:
        self._store.execute("UPDATE sqs_queues SET tags = ? WHERE id = ?", (tags, queue_id))

    def set_sequence(self, queue_id: int, sequence: int) -> None:
        self._store.execute("UPDATE sqs_queues SET sequence = ? WHERE id = ?", (sequence, queue_id))

    def set_purged(self, queue_id: int, now: float) -> None:
        self._store.execute("UPDATE sqs_queues SET purged = ? WHERE id = ?", (now, queue_id))
        self._store.execute("DELETE FROM sqs_messages WHERE queue_id = ?", (queue_id,))

    def delete_queue(self, queue_id: int) -> None:
        for table in ("sqs_messages", "sqs_dedup", "sqs_receive_attempts"):
            self._store.execute(f"DELETE FROM {table} WHERE queue_id = ?", (queue_id,))
        self._store.execute("DELETE FROM sqs_queues WHERE id = ?", (queue_id,))

    # -- sending ------------------------------------------------------------------------

    def insert_messages(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of (queue_id, message_id, body, md5_body, attributes, md5_attributes,
        system_attributes, md5_system, group_id, dedup_id, sequence, sender_id, sent,
        visible_at)."""
        self._store.executemany(
            "INSERT INTO sqs_messages (queue_id, message_id, body, md5_body, attributes, "
            "md5_attributes, system_attributes, md5_system, group_id, dedup_id, sequence, "
            "sender_id, sent, visible_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def find_dedup(
        self, queue_id: int, scope: str, dedup_id: str, now: float
    ) -> tuple[str, str | None] | None:
        row = self._one(
            "SELECT message_id, sequence FROM sqs_dedup WHERE queue_id = ? AND scope = ? "
            "AND dedup_id = ? AND expires > ?",
            (queue_id, scope, dedup_id, now),
        )
        return (row[0], row[1]) if row else None

    def remember_dedup(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of (queue_id, scope, dedup_id, expires, message_id, sequence)."""
        self._store.executemany(
            "INSERT OR REPLACE INTO sqs_dedup (queue_id, scope, dedup_id, expires, message_id, "
            "sequence) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    # -- receiving ----------------------------------------------------------------------

    def ready(self, queue_id: int, now: float, cutoff: float, limit: int) -> list[MessageRow]:
        """Visible, unexpired messages, longest-visible first (standard queues)."""
        return self._rows(
            f"SELECT {_MESSAGE} FROM sqs_messages INDEXED BY sqs_messages_visible "
            "WHERE queue_id = ? AND visible_at <= ? AND sent > ? ORDER BY visible_at LIMIT ?",
            (queue_id, now, cutoff, limit),
        )

    def ready_fifo(self, queue_id: int, now: float, cutoff: float, limit: int) -> list[MessageRow]:
        """Visible messages in send order, from groups with nothing in flight and no earlier
        message still hidden (FIFO queues).  Walks the queue's messages in rowid (send) order
        and stops at ``limit``."""
        return self._rows(
            f"SELECT {_MESSAGE} FROM sqs_messages AS m INDEXED BY sqs_messages_grouped "
            "WHERE m.queue_id = ?1 AND m.group_id IS NOT NULL AND m.visible_at <= ?2 "
            "AND m.sent > ?3 AND NOT EXISTS ("
            " SELECT 1 FROM sqs_messages AS b INDEXED BY sqs_messages_group"
            " WHERE b.queue_id = ?1 AND b.group_id = m.group_id AND b.visible_at > ?2"
            " AND (b.receipt IS NOT NULL OR b.id < m.id)) "
            "ORDER BY m.id LIMIT ?4",
            (queue_id, now, cutoff, limit),
        )

    def mark_received(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of (visible_at, now, receipt, attempt_id, id)."""
        self._store.executemany(
            "UPDATE sqs_messages SET visible_at = ?1, receive_count = receive_count + 1, "
            "first_receive = COALESCE(first_receive, ?2), last_receive = ?2, receipt = ?3, "
            "attempt_id = ?4 WHERE id = ?5",
            rows,
        )

    def move(
        self,
        row_id: int,
        queue_id: int,
        now: float,
        *,
        dlq_source: str | None,
        reset_count: bool,
        sent: float | None,
    ) -> None:
        """Put a message in another queue, visible now (dead-lettering and redrive)."""
        self._store.execute(
            "UPDATE sqs_messages SET queue_id = ?, visible_at = ?, receipt = NULL, "
            "attempt_id = NULL, dlq_source = ?, sent = COALESCE(?, sent), "
            "receive_count = CASE WHEN ? THEN 0 ELSE receive_count END, "
            "first_receive = CASE WHEN ? THEN NULL ELSE first_receive END WHERE id = ?",
            (queue_id, now, dlq_source, sent, reset_count, reset_count, row_id),
        )

    def attempt_size(self, queue_id: int, attempt_id: str, now: float) -> int | None:
        row = self._one(
            "SELECT size FROM sqs_receive_attempts WHERE queue_id = ? AND attempt_id = ? "
            "AND expires > ?",
            (queue_id, attempt_id, now),
        )
        return int(row[0]) if row else None

    def attempt_messages(self, queue_id: int, attempt_id: str) -> list[MessageRow]:
        return self._rows(
            f"SELECT {_MESSAGE} FROM sqs_messages WHERE queue_id = ? AND attempt_id = ? "
            "ORDER BY id",
            (queue_id, attempt_id),
        )

    def remember_attempt(self, queue_id: int, attempt_id: str, expires: float, size: int) -> None:
        self._store.execute(
            "INSERT OR REPLACE INTO sqs_receive_attempts (queue_id, attempt_id, expires, size) "
            "VALUES (?, ?, ?, ?)",
            (queue_id, attempt_id, expires, size),
        )

    def set_visible_at(self, row_ids: Sequence[int], visible_at: float) -> None:
        self._store.executemany(
            "UPDATE sqs_messages SET visible_at = ? WHERE id = ?",
            [(visible_at, row_id) for row_id in row_ids],
        )

    # -- deleting and changing visibility ------------------------------------------------

    def lookup(self, row_id: int) -> tuple[int, str | None, float, float | None] | None:
        """(queue_id, receipt, visible_at, last_receive) of a message row, if it exists."""
        row = self._one(
            "SELECT queue_id, receipt, visible_at, last_receive FROM sqs_messages WHERE id = ?",
            (row_id,),
        )
        return (row[0], row[1], row[2], row[3]) if row else None

    def delete_received(self, rows: Sequence[tuple[int, int, str]]) -> None:
        """Delete messages by (id, queue_id, receipt); a stale receipt deletes nothing."""
        self._store.executemany(
            "DELETE FROM sqs_messages WHERE id = ? AND queue_id = ? AND receipt = ?", rows
        )

    def change_visibility(self, row_id: int, visible_at: float) -> None:
        self._store.execute(
            "UPDATE sqs_messages SET visible_at = ?, attempt_id = NULL WHERE id = ?",
            (visible_at, row_id),
        )

    # -- counting and housekeeping -------------------------------------------------------

    def counts(self, queue_id: int, now: float, cutoff: float) -> tuple[int, int, int]:
        """(visible, in flight, delayed) message counts."""
        visible = self._one(
            "SELECT COUNT(*) FROM sqs_messages INDEXED BY sqs_messages_visible "
            "WHERE queue_id = ? AND visible_at <= ? AND sent > ?",
            (queue_id, now, cutoff),
        )[0]
        hidden = self._rows(
            "SELECT receipt IS NOT NULL, COUNT(*) FROM sqs_messages "
            "INDEXED BY sqs_messages_visible WHERE queue_id = ? AND visible_at > ? "
            "AND sent > ? GROUP BY 1",
            (queue_id, now, cutoff),
        )
        by_kind = {bool(kind): count for kind, count in hidden}
        return int(visible), by_kind.get(True, 0), by_kind.get(False, 0)

    def next_visible_at(self, queue_id: int, now: float) -> float | None:
        """When the next hidden (delayed or in-flight) message becomes visible."""
        row = self._one(
            "SELECT MIN(visible_at) FROM sqs_messages WHERE queue_id = ? AND visible_at > ?",
            (queue_id, now),
        )
        return float(row[0]) if row and row[0] is not None else None

    def expire(self, queue_id: int, cutoff: float) -> int:
        cursor = self._store.execute(
            "DELETE FROM sqs_messages WHERE queue_id = ? AND sent <= ?", (queue_id, cutoff)
        )
        return int(cursor.rowcount)

    def forget_expired(self, now: float) -> None:
        self._store.execute("DELETE FROM sqs_dedup WHERE expires <= ?", (now,))
        self._store.execute("DELETE FROM sqs_receive_attempts WHERE expires <= ?", (now,))

    # -- message move tasks --------------------------------------------------------------

    def insert_task(
        self,
        task_id: str,
        source_arn: str,
        destination_arn: str | None,
        rate: int | None,
        to_move: int,
        now: float,
    ) -> None:
        self._store.execute(
            "INSERT INTO sqs_move_tasks (task_id, source_arn, destination_arn, rate, status, "
            "to_move, started) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?)",
            (task_id, source_arn, destination_arn, rate, to_move, now),
        )

    def tasks_of(self, source_arn: str, limit: int) -> list[TaskRow]:
        return self._rows(
            f"SELECT {_TASK} FROM sqs_move_tasks WHERE source_arn = ? ORDER BY id DESC LIMIT ?",
            (source_arn, limit),
        )

    def task(self, task_id: str) -> TaskRow | None:
        row: TaskRow | None = self._one(
            f"SELECT {_TASK} FROM sqs_move_tasks WHERE task_id = ?", (task_id,)
        )
        return row

    def running_tasks(self) -> list[TaskRow]:
        return self._rows(f"SELECT {_TASK} FROM sqs_move_tasks WHERE status = 'RUNNING'")

    def update_task(
        self, task_id: str, status: str, moved: int, failure: str | None = None
    ) -> None:
        self._store.execute(
            "UPDATE sqs_move_tasks SET status = ?, moved = ?, failure = ? WHERE task_id = ?",
            (status, moved, failure, task_id),
        )
