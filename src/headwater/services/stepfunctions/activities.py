"""Activity tasks waiting for workers: one FIFO per activity, and GetActivityTask long polls.

Implements the worker side of https://docs.aws.amazon.com/step-functions/latest/dg/concepts-activities.html :
a Task state whose Resource is an activity ARN puts (task token, input) here; a worker's
``GetActivityTask`` takes the oldest one or waits up to 60 seconds for one; the driver then
records ``ActivityStarted``.  The queues live in memory: after a restart the driver re-issues
every activity task still scheduled, so nothing is lost (a worker may see it twice).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

# AWS: GetActivityTask holds the connection for up to 60 seconds.
POLL_SECONDS = 60.0


class ActivityQueues:
    def __init__(self, picked: Callable[[str], None], valid: Callable[[str], bool]) -> None:
        self._picked = picked
        self._valid = valid
        self._tasks: dict[str, deque[tuple[str, str]]] = {}
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    def push(self, activity_arn: str, token: str, input_text: str) -> None:
        self._tasks.setdefault(activity_arn, deque()).append((token, input_text))
        waiting = self._waiting.get(activity_arn)
        while waiting:
            future = waiting.popleft()
            if not future.done():
                future.set_result(None)
                break

    def take(self, activity_arn: str) -> tuple[str, str] | None:
        """The oldest task still wanted, without waiting."""
        queue = self._tasks.get(activity_arn)
        while queue:
            token, input_text = queue.popleft()
            if self._valid(token):  # stopped executions leave stale entries behind
                self._picked(token)
                return token, input_text
        return None

    async def get(self, activity_arn: str, timeout: float = POLL_SECONDS) -> tuple[str, str] | None:
        found = self.take(activity_arn)
        if found is not None or timeout <= 0:
            return found
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            self._waiting.setdefault(activity_arn, deque()).append(future)
            try:
                await asyncio.wait_for(future, max(0.0, deadline - loop.time()))
            except TimeoutError:
                return None
            found = self.take(activity_arn)
            if found is not None:
                return found

    def drop(self, activity_arn: str) -> None:
        self._tasks.pop(activity_arn, None)
