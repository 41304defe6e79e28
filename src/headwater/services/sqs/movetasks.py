"""Message move tasks: redriving messages out of a dead-letter queue.

Implements StartMessageMoveTask, ListMessageMoveTasks and CancelMessageMoveTask
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html).
A task moves the messages of a queue that is some queue's DLQ either to a named destination or
back to the queue each message was dead-lettered from, at most MaxNumberOfMessagesPerSecond
when given.  Tasks are rows in the store; ``step`` advances every running one by what the
clock allows, so the worker that calls it can stop and resume across restarts.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from headwater.services.sqs import errors
from headwater.services.sqs.model import Queue, Sqs
from headwater.services.sqs.queues import dead_letter_sources
from headwater.services.sqs.store import TaskRow

MAX_RATE = 500
MAX_LISTED = 10
STEP_LIMIT = 500  # messages one step moves per task, to keep each transaction short
NON_EXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"


@dataclass(frozen=True, slots=True)
class MoveTask:
    task_id: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    status: str  # RUNNING | COMPLETED | CANCELLING | CANCELLED | FAILED
    to_move: int
    moved: int
    started: float
    failure: str | None

    @property
    def handle(self) -> str:
        return encode_handle(self.task_id, self.source_arn)

    @staticmethod
    def of(row: TaskRow) -> MoveTask:
        _, task_id, source, destination, rate, status, to_move, moved, started, failure = row
        return MoveTask(
            task_id, source, destination, rate, status, to_move, moved, started, failure
        )


def encode_handle(task_id: str, source_arn: str) -> str:
    raw = json.dumps({"taskId": task_id, "sourceArn": source_arn}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_handle(handle: str) -> tuple[str, str]:
    try:
        document = json.loads(base64.b64decode(handle.encode(), validate=True))
        task_id, source_arn = document["taskId"], document["sourceArn"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.invalid_parameter("Value for parameter TaskHandle is invalid.") from None
    if not isinstance(task_id, str) or not isinstance(source_arn, str):
        raise errors.invalid_parameter("Value for parameter TaskHandle is invalid.")
    return task_id, source_arn


def start(
    sqs: Sqs, source_arn: str, destination_arn: str | None = None, rate: int | None = None
) -> MoveTask:
    if rate is not None and not 1 <= rate <= MAX_RATE:
        raise errors.invalid_parameter(
            "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must "
            f"enter a number that's between 1 and {MAX_RATE}."
        )
    source = sqs.queue_by_arn(source_arn)
    if source is None:
        raise errors.resource_not_found("SourceArn")
    if not dead_letter_sources(sqs, source):
        raise errors.invalid_parameter("Source queue must be configured as a Dead Letter Queue.")
    if destination_arn is not None and sqs.queue_by_arn(destination_arn) is None:
        raise errors.resource_not_found("DestinationArn")
    now = sqs.clock.now()
    visible, _, _ = sqs.counts(source)
    task_id = sqs.ids.uuid()
    with sqs.db.transaction():
        if any(t[5] == "RUNNING" for t in sqs.db.tasks_of(source_arn, MAX_LISTED)):
            raise errors.invalid_parameter(
                "There is already a task running. Only one active task is allowed for a source "
                "queue arn at a given time."
            )
        sqs.db.insert_task(task_id, source_arn, destination_arn, rate, visible, now)
    return MoveTask(task_id, source_arn, destination_arn, rate, "RUNNING", visible, 0, now, None)


def cancel(sqs: Sqs, handle: str) -> MoveTask:
    task_id, source_arn = decode_handle(handle)
    if sqs.queue_by_arn(source_arn) is None:
        raise errors.resource_not_found("SourceArn")
    with sqs.db.transaction():
        row = sqs.db.task(task_id)
        if row is None or row[2] != source_arn or row[5] != "RUNNING":
            # Only a running task can be cancelled; a finished one is as good as gone.
            raise errors.task_does_not_exist()
        task = MoveTask.of(row)
        # Moves happen in short synchronous steps, so CANCELLING is over at once.
        sqs.db.update_task(task_id, "CANCELLED", task.moved)
    return MoveTask(
        task.task_id,
        task.source_arn,
        task.destination_arn,
        task.rate,
        "CANCELLED",
        task.to_move,
        task.moved,
        task.started,
        None,
    )


def list_tasks(sqs: Sqs, source_arn: str, max_results: int | None = None) -> list[MoveTask]:
    limit = 1 if max_results is None else max_results
    if not 1 <= limit <= MAX_LISTED:
        raise errors.invalid_parameter(
            "Value for parameter MaxResults is invalid. Reason: You must enter a number that's "
            f"between 1 and {MAX_LISTED}."
        )
    if sqs.queue_by_arn(source_arn) is None:
        raise errors.resource_not_found("SourceArn")
    with sqs.db.transaction():
        return [MoveTask.of(row) for row in sqs.db.tasks_of(source_arn, limit)]


def step(sqs: Sqs) -> bool:
    """Move what each running task may move by now; True while any task is still running."""
    now = sqs.clock.now()
    running = False
    woken: set[int] = set()
    with sqs.db.transaction():
        for row in sqs.db.running_tasks():
            if _advance(sqs, MoveTask.of(row), now, woken):
                running = True
    for queue_id in woken:
        sqs.notify(queue_id)
    return running


def _advance(sqs: Sqs, task: MoveTask, now: float, woken: set[int]) -> bool:
    source = sqs.queue_by_arn(task.source_arn)
    if source is None:
        sqs.db.update_task(task.task_id, "FAILED", task.moved, NON_EXISTENT_QUEUE)
        return False
    remaining = task.to_move - task.moved
    allowance = remaining
    if task.rate is not None:
        allowance = min(allowance, int(task.rate * (now - task.started)) - task.moved)
    if remaining <= 0:
        sqs.db.update_task(task.task_id, "COMPLETED", task.moved)
        return False
    if allowance <= 0:
        return True  # waiting for the rate to allow the next message
    select = sqs.db.ready_fifo if source.fifo else sqs.db.ready
    rows = select(source.id, now, now - source.settings.retention, min(allowance, STEP_LIMIT))
    moved = task.moved
    for row in rows:
        target = _destination(sqs, task, row[14])
        if target is None:
            sqs.db.update_task(task.task_id, "FAILED", moved, NON_EXISTENT_QUEUE)
            return False
        # A redriven message starts over in its new queue: visible now, never received.
        sqs.db.move(row[0], target.id, now, dlq_source=None, reset_count=True, sent=None)
        woken.add(target.id)
        moved += 1
    if not rows or moved >= task.to_move:
        sqs.db.update_task(task.task_id, "COMPLETED", moved)
        return False
    sqs.db.update_task(task.task_id, "RUNNING", moved)
    return True


def _destination(sqs: Sqs, task: MoveTask, dlq_source: str | None) -> Queue | None:
    if task.destination_arn is not None:
        return sqs.queue_by_arn(task.destination_arn)
    if dlq_source is None:
        return None
    return sqs.queue_by_arn(dlq_source)
