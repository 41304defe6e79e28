"""Waking long polls: one set of waiting futures per queue, no polling loop.

A ReceiveMessage with WaitTimeSeconds parks on ``Wakeups.wait(queue_id, timeout)``; the model
calls ``notify(queue_id)`` after every commit that may have made a message receivable (a send,
a visibility timeout set to 0, a dead-lettering or redrive into the queue).  Waking is a
``Future.set_result`` on the server's event loop, so a waiting receive runs again on the next
loop iteration.  ``notify`` may also come from another thread (a facade call from a worker);
it then hops onto the loop with ``call_soon_threadsafe``.

Long polling is described at
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html
"""

from __future__ import annotations

import asyncio
import threading


class Wakeups:
    def __init__(self) -> None:
        self._waiting: dict[int, set[asyncio.Future[None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self.closed = False

    async def wait(self, queue_id: int, timeout: float) -> None:
        """Wait until ``queue_id`` is notified or ``timeout`` seconds pass."""
        if self.closed:
            return
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._loop_thread = threading.get_ident()
        future: asyncio.Future[None] = loop.create_future()
        waiting = self._waiting.setdefault(queue_id, set())
        waiting.add(future)
        timer = loop.call_later(max(0.0, timeout), _settle, future)
        try:
            await future
        finally:
            timer.cancel()
            waiting.discard(future)
            if not waiting and self._waiting.get(queue_id) is waiting:
                del self._waiting[queue_id]

    def notify(self, queue_id: int) -> None:
        if queue_id not in self._waiting:
            return
        loop = self._loop
        if loop is None or threading.get_ident() == self._loop_thread:
            self._wake(queue_id)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake, queue_id)

    def _wake(self, queue_id: int) -> None:
        for future in list(self._waiting.get(queue_id, ())):
            _settle(future)

    def close(self) -> None:
        """Release every waiting long poll now and make later waits return at once.

        Called when the server starts shutting down: uvicorn lets in-flight requests finish
        before it stops, and a long poll would otherwise hold shutdown for up to 20 s.
        """
        self.closed = True
        for queue_id in list(self._waiting):
            self._wake(queue_id)

    def waiting(self, queue_id: int) -> int:
        return len(self._waiting.get(queue_id, ()))


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
