"""The timer scheduler: every Wait, retry back-off, task timeout and heartbeat of every
execution on one heap, served by one asyncio task.

Why not ``loop.call_later`` or a task per execution: ten thousand executions sitting in Wait
states must cost a heap entry each (about 100 bytes) and no CPU, and the timers of a whole
second must fire as one batch so the driver commits their history events in one transaction.
Cancelling is lazy: a cancelled timer stays in the heap and is ignored when it comes due (the
engine drops a ``TimerFired`` for a timer it no longer has), which keeps cancel O(1).

Deadlines are epoch seconds on the injected ``Clock``; ``run_due`` fires what is due now, so a
test with a ``ManualClock`` advances the clock and calls it directly, without the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable, Hashable

from headwater.core.clock import Clock

log = logging.getLogger(__name__)

# Longest nap of the loop: bounds the damage of a clock jump (NTP, a suspended laptop).
MAX_NAP = 1.0

Fire = Callable[[list[Hashable]], None]


class Scheduler:
    """A heap of (deadline, key); ``fire`` gets every key that came due, in deadline order."""

    def __init__(self, clock: Clock, fire: Fire) -> None:
        self.clock = clock
        self._fire = fire
        self._heap: list[tuple[float, int, Hashable]] = []
        self._seq = itertools.count()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, deadline: float, key: Hashable) -> None:
        earliest = self._heap[0][0] if self._heap else None
        heapq.heappush(self._heap, (deadline, next(self._seq), key))
        if self._wake is not None and (earliest is None or deadline < earliest):
            self._wake.set()  # the loop sleeps until the old earliest: wake it sooner

    def next_deadline(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def run_due(self) -> int:
        """Fire every timer whose deadline has passed; returns how many fired."""
        now = self.clock.now()
        due: list[Hashable] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            due.append(heapq.heappop(heap)[2])
        if due:
            try:
                self._fire(due)
            except Exception:
                log.exception("stepfunctions: firing %d timers failed", len(due))
        return len(due)

    # -- the loop -----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="sfn-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        self._wake = None

    async def _run(self) -> None:
        assert self._wake is not None
        wake = self._wake
        while True:
            wake.clear()
            self.run_due()
            deadline = self.next_deadline()
            nap = MAX_NAP if deadline is None else max(0.0, deadline - self.clock.now())
            if nap > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=min(nap, MAX_NAP))
            else:
                await asyncio.sleep(0)  # let requests in between bursts of due timers
