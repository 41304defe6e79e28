"""SQS's background loops, run inside the app's lifespan.

- retention: deletes messages older than their queue's MessageRetentionPeriod and forgets
  expired deduplication and receive-attempt ids.  Receives and counts already ignore expired
  messages, so this loop only reclaims space and may run rarely.
- message move tasks: advances every RUNNING task (``movetasks.step``) while any is running,
  and otherwise sleeps until a new task is started.  Tasks live in the store, so a restart
  resumes them.

Neither loop is needed for correctness of a single request; both are plain asyncio tasks on the
server's event loop, each iteration one short store transaction.

AWS pages: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
(MessageRetentionPeriod), .../API_StartMessageMoveTask.html.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from headwater.services.sqs import movetasks
from headwater.services.sqs.model import Sqs

log = logging.getLogger(__name__)


class SqsWorkers:
    def __init__(
        self, sqs: Sqs, *, retention_interval: float = 10.0, move_interval: float = 0.05
    ) -> None:
        self.sqs = sqs
        self.retention_interval = retention_interval
        self.move_interval = move_interval
        self._tasks: list[asyncio.Task[None]] = []
        self._started: asyncio.Event | None = None

    async def start(self) -> None:
        self._started = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._retention(), name="sqs-retention"),
            asyncio.create_task(self._move_tasks(), name="sqs-move-tasks"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def poke(self) -> None:
        """A move task was started: run the move loop now rather than at its next wake-up."""
        if self._started is not None:
            self._started.set()

    async def _retention(self) -> None:
        while True:
            try:
                removed = self.sqs.expire()
                if removed:
                    log.info("sqs: %d messages passed their retention period", removed)
            except Exception:
                log.exception("sqs: retention sweep failed")
            await asyncio.sleep(self.retention_interval)

    async def _move_tasks(self) -> None:
        assert self._started is not None
        while True:
            self._started.clear()
            try:
                running = movetasks.step(self.sqs)
            except Exception:
                log.exception("sqs: message move step failed")
                running = False
            if running:
                await asyncio.sleep(self.move_interval)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._started.wait(), timeout=60)
